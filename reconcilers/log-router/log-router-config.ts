import type { PatchOptions } from "../task-definition/patch-issue.ts";
import type { TaskDefinitionJson } from "../task-definition/task-definition.ts";
import { renderFluentBitConfig, type FluentBitSection, type FluentBitValue } from "./fluent-bit-config.ts";
import { initImageKind, INIT_S3_VARIABLE, routerImage } from "./init-config.ts";
import {
  DEFAULT_STORAGE_PATH,
  DEFAULT_TOTAL_LIMIT_SIZE,
  needsConfigFile,
  routerName,
  type LogRouterSpec,
} from "./log-router-kind.ts";
import {
  derivedProperties,
  optionProperties,
  routerOutputs,
  secretVariable,
  type RouterOutput,
} from "./log-router-outputs.ts";
import { graceFor, routedContainers, routerStopTimeout } from "./router-shape.ts";
import { parseS3ObjectArn, s3Url, type S3ObjectRef } from "../task-definition/s3-object-arn.ts";

/** The extra Fluent Bit file a router reads, with how it reaches the router. */
export interface RenderedFluentBitConfig {
  readonly text: string;
  readonly delivery: string;
  /** For `configFile.type: s3` and `init-s3`: the object `apply` keeps this text in. */
  readonly s3?: S3ObjectRef | undefined;
}

/**
 * The extra Fluent Bit config of a family's router, from its spec and the patched task definition `td` (whose
 * containers give the additional outputs' matches and the router's stopTimeout): [SERVICE] with Grace and
 * buffering, the multiline and throttle filters, and the additional outputs. Undefined when the router reads none.
 * Pure.
 */
export function fluentBitConfigFor(
  spec: LogRouterSpec,
  td: TaskDefinitionJson,
  source: string,
  options: PatchOptions,
): RenderedFluentBitConfig | undefined {
  const cf = spec.router.configFile;
  if (spec.output.awslogs !== undefined || (cf === undefined && !needsConfigFile(spec))) return undefined;
  const router = routerName(spec);
  const routed = routedContainers(td, spec, router);
  const stopTimeout = routerStopTimeout(spec, routed);
  const filesystem = spec.router.buffer?.type === "filesystem";
  let regionMissing = false;
  const regionOf = (given: string | undefined): string => {
    const region = given ?? options.region;
    if (region === undefined) regionMissing = true;
    return region ?? "";
  };

  const service: [string, FluentBitValue][] = [["Grace", graceFor(stopTimeout)]];
  if (filesystem) {
    service.push(
      ["storage.path", spec.router.buffer?.path ?? DEFAULT_STORAGE_PATH],
      // Fluent Bit 4.0.4 and later give this storage type to every input that sets none, FireLens's among them
      // (src/flb_storage.c, storage.inherit); older versions ignore both keys as unknown service properties.
      ["storage.type", "filesystem"],
      ["storage.inherit", true],
    );
    if (spec.router.buffer?.maxChunksUp !== undefined) {
      service.push(["storage.max_chunks_up", spec.router.buffer.maxChunksUp]);
    }
  }
  const sections: FluentBitSection[] = [{ name: "SERVICE", entries: service }];
  if (spec.multiline !== undefined) {
    const entries: [string, FluentBitValue][] = [
      ["name", "multiline"],
      ["match", "*"],
      ["multiline.key_content", spec.multiline.keyContent ?? "log"],
      ["multiline.parser", spec.multiline.parsers.join(",")],
    ];
    // The filter re-emits joined records through an input of its own, the emitter, which buffers like any input.
    if (filesystem) entries.push(["emitter_storage.type", "filesystem"]);
    if (spec.router.buffer?.memBufLimit !== undefined) {
      entries.push(["emitter_mem_buf_limit", spec.router.buffer.memBufLimit]);
    }
    sections.push({ name: "FILTER", entries });
  }
  if (spec.throttle !== undefined) {
    sections.push({
      name: "FILTER",
      entries: [
        ["name", "throttle"],
        ["match", "*"],
        ["rate", spec.throttle.rate],
        ["window", spec.throttle.window ?? 5],
        ["interval", spec.throttle.interval ?? "1s"],
      ],
    });
  }
  for (const o of routerOutputs(spec)) {
    if (o.index === 0) continue;
    const containers = o.containers ?? routed.map((c) => c.name);
    sections.push({
      name: "OUTPUT",
      entries: outputEntries(o, td.family, containers, filesystem ? spec : undefined, regionOf),
    });
  }
  if (regionMissing) return undefined; // reported by applyLogRouter at the output's region

  const s3 = cf?.type === "s3" || cf?.type === "init-s3" ? parseS3ObjectArn(cf.value) : undefined;
  const delivery = deliveryOf(spec, s3);
  const text = renderFluentBitConfig(sections, [
    `Fluent Bit config for task definition family ${td.family}, rendered by ecs-log-operator from ${source}.`,
    `Delivery: ${delivery}.`,
    `Grace ${graceFor(stopTimeout)}: the router's stopTimeout of ${stopTimeout} s less 5 s, so Fluent Bit flushes ` +
      "and exits before ECS's SIGKILL (Fluent Bit's default Grace is 5 s).",
  ]);
  // The init process treats a file holding a parser section as a parsers file and does not include it.
  if (cf?.type === "init-s3" && /\[(MULTILINE_)?PARSER\]/.test(text)) {
    throw new Error("a config delivered through the init image must hold no parser section");
  }
  return { text, delivery, s3 };
}

