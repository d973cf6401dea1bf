import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import { LogRouterKind, type LogRouterSpec } from "../log-router/log-router-kind.ts";
import {
  applyLogRouter,
  fluentBitConfigFor,
  type RenderedFluentBitConfig,
} from "../log-router/log-router-patch.ts";
import { SidecarVolumeKind, type SidecarVolumeSpec } from "../sidecar-volume/sidecar-volume-kind.ts";
import { applySidecarVolume } from "../sidecar-volume/sidecar-volume-patch.ts";
import type { PatchIssue, PatchOptions } from "./patch-issue.ts";
import { cloneTaskDefinition, type TaskDefinitionJson } from "./task-definition.ts";

/** The kinds that patch task definitions. */
export const TASK_DEFINITION_KINDS: readonly string[] = [LogRouterKind.kind, SidecarVolumeKind.kind];

export function familyOf(doc: SpecDocument): string | undefined {
  if (!TASK_DEFINITION_KINDS.includes(doc.kind)) return undefined;
  return (doc.spec as { family: string }).family;
}

/** Every LogRouter and SidecarVolume spec patching `family`, in resource-key order: the order they are applied in. */
export function specsOfFamily(documents: readonly SpecDocument[], family: string): SpecDocument[] {
  return documents
    .filter((d) => familyOf(d) === family)
    .sort((a, b) => (resourceKey(a) < resourceKey(b) ? -1 : resourceKey(a) > resourceKey(b) ? 1 : 0));
}

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
  /** Extra Fluent Bit config a LogRouter needs, to deliver as its `router.configFile` says. */
  readonly fluentBitConfig?: RenderedFluentBitConfig | undefined;
}

/**
 * Applies every spec of one family to a copy of `base`, then lints the result for what ECS would reject or users
 * regret. Pure. Applying the same specs to the result again gives the same result, which is why a converged family
 * registers nothing.
 */
export function patchFamily(
  base: TaskDefinitionJson,
  docs: readonly SpecDocument[],
  options: PatchOptions,
): FamilyPatchResult {
  const td = cloneTaskDefinition(base);
  const issues: LocatedIssue[] = [];
  let fluentBitConfig: RenderedFluentBitConfig | undefined;
  for (const doc of docs) {
    if (doc.kind === LogRouterKind.kind) {
      const spec = doc.spec as LogRouterSpec;
      issues.push(...applyLogRouter(td, spec, options).map((i) => ({ ...i, doc })));
      fluentBitConfig = fluentBitConfigFor(spec, td, resourceKey(doc), options) ?? fluentBitConfig;
    }
  }
  for (const doc of docs) {
    if (doc.kind === SidecarVolumeKind.kind) {
      issues.push(...applySidecarVolume(td, doc.spec as SidecarVolumeSpec).map((i) => ({ ...i, doc })));
    }
  }
  const anchor = docs.find((d) => d.kind === LogRouterKind.kind) ?? docs[0];
  if (anchor !== undefined) issues.push(...lintFamily(td).map((i) => ({ ...i, doc: anchor })));
  return {
    definition: td,
    errors: issues.filter((i) => i.severity === "error"),
    warnings: issues.filter((i) => i.severity === "warning"),
    fluentBitConfig,
  };
}

/** Checks of the patched family as a whole: what RegisterTaskDefinition or the task's start would fail on. */
export function lintFamily(td: TaskDefinitionJson): PatchIssue[] {
  const issues: PatchIssue[] = [];
  const routers = td.containerDefinitions.filter((c) => c.firelensConfiguration !== undefined);
  const users = td.containerDefinitions.filter((c) => c.logConfiguration?.logDriver === "awsfirelens");
  if (routers.length > 1) {
    issues.push({
      path: ["family"],
      message: `family ${td.family} would have ${routers.length} FireLens routers (${routers.map((r) => r.name).join(", ")}); ECS allows one`,
      severity: "error",
    });
  }
  if (users.length > 0 && routers.length === 0) {
    issues.push({
      path: ["family"],
      message: `containers ${users.map((c) => c.name).join(", ")} of family ${td.family} log to awsfirelens but the family has no FireLens router`,
      severity: "error",
    });
  }
  if (routers.length > 0 && users.length === 0) {
    issues.push({
      path: ["family"],
      message: `the FireLens router ${routers[0]!.name} of family ${td.family} is used by no container (no container logs to awsfirelens)`,
      severity: "error",
    });
  }
  const fargate = td.requiresCompatibilities?.includes("FARGATE") === true;
  for (const r of routers) {
    if (fargate && r.firelensConfiguration?.options?.["config-file-type"] === "s3") {
      issues.push({
        path: ["router", "configFile", "type"],
        message:
          "Fargate reads a FireLens config file only from the router image (config-file-type file); bake the " +
          "file `render` prints into a custom router image",
        severity: "error",
      });
    }
  }
  const needsRole = td.containerDefinitions.some(
    (c) =>
      (c.logConfiguration?.secretOptions?.length ?? 0) > 0 ||
      c.logConfiguration?.options?.["awslogs-create-group"] === "true",
  );
  if (needsRole && (td.executionRoleArn === undefined || td.executionRoleArn === "")) {
    issues.push({
      path: ["family"],
      message:
        `family ${td.family} has no executionRoleArn, but ECS needs a task execution role to read secretOptions ` +
        "(secretsmanager:GetSecretValue) and to create log groups; the task will fail to start without one",
      severity: "warning",
    });
  }
  return issues;
}
