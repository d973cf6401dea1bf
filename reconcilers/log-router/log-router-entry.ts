import { sortedUnique, type PolicyStatement } from "../../controllers/iam.ts";
import { patchingKindEntry } from "../task-definition/patching-kind.ts";
import { parseS3ObjectArn } from "../task-definition/s3-object-arn.ts";
import type { TaskDefinitionPatch } from "../task-definition/task-definition-patch.ts";
import { lintFirelensFamily } from "./firelens-lint.ts";
import { LogRouterKind, type LogRouterSpec } from "./log-router-kind.ts";
import { applyLogRouter, fluentBitConfigFor } from "./log-router-patch.ts";
import { logRouterFootprint, revertLogRouter } from "./log-router-revert.ts";
import { familiesReadingInitFiles, taskRoleStatements } from "./router-iam.ts";

/** LogRouter's part of a family's revision: the FireLens router and the routed containers' log configuration. */
export const logRouterPatch: TaskDefinitionPatch<LogRouterSpec> = {
  kind: LogRouterKind.kind,
  // Before SidecarVolume: a volume's consumer may be the router.
  order: 10,
  family: (spec) => spec.family,
  rolloutServices: (spec) => spec.rollout?.services ?? [],
  prune: (spec) => spec.prune === true,
  footprint: logRouterFootprint,
  apply: (td, spec, context) => ({ issues: applyLogRouter(td, spec, context) }),
  revert: revertLogRouter,
  configFile(td, spec, context) {
    const config = fluentBitConfigFor(spec, td, context.source, context);
    return config === undefined
      ? undefined
      : { label: "Fluent Bit config", ...config, path: ["router", "configFile", "value"] };
  },
  lintFamily: lintFirelensFamily,
};

/** The Fluent Bit config files the operator uploads (`router.configFile` of type s3 or init-s3). */
function configObjectStatements(specs: readonly Pick<LogRouterSpec, "router">[]): PolicyStatement[] {
  const objects = specs.flatMap((s) => {
    // Both s3 (read by FireLens) and init-s3 (read by the init image) objects are uploaded by the operator.
    const cf = s.router?.configFile;
    const ref = cf?.type === "s3" || cf?.type === "init-s3" ? parseS3ObjectArn(cf.value) : undefined;
    return ref === undefined ? [] : [ref];
  });
  if (objects.length === 0) return [];
  return [
    {
      Sid: "FluentBitConfigObjects",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: sortedUnique(objects.map((o) => `arn:${o.partition}:s3:::${o.bucket}/${o.key}`)),
    },
    {
      // Without ListBucket, S3 answers a missing object with 403 instead of 404, and the first upload never happens.
      Sid: "FluentBitConfigBuckets",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: sortedUnique(objects.map((o) => `arn:${o.partition}:s3:::${o.bucket}`)),
    },
  ];
}

export const logRouterEntry = patchingKindEntry({
  definition: LogRouterKind,
  patch: logRouterPatch,
  iam: configObjectStatements,
  taskRole: {
    statements: taskRoleStatements,
    families: familiesReadingInitFiles,
    need: "reads init files from S3",
  },
});
