import type { PatchIssue, PatchOptions } from "../task-definition/patch-issue.ts";
import {
  containerNames,
  type ContainerJson,
  type LogConfigurationJson,
  type TaskDefinitionJson,
} from "../task-definition/task-definition.ts";
import { parseS3ObjectArn, s3Url, type S3ObjectRef } from "../task-definition/s3-object-arn.ts";
import { renderFluentBitConfig, unsafeValueReason, type FluentBitSection } from "./fluent-bit-config.ts";
import {
  DEFAULT_ROUTER_IMAGE,
  needsConfigFile,
  outputKind,
  routerName,
  type LogRouterOutput,
  type LogRouterSpec,
} from "./log-router-kind.ts";

type Path = (string | number)[];

/**
 * Patches the FireLens shape AWS documents onto `td` (a working copy, changed in place): a `fluentbit` router
 * container and `awsfirelens` log configuration on the routed containers, or plain awslogs (and no router) for the
 * awslogs output. Only the fields the spec owns are set; everything else on every container is kept, so a new image
 * from the pipeline survives. Pure apart from changing `td`.
 */
/** What AWS's FireLens examples give the router: enough for Fluent Bit's usual load. */
export const DEFAULT_ROUTER_MEMORY_RESERVATION = 50;

export function applyLogRouter(
  td: TaskDefinitionJson,
  spec: LogRouterSpec,
  options: PatchOptions,
): PatchIssue[] {
  const issues: PatchIssue[] = [];
  const error = (path: Path, message: string): void => {
    issues.push({ path, message, severity: "error" });
  };
  const name = routerName(spec);
  const kind = outputKind(spec.output);
  if (kind === undefined) return [{ path: ["output"], message: "no output", severity: "error" }];

  for (const c of td.containerDefinitions) {
    if (c.firelensConfiguration !== undefined && c.name !== name) {
      error(
        ["router", "name"],
        `family ${td.family} already has a FireLens router "${c.name}" and a task takes only one; ` +
          `set router.name: ${c.name} to manage it`,
      );
    }
  }
  const regionOf = (given: string | undefined, path: Path): string => {
    const region = given ?? options.region;
    if (region === undefined) {
      error(path, "no region: set region here, or give the operator one (AWS_REGION or --region)");
      return "";
    }
    return region;
  };

  const targets = routedContainers(td, spec, name, error);
  if (kind === "awslogs") {
    const o = spec.output.awslogs!;
    const logConfiguration = awslogs(o, regionOf(o.region, ["output", "awslogs", "region"]));
    // Without FireLens a router would route nothing; a router this spec added is removed.
    td.containerDefinitions = td.containerDefinitions.filter(
      (c) => !(c.name === name && c.firelensConfiguration !== undefined),
    );
    for (const c of targets) c.logConfiguration = structuredClone(logConfiguration);
  } else {
    const logConfiguration = firelensLogConfiguration(spec, kind, td.family, regionOf);
    for (const c of targets) c.logConfiguration = structuredClone(logConfiguration);
    upsertRouter(td, spec, name, regionOf);
  }
  issues.push(...unsafeOptionIssues(td));
  return issues;
}

function routedContainers(
  td: TaskDefinitionJson,
  spec: LogRouterSpec,
  router: string,
  error: (path: Path, message: string) => void,
): ContainerJson[] {
  if (spec.containers === undefined) {
    return td.containerDefinitions.filter((c) => c.name !== router && c.firelensConfiguration === undefined);
  }
  const out: ContainerJson[] = [];
  spec.containers.forEach((name, i) => {
    const c = td.containerDefinitions.find((x) => x.name === name);
    if (c === undefined) {
      error(
        ["containers", i],
        `family ${td.family} has no container "${name}" (it has ${containerNames(td)})`,
      );
    } else {
      out.push(c);
    }
  });
  return out;
}

function awslogs(
  o: { group: string; streamPrefix: string; createGroup?: boolean | undefined },
  region: string,
): LogConfigurationJson {
  const options: Record<string, string> = {
    "awslogs-group": o.group,
    "awslogs-region": region,
    "awslogs-stream-prefix": o.streamPrefix,
  };
  if (o.createGroup === true) options["awslogs-create-group"] = "true";
  return { logDriver: "awslogs", options };
}

function firelensLogConfiguration(
  spec: LogRouterSpec,
  kind: Exclude<keyof LogRouterOutput, "awslogs">,
  family: string,
  regionOf: (given: string | undefined, path: Path) => string,
): LogConfigurationJson {
  const out = spec.output;
  const secretOptions: { name: string; valueFrom: string }[] = [];
  let options: Record<string, string>;
  switch (kind) {
    case "datadog": {
      const o = out.datadog!;
      options = { Name: "datadog", Host: o.host ?? "http-intake.logs.datadoghq.com", TLS: "on" };
      if (o.service !== undefined) options.dd_service = o.service;
      if (o.source !== undefined) options.dd_source = o.source;
      if (o.tags !== undefined) options.dd_tags = o.tags;
      options.provider = "ecs";
      // The key travels as a secret reference: ECS resolves it at task start with the execution role.
      secretOptions.push({ name: "apikey", valueFrom: o.apiKeySecretArn });
      break;
    }
    case "cloudwatch": {
      const o = out.cloudwatch!;
      options = {
        Name: "cloudwatch_logs",
        region: regionOf(o.region, ["output", "cloudwatch", "region"]),
        log_group_name: o.group,
        log_stream_prefix: o.streamPrefix ?? `${family}/`,
      };
      if (o.createGroup === true) options.auto_create_group = "true";
      break;
    }
    case "firehose": {
      const o = out.firehose!;
      options = {
        Name: "kinesis_firehose",
        region: regionOf(o.region, ["output", "firehose", "region"]),
        delivery_stream: o.deliveryStream,
      };
      break;
    }
    case "s3": {
      const o = out.s3!;
      options = {
        Name: "s3",
        region: regionOf(o.region, ["output", "s3", "region"]),
        bucket: o.bucket,
        total_file_size: "1M",
        upload_timeout: "1m",
        use_put_object: "On",
      };
      const prefix = o.prefix?.replace(/^\/+|\/+$/g, "");
      if (prefix !== undefined && prefix !== "") options.s3_key_format = `/${prefix}/$TAG/%Y/%m/%d/%H-%M-%S`;
      break;
    }
    case "opensearch": {
      const o = out.opensearch!;
      options = {
        Name: "opensearch",
        Host: o.endpoint,
        Port: String(o.port ?? 443),
        Index: o.index,
        AWS_Auth: "On",
        AWS_Region: regionOf(o.region, ["output", "opensearch", "region"]),
        tls: "On",
        Suppress_Type_Name: "On",
      };
      break;
    }
    case "forward": {
      const o = out.forward!;
      options = { Name: "forward", Host: o.host, Port: String(o.port ?? 24224) };
      break;
    }
  }
  secretOptions.push(...(spec.secretOptions ?? []).map((s) => ({ name: s.name, valueFrom: s.valueFrom })));
  return {
    logDriver: "awsfirelens",
    options,
    ...(secretOptions.length > 0 ? { secretOptions } : {}),
  };
}

