import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import type { PatchIssue, PatchOptions } from "./patch-issue.ts";
import { cloneTaskDefinition, type TaskDefinitionJson } from "./task-definition.ts";
import type { ConfigFile, TaskDefinitionPatches } from "./task-definition-patch.ts";

/** A patch issue with the spec it belongs to, printed as `FILE:LINE:COL: Kind/name: message`. */
export interface LocatedIssue extends PatchIssue {
  readonly doc: SpecDocument;
}

export function formatIssue(i: LocatedIssue): string {
  const p = i.doc.positionOf(["spec", ...i.path]);
  return `${p.file}:${p.line}:${p.col}: ${resourceKey(i.doc)}: ${i.message}`;
}

export interface FamilyPatchResult {
  readonly definition: TaskDefinitionJson;
  readonly errors: LocatedIssue[];
  readonly warnings: LocatedIssue[];
  /** A file the revision reads (a LogRouter's extra Fluent Bit config), to deliver as it says, and its spec. */
  readonly configFile?: (ConfigFile & { readonly doc: SpecDocument }) | undefined;
}

/**
 * Applies every spec of one family to a copy of `base`, kind by kind in the patches' order, then renders the files the
 * result reads and runs every patch's checks of the whole family. Pure. Applying the same specs to the result again gives the same result, which is why a
 * converged family registers nothing.
 */
export function patchFamily(
  base: TaskDefinitionJson,
  docs: readonly SpecDocument[],
  options: PatchOptions,
  patches: TaskDefinitionPatches,
): FamilyPatchResult {
  const td = cloneTaskDefinition(base);
  const issues: LocatedIssue[] = [];
  const kinds = patches.list();
  for (const patch of kinds) {
    for (const doc of docs) {
      if (doc.kind !== patch.kind) continue;
      const result = patch.apply(td, doc.spec, { ...options, source: resourceKey(doc) });
      issues.push(...result.issues.map((i) => ({ ...i, doc })));
    }
  }
  // Rendered from the revision every patch has made: a file rendered between two patches would describe a task
  // definition that is never registered.
  let configFile: FamilyPatchResult["configFile"];
  for (const patch of kinds) {
    if (patch.configFile === undefined) continue;
    for (const doc of docs) {
      if (doc.kind !== patch.kind) continue;
      const file = patch.configFile(td, doc.spec, { ...options, source: resourceKey(doc) });
      if (file !== undefined) configFile = { ...file, doc };
    }
  }
  for (const patch of kinds) {
    if (patch.lintFamily === undefined) continue;
    const anchor = docs.find((d) => d.kind === patch.kind) ?? docs[0];
    if (anchor !== undefined) issues.push(...patch.lintFamily(td).map((i) => ({ ...i, doc: anchor })));
  }
  return {
    definition: td,
    errors: issues.filter((i) => i.severity === "error"),
    warnings: issues.filter((i) => i.severity === "warning"),
    configFile,
  };
}
