import type { ECSClient } from "@aws-sdk/client-ecs";
import { AwsError } from "../../controllers/aws/errors.ts";
import { sweepsRemove } from "../../controllers/orphan-guard.ts";
import { PassMemo } from "../../controllers/pass-memo.ts";
import {
  StalePlanError,
  sweepKey,
  TerminalError,
  type Change,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import { taskWatchKey } from "../ecs-tasks/ecs-task-api.ts";
import { ConfigBucketNotFoundError, type ConfigObjectStore } from "./config-object-store.ts";
import { planConfigUpload, type DesiredConfigObject } from "./config-upload-plan.ts";
import { formatIssue, patchFamily, type FamilyPatchResult } from "./family-patch.ts";
import {
  baseOf,
  isOurs,
  parentOf,
  MAX_TAGS,
  OWNER_TAG,
  ownerTagValue,
  readRecords,
  recordsOf,
  revisionTags,
  type PatchRecord,
  type Tag,
} from "./revision-record.ts";
import type { TaggedRevision, TaggedRevisionsApi } from "./tagged-revisions-api.ts";
import type { ObservedTaskDefinition, TaskDefinitionApi } from "./task-definition-api.ts";
import {
  cloneTaskDefinition,
  describeDifference,
  sameTaskDefinition,
  type TaskDefinitionJson,
} from "./task-definition.ts";
import { TaskDefinitionPatches, type TaskDefinitionPatch } from "./task-definition-patch.ts";

/** The family got a new revision between plan and apply: retry, do not report as a spec problem. */
export class FamilyChangedError extends StalePlanError {
  override readonly name = "FamilyChangedError";
}

/** How many revisions between a revision of ours and the one it followed are looked at for a deploy it missed. */
const GAP_LOOKBACK = 10;

export { GENERATION_TAG, OWNER_TAG } from "./revision-record.ts";

/** What one family should look like, and what it is built from. */
export interface FamilyDesired {
  readonly family: string;
  readonly docs: readonly SpecDocument[];
  readonly base: ObservedTaskDefinition;
  readonly definition: TaskDefinitionJson;
  /** False when the latest revision already matches: nothing would be registered. */
  readonly changed: boolean;
  readonly difference: string;
  readonly warnings: readonly string[];
  /** A file the revision reads, to deliver as it says (a LogRouter's extra Fluent Bit config). */
  readonly configFile?: FamilyPatchResult["configFile"];
  /** What the revision records of its specs (see revision-record.ts). */
  readonly records: readonly PatchRecord[];
}

export interface TaskDefinitionReconcilerOptions {
  readonly api: TaskDefinitionApi;
  /** The operator's region, the default for `awslogs-region` and output regions; undefined when none is set. */
  readonly region: () => Promise<string | undefined>;
  /**
   * Where `configFile.type: s3` configs are kept. Required to plan a family whose router reads one; `render`,
   * which only calls `desired`, has none.
   */
  readonly configStore?: ConfigObjectStore | undefined;
  /**
   * Finds this operator's revisions across families, for the sweep of removed specs and for a family whose latest
   * revision is the pipeline's. Without it (`render`) nothing is swept.
   */
  readonly tagged?: TaggedRevisionsApi | undefined;
  /** The kinds' patches known from the start (`render`); `forKind` adds the others. */
  readonly patches?: readonly TaskDefinitionPatch[];
}

/** What the engine knows of a family's revisions: the latest, and the newest of this operator's at or below it. */
interface FamilyRevisions {
  readonly latest: ObservedTaskDefinition;
  /** `latest` itself when it is ours; undefined when no revision of ours is known. */
  readonly ours: ObservedTaskDefinition | undefined;
  readonly notes: readonly string[];
}

/** The removal of patches whose specs are gone, as the sweep plans it. */
interface Removal {
  readonly records: readonly PatchRecord[];
  readonly ours: ObservedTaskDefinition;
  readonly reference: ObservedTaskDefinition;
}

/** A service to move to the family's revision, with where it was asked for. */
interface RolloutTarget {
  readonly cluster: string;
  readonly service: string;
  /** `FILE:LINE:COL: Kind/name` of a live spec; for a removed spec's recorded rollout, `Kind/name (removed)`. */
  readonly at: string;
  /** A removed spec's service that is gone is noted, not an error: there is no spec to correct. */
  readonly removed: boolean;
}

/**
 * The task-definition engine: reconciles task definition families for the kinds that plug a patch into it
 * (`TaskDefinitionPatch`: LogRouter, SidecarVolume). Every spec of one family is applied together onto the family's
 * latest ACTIVE revision, so the kinds give one new revision and never undo each other: the first spec of a family
 * (by resource key) carries the family's plan and the others note that they are part of it.
 *
 * Removal: every revision the engine registers records its specs, their `prune` and rollouts, and the pipeline's
 * revision it started from (revision-record.ts). The sweep (`planOrphans`, run only when every spec file is valid)
 * finds this operator's revisions by their owner tag; where the newest of a family records a spec that no longer
 * patches it, a pruned one's patch is taken back (`TaskDefinitionPatch.revert`) and the family's live specs applied
 * again, in one new revision; a kept one is noted and left. While such a removal is pending, the sweep carries the
 * family's plan in a pass that also sweeps. The engine never deregisters, nor registers from, a revision it does not
 * read as the latest: a pipeline's revision stays the pipeline's. Under `run`, where reconciles of single specs know
 * nothing of the other spec files, a live spec's reconcile carries removed specs' records on and the sweep's key does
 * the removal; should both register at once, the second finds the family changed and is retried.
 */
export class TaskDefinitionReconciler {
  private readonly api: TaskDefinitionApi;
  private readonly region: () => Promise<string | undefined>;
  private readonly configStore: ConfigObjectStore | undefined;
  private readonly tagged: TaggedRevisionsApi | undefined;
  private readonly ownRevisions = new PassMemo<TaggedRevision[] | AwsError>();
  /** Families the sweep found nothing to do in, by what it read: skipped until one of those changes. */
  private readonly settled = new Map<string, string>();
  readonly patches: TaskDefinitionPatches;

  constructor(options: TaskDefinitionReconcilerOptions) {
    this.api = options.api;
    this.region = options.region;
    this.configStore = options.configStore;
    this.tagged = options.tagged;
    this.patches = new TaskDefinitionPatches(options.patches);
  }

  /** The `Reconciler` of a kind that patches task definitions, delegating to this engine. */
  forKind(patch: TaskDefinitionPatch, order = 30): Reconciler {
    this.patches.add(patch);
    const familyOf = (doc: SpecDocument) => this.patches.familyOf(doc);
    return {
      kind: patch.kind,
      order,
      plan: (doc, ctx) => this.plan(doc, ctx),
      planOrphans: (ctx) => this.planOrphans(patch.kind, ctx),
      // A pipeline that registers a revision usually deploys it next: the rolled-out services' changes wake the
      // family, and the periodic pass catches a revision registered without a deploy. `taskdef:FAMILY` groups the
      // specs of one family, so that an edit to any of them wakes the one that carries the family's plan.
      watches: (doc) => [
        ...this.patches.rolloutServices([doc]).map((s) => taskWatchKey(s)),
        ...(familyOf(doc) !== undefined ? [`taskdef:${familyOf(doc)}`] : []),
      ],
    };
  }

  /** The revision `apply` would register for the family of `docs` (all of one family), read from AWS. */
  async desired(family: string, docs: readonly SpecDocument[], signal?: AbortSignal): Promise<FamilyDesired> {
    const base = await this.latestOf(family, docs, signal);
    return this.desiredFrom(family, docs, base, base.definition);
  }

  private async latestOf(
    family: string,
    docs: readonly SpecDocument[],
    signal?: AbortSignal,
  ): Promise<ObservedTaskDefinition> {
    const first = docs[0];
    if (first === undefined) throw new Error(`no spec patches family ${family}`);
    const base = await this.api.describeLatest(family, signal);
    if (base === undefined) {
      const p = first.positionOf(["spec", "family"]);
      throw new TerminalError(
        `${p.file}:${p.line}:${p.col}: ${resourceKey(first)}: family ${family} has no ACTIVE task definition ` +
          "revision. The operator patches a family and does not create one: register it first (e.g. from your " +
          "deploy pipeline).",
      );
    }
    return base;
  }

  /** `docs` applied onto `start` (the latest revision, or a copy of it with removed patches taken back). */
  private async desiredFrom(
    family: string,
    docs: readonly SpecDocument[],
    base: ObservedTaskDefinition,
    start: TaskDefinitionJson,
  ): Promise<FamilyDesired> {
    const result = patchFamily(start, docs, { region: await this.region() }, this.patches);
    if (result.errors.length > 0) throw new TerminalError(result.errors.map(formatIssue).join("\n"));
    const changed = !sameTaskDefinition(base.definition, result.definition);
    return {
      family,
      docs,
      base,
      definition: result.definition,
      changed,
      difference: changed ? describeDifference(base.definition, result.definition) : "",
      warnings: result.warnings.map(formatIssue),
      configFile: result.configFile,
      records: recordsOf(docs, this.patches),
    };
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const family = this.patches.familyOf(doc);
    if (family === undefined) throw new Error(`${resourceKey(doc)} does not patch a task definition`);
    const docs = this.patches.specsOfFamily([...ctx.documents.filter((d) => d !== doc), doc], family);
    const owner = docs[0]!;
    const noop = (note: string): ResourcePlan => ({
      key: resourceKey(doc),
      kind: doc.kind,
      changes: [],
      notes: [note],
      apply: async () => {},
    });
    if (resourceKey(owner) !== resourceKey(doc)) {
      return noop(`patched together with ${resourceKey(owner)}: one revision of family ${family}`);
    }
    const observed = await this.latestOf(family, docs, ctx.signal);
    const { revision: latest, note } = await this.revisionToPatch(family, observed, ctx);
    // In a pass that also sweeps (every spec file valid), the sweep carries a family with a removal pending, so that
    // the removal and the live specs' changes make one revision.
    // Only when the sweep will carry it: under the default owner id the sweep removes nothing (its plans become
    // notes), and a revision of ours without a recorded base cannot have a patch taken back; the live specs' changes
    // are then planned here, or they would be lost with the sweep's plan.
    if (ctx.sweeping === true && sweepsRemove(ctx.ownerId)) {
      const revisions = await this.revisionsOf(family, latest, ctx);
      const pruned = this.pendingRemovals(family, revisions.ours, ctx).filter((r) => r.prune);
      const first = pruned[0];
      if (first !== undefined && revisions.ours !== undefined && baseOf(revisions.ours.tags) !== undefined) {
        return noop(
          `family ${family}: planned by the ${sweepKey(first.kind)} sweep, together with the removal of ` +
            `${pruned.map((r) => r.key).join(" and ")}`,
        );
      }
    }
    const plan = await this.planRevision({
      family,
      docs,
      latest,
      observed,
      key: resourceKey(doc),
      kind: doc.kind,
      ctx,
    });
    return note === undefined ? plan : { ...plan, notes: [...(plan.notes ?? []), note] };
  }

  /**
   * The revision to patch: the latest ACTIVE one, unless that is ours and was registered over a deploy. ECS registers
   * without a condition, so a pipeline's revision registered between the family check and RegisterTaskDefinition
   * leaves ours latest, built on the revision before the pipeline's; patching ours again changes nothing, and that
   * deploy would be undone for good. Ours records the latest revision it followed (`parent`): an ACTIVE revision that
   * is not ours in the gap after it is that deploy, and the newest such is patched instead. Read from AWS, so a crash
   * between the two registrations is repaired too.
   */
  private async revisionToPatch(
    family: string,
    latest: ObservedTaskDefinition,
    ctx: ReconcileContext,
  ): Promise<{ revision: ObservedTaskDefinition; note?: string }> {
    const parent = isOurs(latest.tags, ctx.ownerId) ? parentOf(latest.tags) : undefined;
    if (parent === undefined || latest.revision <= parent + 1) return { revision: latest };
    const lowest = Math.max(parent + 1, latest.revision - GAP_LOOKBACK);
    for (let r = latest.revision - 1; r >= lowest; r--) {
      const between = await this.api.describe(`${family}:${r}`, ctx.signal);
      const active = (between?.status ?? "ACTIVE") === "ACTIVE";
      if (between === undefined || !active || isOurs(between.tags, ctx.ownerId)) continue;
      return {
        revision: between,
        note:
          `revision ${latest.revision}, ours, was registered after revision ${r} without it (planned on revision ` +
          `${parent}): revision ${r} is patched instead`,
      };
    }
    return { revision: latest };
  }

  /**
   * The removals of patches whose specs are gone, for the families this kind's sweep carries: a family goes to the
   * sweep of its first pending pruned record's kind (by key), or its first pending kept one's.
   */
  async planOrphans(kind: string, ctx: ReconcileContext): Promise<ResourcePlan[]> {
    if (this.tagged === undefined) return [];
    const listed = await this.ownRevisionsOf(ctx);
    if (listed instanceof AwsError) {
      if (kind !== this.patches.list()[0]?.kind) return [];
      return [
        {
          key: sweepKey(kind),
          kind,
          changes: [],
          notes: [
            `this operator's task definition revisions cannot be listed (${listed.code}): patches of removed ` +
              "LogRouter and SidecarVolume specs are not looked for; grant what `iam-policy` prints to sweep them",
          ],
          apply: async () => {},
        },
      ];
    }
    const newest = new Map<string, TaggedRevision>();
    for (const r of listed) {
      const seen = newest.get(r.family);
      if (seen === undefined || seen.revision < r.revision) newest.set(r.family, r);
    }
    for (const family of this.settled.keys()) if (!newest.has(family)) this.settled.delete(family);
    const plans: ResourcePlan[] = [];
    for (const [family, tagged] of [...newest].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const pending = this.pendingRemovals(family, tagged, ctx);
      const carrier = pending.find((r) => r.prune) ?? pending[0];
      if (carrier === undefined || carrier.kind !== kind) continue;
      plans.push(...(await this.planRemoval(family, tagged, ctx)));
    }
    return plans;
  }

  /** The records of `ours` whose specs no longer patch `family` (removed, or moved to another family). */
  private pendingRemovals(
    family: string,
    ours: { readonly tags: readonly { key: string; value: string }[] } | undefined,
    ctx: ReconcileContext,
  ): PatchRecord[] {
    if (ours === undefined) return [];
    const live = new Set(this.patches.specsOfFamily(ctx.documents, family).map(resourceKey));
    return readRecords(ours.tags).filter(
      (r) => !live.has(r.key) && this.patches.ofKind(r.kind) !== undefined,
    );
  }

  private async planRemoval(
    family: string,
    tagged: TaggedRevision,
    ctx: ReconcileContext,
  ): Promise<ResourcePlan[]> {
    const kept = (records: readonly PatchRecord[]): ResourcePlan[] =>
      records
        .filter((r) => !r.prune)
        .map((r) => ({
          key: r.key,
          kind: r.kind,
          changes: [],
          notes: [
            `removed without prune: true: its patch stays in family ${family} as it is, no longer managed`,
          ],
          apply: async () => {},
        }));
    // Said from the listing alone: a kept patch needs no read of the family.
    const listed = this.pendingRemovals(family, tagged, ctx);
    if (!listed.some((r) => r.prune)) return kept(listed);
    const latest = await this.api.describeLatest(family, ctx.signal);
    // A family with no ACTIVE revision runs nothing that could carry the patch.
    if (latest === undefined) return [];
    const revisions = await this.revisionsOf(family, latest, ctx);
    const ours = revisions.ours;
    const docs = this.patches.specsOfFamily(ctx.documents, family);
    const read = [latest.arn, ours?.arn, ...docs.map((d) => `${resourceKey(d)}:${d.generation}`)].join(" ");
    if (ours === undefined || this.settled.get(family) === read) return [];
    const pending = this.pendingRemovals(family, ours, ctx);
    const plans = kept(pending);
    const pruned = pending.filter((r) => r.prune);
    const first = pruned[0];
    if (first === undefined) return plans;
    const leave = (why: string): ResourcePlan[] => [
      ...plans,
      ...pruned.map((r) => ({
        key: r.key,
        kind: r.kind,
        changes: [],
        notes: [`removed and asked for prune, but its patch is left in family ${family}: ${why}`],
        apply: async () => {},
      })),
    ];
    const base = baseOf(ours.tags);
    if (base === undefined) {
      return leave(
        `revision ${ours.revision} was registered before the operator recorded the revision it patched`,
      );
    }
    const reference = await this.api.describe(`${family}:${base}`, ctx.signal);
    if (reference === undefined) {
      return leave(`revision ${base}, the pipeline's revision it was patched onto, no longer exists`);
    }
    const plan = await this.planRevision({
      family,
      docs,
      latest,
      revisions,
      removal: { records: pruned, ours, reference },
      key: first.key,
      kind: first.kind,
      ctx,
    });
    // Nothing to take back (the latest revision, the pipeline's, lacks the patch): nothing to say until one of the
    // revisions or specs read here changes.
    if (plan.changes.length === 0) {
      this.settled.set(family, read);
      return plans;
    }
    return [...plans, { ...plan, removes: pruned.map((r) => r.key) }];
  }

  /** The family's plan: `docs` applied onto the latest revision (with a removal's patches taken back first). */
  private async planRevision(input: {
    readonly family: string;
    readonly docs: readonly SpecDocument[];
    /** The revision patched. */
    readonly latest: ObservedTaskDefinition;
    /** The family's latest revision as read, when another is patched (see `revisionToPatch`); else `latest`. */
    readonly observed?: ObservedTaskDefinition;
    readonly revisions?: FamilyRevisions;
    readonly removal?: Removal;
    readonly key: string;
    readonly kind: string;
    readonly ctx: ReconcileContext;
  }): Promise<ResourcePlan> {
    const { family, docs, latest, removal, ctx } = input;
    const observed = input.observed ?? latest;
    const notes: string[] = [`family ${family}: latest ACTIVE revision ${observed.revision}`];
    let start = latest.definition;
    if (removal !== undefined) {
      start = cloneTaskDefinition(latest.definition);
      // Taken back in the reverse of the apply order: a volume's consumer may be the router.
      const records = [...removal.records].sort(
        (a, b) => (this.patches.ofKind(b.kind)?.order ?? 0) - (this.patches.ofKind(a.kind)?.order ?? 0),
      );
      for (const r of records) {
        const result = this.patches.ofKind(r.kind)!.revert(start, {
          reference: removal.reference.definition,
          ours: removal.ours.definition,
          footprint: r.footprint,
        });
        if (result.problems.length > 0) {
          throw new TerminalError(
            `${r.key} (removed): its patch cannot be removed: ${result.problems.join("; ")}`,
          );
        }
        notes.push(...result.notes.map((n) => `${r.key} (removed): ${n}`));
      }
    }
    const desired = await this.desiredFrom(family, docs, latest, start);
    notes.push(...desired.warnings);
    if (docs.length > 1) notes.push(`applies ${docs.map(resourceKey).join(" and ")} together`);
    if (desired.configFile !== undefined) {
      notes.push(`extra ${desired.configFile.label} (see \`render\`): ${desired.configFile.delivery}`);
    }
    const changes: Change[] = [];
    const upload = await this.planConfigObject(desired, ctx.signal);
    if (upload !== undefined) changes.push(upload.change);
    let tags: Tag[] = [];
    if (desired.changed) {
      const removes =
        removal === undefined
          ? ""
          : `removes the patch of ${removal.records.map((r) => r.key).join(" and ")} (removed, asked for ` +
            "prune): ";
      changes.push({
        action: "create",
        target: `task definition ${family}, new revision`,
        detail: `patched from ${family}:${latest.revision}: ${removes}${desired.difference}`,
        write: "ecs:RegisterTaskDefinition",
      });
      const lineage = await this.lineage(family, latest, input.revisions, desired, removal, ctx);
      notes.push(...lineage.notes);
      const recorded = revisionTags({
        carried: latest.tags,
        docs,
        ownerId: ctx.ownerId,
        base: lineage.base,
        parent: observed.revision,
        records: [...desired.records, ...lineage.carried],
      });
      notes.push(...recorded.problems.map((p) => `${p.key}: ${p.message}`));
      if (recorded.tags.length > MAX_TAGS) {
        throw new TerminalError(
          `family ${family}: the new revision would carry ${recorded.tags.length} tags (the pipeline's and the ` +
            `operator's records of ${docs.length} specs); ECS takes ${MAX_TAGS}`,
        );
      }
      tags = recorded.tags;
    }
    const rollouts = await this.planRollouts(desired, removal?.records ?? [], notes, ctx.signal);
    changes.push(...rollouts.map((r) => r.change));
    return {
      key: input.key,
      kind: input.kind,
      changes,
      notes,
      apply: async (signal) => {
        let arn = latest.arn;
        // A pipeline may have registered a revision since the plan was read; patching the older one would undo its
        // image, and rolling a service to the older one would undo its deploy, so the family is planned again
        // instead. Checked before anything is written: a config rendered for the superseded revision is not uploaded
        // either.
        if (desired.changed || rollouts.length > 0) {
          const now = await this.api.describeLatest(family, signal);
          if (now !== undefined && now.arn !== observed.arn) {
            throw new FamilyChangedError(
              `family ${family} changed since it was planned (now at revision ${now.revision}); the next ` +
                "reconcile patches that revision",
            );
          }
        }
        // Written before any revision that reads it is registered or rolled out, so a task never starts with a
        // missing or stale config: FireLens reads the object once, when the task starts.
        if (upload !== undefined) {
          const { bucket, key } = upload.desired.object;
          await upload.store.write(bucket, key, upload.desired.text, signal);
          ctx.logger.info(`uploaded ${upload.desired.label}`, { family, bucket, key });
        }
        if (desired.changed) {
          const registered = await this.api.register(desired.definition, tags, signal);
          arn = registered.arn;
          ctx.logger.info("registered task definition", { family, revision: registered.revision });
          // Revision numbers follow one another: a gap means someone registered between the check and this
          // registration. Ours may lack their deploy, so it is not rolled out; the next reconcile patches theirs.
          if (registered.revision !== observed.revision + 1) {
            throw new FamilyChangedError(
              `family ${family}: revision ${registered.revision} was registered after another revision since ` +
                `revision ${observed.revision}; not rolled out, the next reconcile patches the newest`,
            );
          }
        }
        for (const r of rollouts) {
          await this.api.updateServiceTaskDefinition(r.cluster, r.service, arn, signal);
          ctx.logger.info("rolled service to revision", { cluster: r.cluster, service: r.service, arn });
        }
      },
    };
  }

  /**
   * Where the new revision comes from, for its tags: the pipeline's revision its patches started from (`base`), and
   * the records of removed specs it still carries.
   * - On a revision of ours: the same base. Removed specs' records are carried while a spec file may be invalid (the
   *   spec may only be unreadable); once every file is valid, a kept spec's record is dropped (no longer managed) and
   *   a pruned one's patch is being removed.
   * - On the pipeline's revision: that revision is the base, unless it still holds what the newest revision of ours
   *   wrote (a pipeline that copies the operator's revision and changes its image): then ours' base, and ours'
   *   records of removed specs, carry on.
   */
  private async lineage(
    family: string,
    latest: ObservedTaskDefinition,
    known: FamilyRevisions | undefined,
    desired: FamilyDesired,
    removal: Removal | undefined,
    ctx: ReconcileContext,
  ): Promise<{ base: number; carried: PatchRecord[]; notes: string[] }> {
    const revisions = known ?? (await this.revisionsOf(family, latest, ctx));
    const ours = revisions.ours;
    const live = new Set(desired.docs.map(resourceKey));
    const removed =
      removal !== undefined || ctx.sweeping === true ? [] : this.pendingRemovals(family, ours, ctx);
    const notLive = (records: readonly PatchRecord[]) => records.filter((r) => !live.has(r.key));
    if (ours === undefined) return { base: latest.revision, carried: [], notes: [...revisions.notes] };
    const base = removal?.reference.revision ?? baseOf(ours.tags);
    if (ours.arn === latest.arn) {
      return {
        base: base ?? (await this.unownedBelow(family, latest, ctx)),
        carried: notLive(removed),
        notes: [],
      };
    }
    const reference =
      base === undefined ? undefined : await this.api.describe(`${family}:${base}`, ctx.signal);
    if (base === undefined || reference === undefined)
      return { base: latest.revision, carried: [], notes: [] };
    const copied = cloneTaskDefinition(latest.definition);
    for (const r of readRecords(ours.tags)) {
      this.patches.ofKind(r.kind)?.revert(copied, {
        reference: reference.definition,
        ours: ours.definition,
        footprint: r.footprint,
      });
    }
    if (sameTaskDefinition(copied, latest.definition))
      return { base: latest.revision, carried: [], notes: [] };
    return {
      base,
      carried: notLive(removed),
      notes: [
        `revision ${latest.revision} is the pipeline's, copied from the operator's revision ${ours.revision}: ` +
          `the pipeline's own values are still revision ${base}'s`,
      ],
    };
  }

  /**
   * The newest revision below `latest` that is not ours: the base of a revision of ours registered before the
   * operator recorded bases.
   */
  private async unownedBelow(
    family: string,
    latest: ObservedTaskDefinition,
    ctx: ReconcileContext,
  ): Promise<number> {
    const listed = await this.ownRevisionsOf(ctx);
    const ours = new Set(
      listed instanceof AwsError ? [] : listed.filter((r) => r.family === family).map((r) => r.revision),
    );
    let revision = latest.revision - 1;
    while (revision > 1 && ours.has(revision)) revision--;
    return Math.max(revision, 1);
  }

  /** The family's latest revision and the newest of ours at or below it. */
  private async revisionsOf(
    family: string,
    latest: ObservedTaskDefinition,
    ctx: ReconcileContext,
  ): Promise<FamilyRevisions> {
    if (isOurs(latest.tags, ctx.ownerId)) return { latest, ours: latest, notes: [] };
    const listed = await this.ownRevisionsOf(ctx);
    if (listed instanceof AwsError) {
      return {
        latest,
        ours: undefined,
        notes: [
          `this operator's revisions cannot be listed (${listed.code}): revision ${latest.revision}, the ` +
            "pipeline's, is taken as the pipeline's own values",
        ],
      };
    }
    let newest: TaggedRevision | undefined;
    for (const r of listed) {
      if (r.family !== family || r.revision >= latest.revision) continue;
      if (newest === undefined || r.revision > newest.revision) newest = r;
    }
    const ours = newest === undefined ? undefined : await this.api.describe(newest.arn, ctx.signal);
    return {
      latest,
      ours: ours !== undefined && isOurs(ours.tags, ctx.ownerId) ? ours : undefined,
      notes: [],
    };
  }

  /** This owner's revisions, listed once a pass; a denied listing is kept as its error, for notes. */
  private ownRevisionsOf(ctx: ReconcileContext): Promise<TaggedRevision[] | AwsError> {
    const tagged = this.tagged;
    if (tagged === undefined) return Promise.resolve([]);
    return this.ownRevisions.get(ctx, ctx.ownerId, async () => {
      try {
        return await tagged.withTag(OWNER_TAG, ownerTagValue(ctx.ownerId), ctx.signal);
      } catch (error) {
        if (error instanceof AwsError && /AccessDenied|Unauthorized/.test(error.code)) return error;
        throw error;
      }
    });
  }

  /** The upload that makes the router's S3 config object match the rendered config, or undefined when it does. */
  private async planConfigObject(
    desired: FamilyDesired,
    signal: AbortSignal,
  ): Promise<{ desired: DesiredConfigObject; change: Change; store: ConfigObjectStore } | undefined> {
    const file = desired.configFile;
    const object = file?.s3;
    if (file === undefined || object === undefined) return undefined;
    const owner = file.doc;
    const p = owner.positionOf(["spec", ...file.path]);
    const at = `${p.file}:${p.line}:${p.col}: ${resourceKey(owner)}`;
    if (this.configStore === undefined) {
      throw new TerminalError(`${at}: this command cannot deliver a config file to S3`);
    }
    let observed: string | undefined;
    try {
      observed = await this.configStore.read(object.bucket, object.key, signal);
    } catch (error) {
      if (error instanceof ConfigBucketNotFoundError) {
        throw new TerminalError(
          `${at}: S3 bucket ${object.bucket} does not exist; the operator keeps the config object in it but ` +
            "does not create buckets",
          { cause: error },
        );
      }
      throw error;
    }
    const want: DesiredConfigObject = { family: desired.family, label: file.label, object, text: file.text };
    const change = planConfigUpload(want, observed);
    return change === undefined ? undefined : { desired: want, change, store: this.configStore };
  }

  /**
   * The services to move: the live specs' `rollout`, and the recorded rollouts of the removed specs whose patches
   * go. A service is left alone when the revision it runs already equals the desired one, whichever revision number
   * that is.
   */
  private async planRollouts(
    desired: FamilyDesired,
    removed: readonly PatchRecord[],
    notes: string[],
    signal: AbortSignal,
  ): Promise<{ cluster: string; service: string; change: Change }[]> {
    const targets: RolloutTarget[] = this.patches.rolloutServices(desired.docs).map((s) => {
      const p = s.doc.positionOf(["spec", "rollout", "services", s.index]);
      return { ...s, at: `${p.file}:${p.line}:${p.col}: ${resourceKey(s.doc)}`, removed: false };
    });
    // A removal that registers nothing (the latest revision, the pipeline's, already lacks the patch) moves nothing:
    // the pipeline deploys its own revisions.
    for (const r of desired.changed ? removed : []) {
      for (const s of r.rollouts) {
        if (targets.some((t) => t.cluster === s.cluster && t.service === s.service)) continue;
        targets.push({ ...s, at: `${r.key} (removed)`, removed: true });
      }
    }
    const out: { cluster: string; service: string; change: Change }[] = [];
    for (const s of targets) {
      const observed = await this.api.describeService(s.cluster, s.service, signal);
      if (observed === undefined) {
        const message = `ECS service ${s.service} does not exist in cluster ${s.cluster}`;
        if (s.removed) {
          notes.push(`${s.at}: ${message}; not rolled out`);
          continue;
        }
        throw new TerminalError(`${s.at}: ${message}`);
      }
      const runsFamily = /task-definition\/([^:]+):\d+$/.exec(observed.taskDefinitionArn)?.[1];
      if (runsFamily !== undefined && runsFamily !== desired.family) {
        const message =
          `ECS service ${s.cluster}/${s.service} runs family ${runsFamily}, not ${desired.family}; ` +
          "rolling it to another family is not done automatically";
        if (s.removed) {
          notes.push(`${s.at}: ${message}`);
          continue;
        }
        throw new TerminalError(`${s.at}: ${message}`);
      }
      if (!desired.changed && observed.taskDefinitionArn === desired.base.arn) continue;
      const running =
        observed.taskDefinitionArn === desired.base.arn
          ? desired.base
          : await this.api.describe(observed.taskDefinitionArn, signal);
      if (running !== undefined && sameTaskDefinition(running.definition, desired.definition)) continue;
      const to = desired.changed ? "the new revision" : `${desired.family}:${desired.base.revision}`;
      const from =
        running !== undefined ? `${desired.family}:${running.revision}` : observed.taskDefinitionArn;
      const beyond =
        running !== undefined && running !== desired.base
          ? `; also changes ${describeDifference(running.definition, desired.definition)}`
          : "";
      out.push({
        cluster: s.cluster,
        service: s.service,
        change: {
          action: "update",
          target: `service ${s.cluster}/${s.service}`,
          detail: `${from} -> ${to}${beyond}`,
          write: "ecs:UpdateService",
        },
      });
    }
    return out;
  }
}

/** The tags `apply` would give the family's new revision, for `render`. */
export function familyTags(desired: FamilyDesired, ownerId: string): Tag[] {
  const { base } = desired;
  const from = isOurs(base.tags, ownerId) ? (baseOf(base.tags) ?? base.revision) : base.revision;
  return revisionTags({
    carried: base.tags,
    docs: desired.docs,
    ownerId,
    base: from,
    parent: base.revision,
    records: desired.records,
  }).tags;
}

/** The SDK's region (AWS_REGION, the shared config), or undefined when none is configured. */
export async function sdkRegion(ecs: ECSClient): Promise<string | undefined> {
  try {
    return await ecs.config.region();
  } catch {
    return undefined;
  }
}
