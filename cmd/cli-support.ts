import { parseArgs, type ParseArgsConfig } from "node:util";
import type { AwsClientOptions } from "../controllers/aws/clients.ts";

/** A command's usage, shown by `--help` and after a usage error. */
export interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly [flag: string, description: string][];
  readonly examples: readonly string[];
}

export function formatHelp(h: CommandHelp): string {
  const width = Math.max(...h.options.map(([f]) => f.length), 10);
  return [
    `Usage: ${h.usage}`,
    "",
    h.summary,
    "",
    "Options:",
    ...h.options.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    "",
    "Examples:",
    ...h.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

/** A mistake on the command line: printed as one sentence with a pointer to `--help`, exit 1. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `30s`, `2m`, `500ms`, `1h` or plain seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`invalid duration "${text}" (use e.g. 30s, 2m, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"]);
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Colours only on a terminal, and never with NO_COLOR set. */
  readonly color: boolean;
}

export const processOutput: Output = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  color: Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env && process.env.NO_COLOR !== ""),
};

export function paint(on: boolean, code: number, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** The options every command that talks to AWS takes, as `parseArgs` definitions. */
export const AWS_OPTIONS = {
  environment: { type: "string" },
  "owner-id": { type: "string" },
  "route53-rps": { type: "string" },
  "ecs-rps": { type: "string" },
  "cloudmap-rps": { type: "string" },
  "autoscaling-rps": { type: "string" },
  "ec2-rps": { type: "string" },
  region: { type: "string" },
  "endpoint-url": { type: "string" },
} as const;

/** Their help lines. */
export const AWS_OPTIONS_HELP: CommandHelp["options"] = [
  ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
  [
    "--owner-id ID",
    "marks what this operator owns in AWS (default: $ECS_LOG_OPERATOR_OWNER_ID or `default`)",
  ],
  [
    "--route53-rps N",
    "client-side limit on Route 53 requests a second (default 5; the account quota is shared)",
  ],
  ["--ecs-rps N", "client-side limit on ECS requests a second (default 20, bursts of 50)"],
  ["--ec2-rps N", "client-side limit on EC2 requests a second (default 20, bursts of 100)"],
  ["--cloudmap-rps N", "client-side limit on Cloud Map requests a second (default: none)"],
  ["--autoscaling-rps N", "client-side limit on Auto Scaling requests a second (default: none)"],
  ["--region REGION", "AWS region (default: the SDK's chain, e.g. $AWS_REGION)"],
  ["--endpoint-url URL", "send every AWS call to URL, e.g. a local emulator (default: $AWS_ENDPOINT_URL)"],
];

export interface AwsSettings {
  readonly environment: string | undefined;
  readonly ownerId: string;
  readonly route53RequestsPerSecond: number | undefined;
  /** ECS, EC2, Cloud Map and Auto Scaling limits given on the command line. */
  readonly requestsPerSecond: AwsClientOptions["requestsPerSecond"];
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
}

/** Reads and checks the AWS options; defaults come from the environment where the help says so. */
export function awsSettings(values: {
  environment?: string | undefined;
  "owner-id"?: string | undefined;
  "route53-rps"?: string | undefined;
  "ecs-rps"?: string | undefined;
  "cloudmap-rps"?: string | undefined;
  "autoscaling-rps"?: string | undefined;
  "ec2-rps"?: string | undefined;
  region?: string | undefined;
  "endpoint-url"?: string | undefined;
}): AwsSettings {
  const rate = (flag: "route53-rps" | "ecs-rps" | "cloudmap-rps" | "autoscaling-rps" | "ec2-rps") => {
    const n = values[flag] !== undefined ? Number(values[flag]) : undefined;
    if (n !== undefined && !(n > 0)) throw new UsageError(`--${flag} takes a positive number`);
    return n;
  };
  const rps = rate("route53-rps");
  return {
    environment: values.environment,
    ownerId: values["owner-id"] ?? process.env.ECS_LOG_OPERATOR_OWNER_ID ?? "default",
    route53RequestsPerSecond: rps,
    requestsPerSecond: {
      ecs: rate("ecs-rps"),
      servicediscovery: rate("cloudmap-rps"),
      autoscaling: rate("autoscaling-rps"),
      ec2: rate("ec2-rps"),
    },
    region: values.region,
    endpoint: values["endpoint-url"],
  };
}
