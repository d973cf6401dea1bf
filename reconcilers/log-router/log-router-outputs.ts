import { OUTPUT_PLUGINS, type OutputPluginProperties } from "./fluent-bit-output-properties.ts";
import {
  FIRELENS_KINDS,
  type AdditionalOutput,
  type FireLensKind,
  type FireLensOutputFields,
  type LogRouterOutput,
  type LogRouterSpec,
} from "./log-router-kind.ts";

type Path = (string | number)[];

/** A secret for one output property, by ARN, and where the spec gave it. */
export interface OutputSecret {
  readonly name: string;
  readonly valueFrom: string;
  readonly path: Path;
}

/**
 * One Fluent Bit output of a LogRouter: the first (`output`, delivered by FireLens from the containers' log options)
 * or one of `additionalOutputs` (written into the rendered config). awslogs is no Fluent Bit output and never one.
 */
export interface RouterOutput {
  /** 0 for `output`, N for `additionalOutputs[N-1]`. */
  readonly index: number;
  /** The spec path of the object that holds the output kind: ["output"] or ["additionalOutputs", N-1]. */
  readonly path: Path;
  readonly kind: FireLensKind;
  readonly plugin: OutputPluginProperties;
  readonly fields: FireLensOutputFields;
  /** The output's secrets: its kind's own (Datadog's apiKeySecretArn as `apikey`), then its secretOptions. */
  readonly secrets: readonly OutputSecret[];
  /** For additional outputs, the containers it takes when not the same as `output`'s. */
  readonly containers?: readonly string[] | undefined;
}

function kindOf(o: LogRouterOutput | AdditionalOutput): FireLensKind | undefined {
  const present = FIRELENS_KINDS.filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  return present.length === 1 ? present[0] : undefined;
}

function routerOutput(
  index: number,
  path: Path,
  holder: LogRouterOutput | AdditionalOutput,
  extraSecrets: readonly { name: string; valueFrom: string }[],
  extraSecretsPath: Path,
  containers?: readonly string[],
): RouterOutput | undefined {
  const kind = kindOf(holder);
  if (kind === undefined) return undefined;
  const fields = (holder as Record<string, unknown>)[kind] as FireLensOutputFields;
  const secrets: OutputSecret[] = [];
  if (kind === "datadog") {
    const dd = fields as { apiKeySecretArn: string };
    secrets.push({ name: "apikey", valueFrom: dd.apiKeySecretArn, path: [...path, kind, "apiKeySecretArn"] });
  }
  extraSecrets.forEach((s, i) =>
    secrets.push({ name: s.name, valueFrom: s.valueFrom, path: [...extraSecretsPath, i, "name"] }),
  );
  return { index, path, kind, plugin: OUTPUT_PLUGINS[kind], fields, secrets, containers };
}

/**
 * The spec's Fluent Bit outputs, the first one first. An output whose kind is not exactly one (which the kind's
 * check reports) is left out; with `output.awslogs` there is no first output.
 */
export function routerOutputs(spec: LogRouterSpec): RouterOutput[] {
  const out: RouterOutput[] = [];
  const first = routerOutput(0, ["output"], spec.output, spec.secretOptions ?? [], ["secretOptions"]);
  if (first !== undefined && spec.output.awslogs === undefined) out.push(first);
  (spec.additionalOutputs ?? []).forEach((a, i) => {
    const o = routerOutput(
      i + 1,
      ["additionalOutputs", i],
      a,
      a.secretOptions ?? [],
      ["additionalOutputs", i, "secretOptions"],
      a.containers,
    );
    if (o !== undefined) out.push(o);
  });
  return out;
}

/** Resolves an output's region: its own, else the operator's; reports and returns "" when there is none. */
export type RegionOf = (given: string | undefined, path: Path) => string;

/**
 * The properties the operator derives from an output's typed fields, `Name` first, in a fixed order. Keys are
 * written as AWS's FireLens examples write them.
 */
export function derivedProperties(o: RouterOutput, family: string, regionOf: RegionOf): [string, string][] {
  const at = (field: string): Path => [...o.path, o.kind, field];
  switch (o.kind) {
    case "datadog": {
      const f = o.fields as { host?: string; service?: string; source?: string; tags?: string };
      return [
        ["Name", "datadog"],
        ["Host", f.host ?? "http-intake.logs.datadoghq.com"],
        ["TLS", "on"],
        ...(f.service !== undefined ? [["dd_service", f.service] as [string, string]] : []),
        ...(f.source !== undefined ? [["dd_source", f.source] as [string, string]] : []),
        ...(f.tags !== undefined ? [["dd_tags", f.tags] as [string, string]] : []),
        ["provider", "ecs"],
      ];
    }
    case "cloudwatch": {
      const f = o.fields as { group: string; streamPrefix?: string; createGroup?: boolean; region?: string };
      return [
        ["Name", "cloudwatch_logs"],
        ["region", regionOf(f.region, at("region"))],
        ["log_group_name", f.group],
        ["log_stream_prefix", f.streamPrefix ?? `${family}/`],
        ...(f.createGroup === true ? [["auto_create_group", "true"] as [string, string]] : []),
      ];
    }
    case "firehose": {
      const f = o.fields as { deliveryStream: string; region?: string };
      return [
        ["Name", "kinesis_firehose"],
        ["region", regionOf(f.region, at("region"))],
        ["delivery_stream", f.deliveryStream],
      ];
    }
    case "s3": {
      const f = o.fields as { bucket: string; prefix?: string; region?: string };
      const prefix = f.prefix?.replace(/^\/+|\/+$/g, "");
      return [
        ["Name", "s3"],
        ["region", regionOf(f.region, at("region"))],
        ["bucket", f.bucket],
        ["total_file_size", "1M"],
        ["upload_timeout", "1m"],
        ["use_put_object", "On"],
        ...(prefix !== undefined && prefix !== ""
          ? [["s3_key_format", `/${prefix}/$TAG/%Y/%m/%d/%H-%M-%S`] as [string, string]]
          : []),
      ];
    }
    case "opensearch": {
      const f = o.fields as { endpoint: string; index: string; port?: number; region?: string };
      return [
        ["Name", "opensearch"],
        ["Host", f.endpoint],
        ["Port", String(f.port ?? 443)],
        ["Index", f.index],
        ["AWS_Auth", "On"],
        ["AWS_Region", regionOf(f.region, at("region"))],
        ["tls", "On"],
        ["Suppress_Type_Name", "On"],
      ];
    }
    case "forward": {
      const f = o.fields as { host: string; port?: number };
      return [
        ["Name", "forward"],
        ["Host", f.host],
        ["Port", String(f.port ?? 24224)],
      ];
    }
  }
}

/** The user's `options`, as written. */
export function optionProperties(o: RouterOutput): [string, string][] {
  return Object.entries(o.fields.options ?? {});
}

/** An environment variable name for an additional output's secret: ELO_OUTPUT_1_HTTP_PASSWD. */
export function secretVariable(o: RouterOutput, property: string): string {
  return `${SECRET_VARIABLE_PREFIX}${o.index}_${property.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The router environment variables (from `secrets`) this operator owns: any it no longer needs is removed. */
export const SECRET_VARIABLE_PREFIX = "ELO_OUTPUT_";