function upsertRouter(
  td: TaskDefinitionJson,
  spec: LogRouterSpec,
  name: string,
  regionOf: (given: string | undefined, path: Path) => string,
): void {
  const firelensOptions: Record<string, string> = {
    "enable-ecs-log-metadata": spec.router.enableEcsLogMetadata === false ? "false" : "true",
  };
  const cf = spec.router.configFile;
  if (cf !== undefined) {
    firelensOptions["config-file-type"] = cf.type;
    firelensOptions["config-file-value"] = cf.value;
  }
  const owned: Partial<ContainerJson> = {
    image: spec.router.image ?? DEFAULT_ROUTER_IMAGE,
    essential: spec.router.essential ?? true,
  };
  const existing = td.containerDefinitions.find((c) => c.name === name);
  if (spec.router.memoryReservation !== undefined) {
    owned.memoryReservation = spec.router.memoryReservation;
  } else if (
    td.memory === undefined &&
    existing?.memory === undefined &&
    existing?.memoryReservation === undefined
  ) {
    // Without task-level memory, ECS rejects a container that has neither memory nor memoryReservation.
    owned.memoryReservation = DEFAULT_ROUTER_MEMORY_RESERVATION;
  }
  owned.firelensConfiguration = { type: "fluentbit", options: firelensOptions };
  const logs = spec.router.logs;
  if (logs !== undefined)
    owned.logConfiguration = awslogs(logs, regionOf(logs.region, ["router", "logs", "region"]));
  if (existing !== undefined) Object.assign(existing, owned);
  else td.containerDefinitions.push({ name, ...owned });
}

/** FireLens writes every option into the router's generated config, so options obey the emitter's rule too. */
function unsafeOptionIssues(td: TaskDefinitionJson): PatchIssue[] {
  const issues: PatchIssue[] = [];
  for (const c of td.containerDefinitions) {
    const options = {
      ...(c.logConfiguration?.logDriver === "awsfirelens" ? c.logConfiguration.options : {}),
      ...c.firelensConfiguration?.options,
    };
    for (const [k, v] of Object.entries(options)) {
      const reason = unsafeValueReason(v);
      if (reason !== undefined) {
        issues.push({ path: [], message: `option ${k} of container ${c.name} ${reason}`, severity: "error" });
      }
    }
  }
  return issues;
}

/** The extra Fluent Bit file the spec needs (multiline, throttle), with how it reaches the router. */
export interface RenderedFluentBitConfig {
  readonly text: string;
  readonly delivery: string;
  /** For `configFile.type: s3`: the object `apply` keeps this text in. */
  readonly s3?: S3ObjectRef | undefined;
}

export function fluentBitConfigFor(
  spec: LogRouterSpec,
  family: string,
  source: string,
): RenderedFluentBitConfig | undefined {
  if (!needsConfigFile(spec) || spec.output.awslogs !== undefined) return undefined;
  const sections: FluentBitSection[] = [];
  if (spec.multiline !== undefined) {
    sections.push({
      name: "FILTER",
      entries: [
        ["name", "multiline"],
        ["match", "*"],
        ["multiline.key_content", spec.multiline.keyContent ?? "log"],
        ["multiline.parser", spec.multiline.parsers.join(",")],
      ],
    });
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
  const cf = spec.router.configFile;
  const s3 = cf?.type === "s3" ? parseS3ObjectArn(cf.value) : undefined;
  const delivery =
    cf === undefined
      ? "no router.configFile: FireLens will not read this file"
      : cf.type === "s3"
        ? `apply uploads it to ${s3 !== undefined ? s3Url(s3) : cf.value} (config-file-type s3 works on the EC2 ` +
          "launch type only; the task execution role needs s3:GetObject on it and s3:GetBucketLocation on its bucket)"
        : `Fargate reads only config-file-type file: bake this file into a custom router image at ${cf.value} ` +
          `(Dockerfile: FROM ${spec.router.image ?? DEFAULT_ROUTER_IMAGE} / COPY ${cf.value.split("/").pop()} ${cf.value})`;
  const text = renderFluentBitConfig(sections, [
    `Fluent Bit config for task definition family ${family}, rendered by ecs-log-operator from ${source}.`,
    `Delivery: ${delivery}.`,
  ]);
  return { text, delivery, s3 };
}
