import type { SpecDocument } from "../../controllers/spec/document.ts";
import { initObjects } from "./init-config.ts";
import { LogRouterKind, type LogRouterSpec } from "./log-router-kind.ts";

/** An IAM policy statement, in the shape `iam-policy` prints. */
export interface RoleStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string[];
}

export interface RolePolicy {
  readonly Version: "2012-10-17";
  readonly Statement: RoleStatement[];
}

/**
 * What the task role of a routed family needs because of its LogRouter spec, which is not the operator's own
 * policy: the aws-for-fluent-bit init process runs in the router with the task role's credentials, calls
 * s3:GetBucketLocation on each bucket (to pick the region to download from) and s3:GetObject on each object
 * (init/fluent_bit_init_process.go; AWS documents both in use_cases/init-process-for-fluent-bit). The outputs' own
 * permissions (s3:PutObject for an s3 output, firehose:PutRecordBatch, ...) are the destination's and not listed.
 * Pure and deterministic. `family` narrows it to one family, whose task role it is.
 */
export function taskRolePolicy(documents: readonly SpecDocument[], family?: string): RolePolicy {
  const specs = documents
    .filter((d) => d.kind === LogRouterKind.kind)
    .map((d) => d.spec as LogRouterSpec)
    .filter((s) => family === undefined || s.family === family);
  const objects = specs.flatMap(initObjects);
  const statements: RoleStatement[] = [];
  if (objects.length > 0) {
    statements.push({
      Sid: "FluentBitInitConfigObjects",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: sorted(objects.map((o) => `arn:${o.partition}:s3:::${o.bucket}/${o.key}`)),
    });
    statements.push({
      // The init process asks each bucket for its region before it downloads; a missing permission stops the
      // router ("Cannot get bucket region ...").
      Sid: "FluentBitInitConfigBuckets",
      Effect: "Allow",
      Action: ["s3:GetBucketLocation"],
      Resource: sorted(objects.map((o) => `arn:${o.partition}:s3:::${o.bucket}`)),
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** The families whose LogRouter reads init files, for a message when a filter matches none. */
export function familiesReadingInitFiles(documents: readonly SpecDocument[]): string[] {
  return sorted(
    documents
      .filter((d) => d.kind === LogRouterKind.kind)
      .map((d) => d.spec as LogRouterSpec)
      .filter((s) => initObjects(s).length > 0)
      .map((s) => s.family),
  );
}

function sorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
