import type { Change } from "../../controllers/reconciler.ts";
import { s3Url, type S3ObjectRef } from "./s3-object-arn.ts";

/** The config file a family's revision reads from S3 (a router's Fluent Bit config), as rendered from its specs. */
export interface DesiredConfigObject {
  readonly family: string;
  /** What the file is: "Fluent Bit config". */
  readonly label: string;
  readonly object: S3ObjectRef;
  readonly text: string;
}

/**
 * The change that makes the object hold `desired.text`, or undefined when it already does. `observed` is the
 * object's content, undefined when it does not exist. Pure. Neither content appears in the change: a hand-edited
 * object may hold anything, and plans are printed and logged.
 */
export function planConfigUpload(
  desired: DesiredConfigObject,
  observed: string | undefined,
): Change | undefined {
  if (observed === desired.text) return undefined;
  const target = `${s3Url(desired.object)} (${desired.label} for family ${desired.family})`;
  if (observed === undefined) {
    return {
      action: "create",
      target,
      detail: `${Buffer.byteLength(desired.text)} bytes, as \`render\` prints it`,
    };
  }
  return {
    action: "update",
    target,
    detail: "its content differs from what `render` prints; replaced before a revision reads it",
  };
}
