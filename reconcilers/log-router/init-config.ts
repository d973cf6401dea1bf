import type { SpecIssue } from "../../controllers/spec/document.ts";
import { DEFAULT_ROUTER_IMAGE, type LogRouterSpec } from "./log-router-kind.ts";
import { parseS3ObjectArn, type S3ObjectRef } from "../task-definition/s3-object-arn.ts";

/**
 * The aws-for-fluent-bit `init` image (aws-for-fluent-bit init/fluent_bit_init_process.go): before Fluent Bit
 * starts, its entrypoint reads every environment variable whose name contains `aws_fluent_bit_init_s3` (value: an S3
 * object ARN, downloaded with the task role after s3:GetBucketLocation on its bucket, into
 * /init/fluent-bit-init-s3-files/ under the object's file name) or `aws_fluent_bit_init_file` (value: a path inside
 * the image). A file that contains `[PARSER]` or `[MULTILINE_PARSER]` is passed as a parsers file (`-R`); every other
 * file is `@INCLUDE`d after the config FireLens generates. It works on Fargate, where FireLens itself reads an extra
 * config only from the image. A value of the wrong kind stops the router: a path is no ARN, and an ARN in a file
 * variable is opened as a path (aws-for-fluent-bit #839).
 */
export const INIT_S3_VARIABLE = "aws_fluent_bit_init_s3_";
export const INIT_FILE_VARIABLE = "aws_fluent_bit_init_file_";
/** The router environment variables this operator owns when a spec uses the init image. */
export const INIT_VARIABLE = /^aws_fluent_bit_init_(s3|file)/i;

export const DEFAULT_INIT_ROUTER_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest";

const ABSOLUTE_PATH = /^\/[A-Za-z0-9/_.-]+$/;

/** True when the router is asked to read init variables. */
export function usesInit(spec: LogRouterSpec): boolean {
  const init = spec.router.init;
  return (
    spec.router.configFile?.type === "init-s3" ||
    (init?.s3 ?? []).length > 0 ||
    (init?.files ?? []).length > 0
  );
}

/** The router image: the spec's, else AWS's (its init tag when the spec uses init variables). */
export function routerImage(spec: LogRouterSpec): string {
  return spec.router.image ?? (usesInit(spec) ? DEFAULT_INIT_ROUTER_IMAGE : DEFAULT_ROUTER_IMAGE);
}

/**
 * Whether an image runs the init process: AWS's aws-for-fluent-bit images do only under their `init` tags
 * (`init-latest`, `init-2.32.2`, ...); of another image (a custom one built FROM an init tag, a digest) nothing can
 * be told from its name.
 */
export function initImageKind(image: string): "init" | "not-init" | "unknown" {
  if (image.includes("@")) return "unknown";
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  const tag = colon > slash ? image.slice(colon + 1) : undefined;
  const repository = colon > slash ? image.slice(0, colon) : image;
  if (repository.split("/").pop() !== "aws-for-fluent-bit") return "unknown";
  return tag?.startsWith("init") === true ? "init" : "not-init";
}

/** The init variables of the router container, in a fixed order: the rendered config first. */
export function initVariables(spec: LogRouterSpec): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const s3 = [
    ...(spec.router.configFile?.type === "init-s3" ? [spec.router.configFile.value] : []),
    ...(spec.router.init?.s3 ?? []),
  ];
  s3.forEach((value, i) => out.push({ name: `${INIT_S3_VARIABLE}${i + 1}`, value }));
  (spec.router.init?.files ?? []).forEach((value, i) =>
    out.push({ name: `${INIT_FILE_VARIABLE}${i + 1}`, value }),
  );
  return out;
}

/** The S3 objects the init process downloads with the task role: what `iam-policy --role task` grants. */
export function initObjects(spec: LogRouterSpec): S3ObjectRef[] {
  return initVariables(spec)
    .filter((v) => v.name.startsWith(INIT_S3_VARIABLE))
    .map((v) => parseS3ObjectArn(v.value))
    .filter((r): r is S3ObjectRef => r !== undefined);
}

/** What the init image would refuse or get wrong, found offline. */
export function initIssues(spec: LogRouterSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const cf = spec.router.configFile;
  const names = new Map<string, string>();
  const object = (value: string, path: (string | number)[]): void => {
    const ref = parseS3ObjectArn(value);
    if (ref === undefined) {
      issues.push({
        path,
        message: ABSOLUTE_PATH.test(value)
          ? "an aws_fluent_bit_init_s3 variable takes an S3 object ARN (arn:aws:s3:::BUCKET/KEY), not a path; a " +
            "file inside the image goes in router.init.files"
          : "an aws_fluent_bit_init_s3 variable takes an S3 object ARN: arn:aws:s3:::BUCKET/KEY (or arn:aws-cn / " +
            "arn:aws-us-gov), with a valid bucket name",
      });
      return;
    }
    const name = ref.key.split("/").pop()!;
    const other = names.get(name);
    if (other !== undefined) {
      issues.push({
        path,
        message:
          `the init process saves every S3 file under its file name in one directory: "${name}" would overwrite ` +
          `${other}; give the objects different file names`,
      });
    }
    names.set(name, value);
  };
  if (cf?.type === "init-s3") object(cf.value, ["router", "configFile", "value"]);
  (spec.router.init?.s3 ?? []).forEach((v, i) => object(v, ["router", "init", "s3", i]));
  (spec.router.init?.files ?? []).forEach((v, i) => {
    if (ABSOLUTE_PATH.test(v)) return;
    issues.push({
      path: ["router", "init", "files", i],
      message:
        parseS3ObjectArn(v) !== undefined || v.startsWith("arn:")
          ? "an S3 ARN in an aws_fluent_bit_init_file variable: the init process opens it as a path and the router " +
            "does not start (aws-for-fluent-bit #839); put S3 objects in router.init.s3"
          : "an aws_fluent_bit_init_file variable takes an absolute path inside the router image, e.g. " +
            "/fluent-bit/parsers/parsers.conf",
    });
  });
  if (usesInit(spec) && spec.router.image !== undefined && initImageKind(spec.router.image) === "not-init") {
    const what = cf?.type === "init-s3" ? ["router", "configFile", "type"] : ["router", "init"];
    issues.push({
      path: ["router", "image"],
      message:
        `${spec.router.image} is an aws-for-fluent-bit image without the init process, which alone reads ` +
        `aws_fluent_bit_init_* variables (asked for by ${what.join(".")}): use an init tag such as ` +
        `${DEFAULT_INIT_ROUTER_IMAGE.split(":").pop()} (or leave router.image out)`,
    });
  }
  return issues;
}
