import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import type { PatchIssue, PatchOptions } from "./patch-issue.ts";
import type { S3ObjectRef } from "./s3-object-arn.ts";
import type { TaskDefinitionJson } from "./task-definition.ts";
import type { RevertContext } from "./take-back.ts";

/**
 * A file the patched revision reads at task start (FireLens's extra Fluent Bit config), rendered from the spec, with
 * how it reaches the task. With `s3`, `apply` keeps the object holding `text` before it registers the revision.
 */
export interface ConfigFile {
  /** What the file is, in plans and logs: "Fluent Bit config". */
  readonly label: string;
  readonly text: string;
  /** A sentence for the reader of `render`: where the file has to be and who puts it there. */
  readonly delivery: string;
  readonly s3?: S3ObjectRef | undefined;
  /** Where in the spec the object is named, for errors about it. */
  readonly path: readonly (string | number)[];
}

export interface PatchContext extends PatchOptions {
  /** `Kind/name` of the spec being applied, for what the patch writes about itself. */
  readonly source: string;
}

export interface PatchResult {
  readonly issues: readonly PatchIssue[];
}

export interface RevertResult {
  /** Why the patch could not be removed; the family is then left as it is. */
  readonly problems: readonly string[];
  /** What the plan says about the removal: a config object left in S3. */
  readonly notes: readonly string[];
}

/**
 * What a kind that patches task definitions plugs into the engine: its part of the family's new revision and nothing
 * else. The engine owns the rest: the family's latest ACTIVE revision, applying every patch of the family together,
 * the normalised comparison, registering, uploading config files, rolling services out.
 */
export interface TaskDefinitionPatch<S = unknown> {
  readonly kind: string;
  /** Kinds are applied in this order, lower first (the router before the volumes), each kind's specs by key. */
  readonly order: number;
  /** The family the spec patches. */
  family(spec: S): string;
  /** The services the spec moves to the new revision. */
  rolloutServices(spec: S): readonly { readonly cluster: string; readonly service: string }[];
  /** The spec's `prune`: whether removing the spec removes its patch. */
  prune(spec: S): boolean;
  /**
   * What `revert` needs to know of the spec once it is gone (the router's name, the shared volume's source), recorded
   * in the tags of every revision the engine registers: names and values of tag characters, short.
   */
  footprint(spec: S): Readonly<Record<string, string>>;
  /**
   * Removes a patch whose spec is gone from `td` (a working copy of the family's latest revision), in place: every
   * field the patch sets goes back to `context.reference`'s value wherever `td` still holds `context.ours`'s (see
   * `takeBack`). Pure apart from changing `td`. Issues are about the removal (a footprint that lacks a name) and carry
   * no path, the spec being gone; notes are what the plan tells about it.
   */
  revert(td: TaskDefinitionJson, context: RevertContext): RevertResult;
  /**
   * Changes `td` (a working copy) in place, setting only what the spec owns, so that applying it again to the result
   * changes nothing. Issues are located in the spec; an error stops the family's plan.
   */
  apply(td: TaskDefinitionJson, spec: S, context: PatchContext): PatchResult;
  /**
   * The file the family's revision reads at task start for this spec, rendered from the spec and `td` as every patch
   * of the family left it (FireLens's config names the routed containers and takes its Grace from their stop
   * timeouts). Undefined when the spec needs none. Pure: `td` is not to be changed.
   */
  configFile?(td: TaskDefinitionJson, spec: S, context: PatchContext): ConfigFile | undefined;
  /**
   * Checks of the patched family as a whole, after every patch: what RegisterTaskDefinition or the task's start would
   * fail on. Run for every family, whichever kinds patch it (a FireLens router left unused by a volume patch is still
   * an error), and reported at this kind's first spec of the family, or the family's first spec.
   */
  lintFamily?(td: TaskDefinitionJson): PatchIssue[];
}

/** The patches the engine knows, by kind. */
export class TaskDefinitionPatches {
  private readonly byKind = new Map<string, TaskDefinitionPatch>();

  constructor(patches: readonly TaskDefinitionPatch[] = []) {
    for (const p of patches) this.add(p);
  }

  add(patch: TaskDefinitionPatch): void {
    const known = this.byKind.get(patch.kind);
    if (known !== undefined && known !== patch)
      throw new Error(`two task definition patches for ${patch.kind}`);
    this.byKind.set(patch.kind, patch);
  }

  /** In apply order. */
  list(): TaskDefinitionPatch[] {
    return [...this.byKind.values()].sort((a, b) => a.order - b.order);
  }

  of(doc: SpecDocument): TaskDefinitionPatch | undefined {
    return this.byKind.get(doc.kind);
  }

  ofKind(kind: string): TaskDefinitionPatch | undefined {
    return this.byKind.get(kind);
  }

  /** The family a spec patches, or undefined for a spec of a kind that patches none. */
  familyOf(doc: SpecDocument): string | undefined {
    return this.of(doc)?.family(doc.spec);
  }

  /** Every spec patching `family`, in resource-key order: the first carries the family's plan. */
  specsOfFamily(documents: readonly SpecDocument[], family: string): SpecDocument[] {
    return documents
      .filter((d) => this.familyOf(d) === family)
      .sort((a, b) => (resourceKey(a) < resourceKey(b) ? -1 : resourceKey(a) > resourceKey(b) ? 1 : 0));
  }

  /** The services the specs move to the new revision, each once, with the spec and index that name it. */
  rolloutServices(
    docs: readonly SpecDocument[],
  ): { cluster: string; service: string; doc: SpecDocument; index: number }[] {
    const seen = new Set<string>();
    const out: { cluster: string; service: string; doc: SpecDocument; index: number }[] = [];
    for (const doc of docs) {
      (this.of(doc)?.rolloutServices(doc.spec) ?? []).forEach((s, index) => {
        const key = `${s.cluster}/${s.service}`;
        if (seen.has(key)) return;
        seen.add(key);
        out.push({ cluster: s.cluster, service: s.service, doc, index });
      });
    }
    return out;
  }
}
