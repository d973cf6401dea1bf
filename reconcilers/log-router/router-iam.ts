import { sortedUnique, type PolicyStatement } from "../../controllers/iam.ts";
import { initObjects } from "./init-config.ts";
import type { LogRouterSpec } from "./log-router-kind.ts";

/**
 * What the task role of a routed family needs because of its LogRouter spec, which is not the operator's own
 * policy: the aws-for-fluent-bit init process runs in the router with the task role's credentials, calls
 * s3:GetBucketLocation on each bucket (to pick the region to download from) and s3:GetObject on each object
 * (init/fluent_bit_init_process.go; AWS documents both in use_cases/init-process-for-fluent-bit). The outputs' own
 * permissions (s3:PutObject for an s3 output, firehose:PutRecordBatch, ...) are the destination's and not listed.
 * Pure and deterministic. `family` narrows it to one family, whose task role it is.
 */
export function taskRoleStatements(
  specs: readonly LogRouterSpec[],
  family: string | undefined,
): PolicyStatement[] {
  const objects = specs.filter((s) => family === undefined || s.family === family).flatMap(initObjects);
  if (objects.length === 0) return [];
  return [
    {
      Sid: "FluentBitInitConfigObjects",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: sortedUnique(objects.map((o) => `arn:${o.partition}:s3:::${o.bucket}/${o.key}`)),
    },
    {
      // The init process asks each bucket for its region before it downloads; a missing permission stops the
      // router ("Cannot get bucket region ...").
      Sid: "FluentBitInitConfigBuckets",
      Effect: "Allow",
      Action: ["s3:GetBucketLocation"],
      Resource: sortedUnique(objects.map((o) => `arn:${o.partition}:s3:::${o.bucket}`)),
    },
  ];
}

/** The families whose LogRouter reads init files, for a message when a filter matches none. */
export function familiesReadingInitFiles(specs: readonly LogRouterSpec[]): string[] {
  return sortedUnique(specs.filter((s) => initObjects(s).length > 0).map((s) => s.family));
}