/**
 * One additional output's [OUTPUT] entries. FireLens tags each container's records `CONTAINER-firelens-TASKID`
 * (aws-for-fluent-bit troubleshooting/debugging.md, "FireLens Tag and Match Pattern"), so the containers select
 * their records exactly.
 */
function outputEntries(
  o: RouterOutput,
  family: string,
  containers: readonly string[],
  filesystem: LogRouterSpec | undefined,
  regionOf: (given: string | undefined) => string,
): [string, FluentBitValue][] {
  const [name, ...derived] = derivedProperties(o, family, (given) => regionOf(given));
  const entries: [string, FluentBitValue][] = [
    name!,
    ["Match_Regex", `^(${[...containers].join("|")})-firelens-[0-9a-f-]+$`],
    ...derived,
    ...optionProperties(o),
  ];
  if (filesystem !== undefined) {
    entries.push([
      "storage.total_limit_size",
      filesystem.router.buffer?.totalLimitSize ?? DEFAULT_TOTAL_LIMIT_SIZE,
    ]);
  }
  for (const s of o.secrets) entries.push([s.name, { env: secretVariable(o, s.name) }]);
  return entries;
}

function deliveryOf(spec: LogRouterSpec, s3: S3ObjectRef | undefined): string {
  const cf = spec.router.configFile;
  const image = routerImage(spec);
  if (cf === undefined) return "no router.configFile: FireLens will not read this file";
  const where = s3 !== undefined ? s3Url(s3) : cf.value;
  switch (cf.type) {
    case "s3":
      return (
        `apply uploads it to ${where} (config-file-type s3 works on the EC2 launch type only; the task execution ` +
        "role needs s3:GetObject on it and s3:GetBucketLocation on its bucket)"
      );
    case "init-s3":
      return (
        `apply uploads it to ${where}, and the router's init process downloads it at task start through ` +
        `${INIT_S3_VARIABLE}1 (Fargate and EC2; the task role needs s3:GetObject on it and s3:GetBucketLocation on ` +
        "its bucket: iam-policy --role task)" +
        (initImageKind(image) === "unknown"
          ? `; ${image} must be built FROM an aws-for-fluent-bit init image`
          : "")
      );
    case "file":
      return (
        `Fargate reads only config-file-type file: bake this file into a custom router image at ${cf.value} ` +
        `(Dockerfile: FROM ${image} / COPY ${cf.value.split("/").pop()} ${cf.value}); or use type init-s3, ` +
        "which needs no custom image"
      );
  }
}
