import { DEFAULT_OWNER_ID } from "../controllers/orphan-guard.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { AwsClientOptions } from "../controllers/aws/clients.ts";
import { closest, didYouMean } from "../controllers/did-you-mean.ts";
import { JsonLogger, type Logger, type LogLevel } from "../controllers/logger.ts";
import { invalidOwnerId } from "../reconcilers/weighted-record-set/registry.ts";
import { DEFAULT_PRUNE_GUARD, type PruneGuardPolicy } from "../controllers/prune-guard.ts";

/** A command's usage, shown by `--help` and after a usage error. */
export interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly [flag: string, description: string][];
  readonly examples: readonly string[];
  /** What the examples assume, printed under them (e.g. AWS access). */
  readonly examplesNote?: string;
}

/**
 * The note of a command whose examples call AWS: they use the usual AWS configuration, and this is how to point
 * them at a local emulator instead (the AWS CLI v1 reads AWS_DEFAULT_REGION, not AWS_REGION).
 */
export function emulatorNote(
  lead = "The examples call AWS through the usual configuration (AWS_REGION, the credential chain).",
): string {
  return (
    `${lead}\nAgainst a local emulator instead: \`moto_server -p 5000\`, then\n` +
    "  export AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \\\n" +
    "         AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x"
  );
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
    ...(h.examplesNote !== undefined ? ["", ...h.examplesNote.split("\n")] : []),
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
  // Node's own message for an unknown option explains `--` and positionals; a person who typed --regoin wants
  // to hear about --region. The lenient pass finds unknown options exactly as the strict one would.
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== "option" || Object.hasOwn(options, t.name)) continue;
    const names = Object.keys(options);
    const shorts = Object.entries(options).flatMap(([long, o]) => (o.short === t.name ? [long] : []));
    const suggestion = shorts[0] ?? closest(t.name, names);
    throw new UsageError(
      `unknown option ${t.rawName} ` +
        (suggestion !== undefined
          ? `(did you mean --${suggestion}?)`
          : `(options: ${names.map((n) => `--${n}`).join(", ")})`),
    );
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /^Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
    if (flag !== undefined && / argument missing/.test(message))
      throw new UsageError(`${flag} needs a value`);
    if (flag !== undefined && /does not take an argument/.test(message)) {
      throw new UsageError(`${flag} takes no value`);
    }
    throw new UsageError(message);
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

/** The deadlines of AWS calls, as `parseArgs` definitions (also taken by `render`, which reads task definitions). */
export const AWS_TIMEOUT_OPTIONS = {
  "aws-connect-timeout": { type: "string", default: "5s" },
  "aws-request-timeout": { type: "string", default: "30s" },
  "reconcile-timeout": { type: "string", default: "5m" },
} as const;

/** The prune guard's settings (see controllers/prune-guard.ts), as `parseArgs` definitions. */
export const PRUNE_GUARD_OPTIONS = {
  "allow-empty": { type: "boolean", default: false },
  "prune-guard-count": { type: "string", default: String(DEFAULT_PRUNE_GUARD.maxCount) },
  "prune-guard-fraction": { type: "string", default: String(DEFAULT_PRUNE_GUARD.maxFraction) },
} as const;

export const PRUNE_GUARD_OPTIONS_HELP: CommandHelp["options"] = [
  [
    "--allow-empty",
    "let an empty spec set delete what its removed specs asked to prune (default: held, as Argo CD's allowEmpty)",
  ],
  [
    "--prune-guard-count N",
    `hold the deletions of a kind when more than N of its specs go at once ... (default ${DEFAULT_PRUNE_GUARD.maxCount})`,
  ],
  [
    "--prune-guard-fraction F",
    `... and they are more than F (0 to 1) of its specs (default ${DEFAULT_PRUNE_GUARD.maxFraction}; 1 turns this off)`,
  ],
];

/** Reads and checks the prune guard's options. */
export function pruneGuardPolicy(values: {
  "allow-empty"?: boolean | undefined;
  "prune-guard-count"?: string | undefined;
  "prune-guard-fraction"?: string | undefined;
}): PruneGuardPolicy {
  const count = Number(values["prune-guard-count"] ?? DEFAULT_PRUNE_GUARD.maxCount);
  if (!Number.isInteger(count) || count < 0) {
    throw new UsageError("--prune-guard-count takes a whole number, 0 or more");
  }
  const fraction = Number(values["prune-guard-fraction"] ?? DEFAULT_PRUNE_GUARD.maxFraction);
  if (!(fraction >= 0 && fraction <= 1))
    throw new UsageError("--prune-guard-fraction takes a number from 0 to 1");
  return { allowEmpty: values["allow-empty"] === true, maxCount: count, maxFraction: fraction };
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
  ...AWS_TIMEOUT_OPTIONS,
  ...PRUNE_GUARD_OPTIONS,
} as const;

export const AWS_TIMEOUT_OPTIONS_HELP: CommandHelp["options"] = [
  ["--aws-connect-timeout DURATION", "how long opening a connection to AWS may take (default 5s)"],
  [
    "--aws-request-timeout DURATION",
    "how long one AWS request may take before it is abandoned and retried later (default 30s)",
  ],
  [
    "--reconcile-timeout DURATION",
    "how long one resource's reconcile may take; its AWS calls are aborted then (default 5m)",
  ],
];

export interface AwsTimeouts {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly reconcileTimeoutMs: number;
}

/** Reads and checks the timeout options. */
export function awsTimeouts(values: {
  "aws-connect-timeout"?: string | undefined;
  "aws-request-timeout"?: string | undefined;
  "reconcile-timeout"?: string | undefined;
}): AwsTimeouts {
  const read = (flag: string, text: string | undefined, fallback: string, min: number): number => {
    const ms = parseDuration(text ?? fallback);
    if (ms < min) throw new UsageError(`--${flag} must be at least ${min}ms`);
    return ms;
  };
  return {
    connectTimeoutMs: read("aws-connect-timeout", values["aws-connect-timeout"], "5s", 100),
    requestTimeoutMs: read("aws-request-timeout", values["aws-request-timeout"], "30s", 100),
    reconcileTimeoutMs: read("reconcile-timeout", values["reconcile-timeout"], "5m", 100),
  };
}

/** Their help lines. */
export const AWS_OPTIONS_HELP: CommandHelp["options"] = [
  ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
  [
    "--owner-id ID",
    "marks what this spec set owns in AWS (default: $ECS_LOG_OPERATOR_OWNER_ID or `default`, which never " +
      "removes orphans: give each spec set its own)",
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
  ...AWS_TIMEOUT_OPTIONS_HELP,
  ...PRUNE_GUARD_OPTIONS_HELP,
];

export interface AwsSettings extends AwsTimeouts {
  readonly pruneGuard: PruneGuardPolicy;
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
  "aws-connect-timeout"?: string | undefined;
  "aws-request-timeout"?: string | undefined;
  "reconcile-timeout"?: string | undefined;
  "allow-empty"?: boolean | undefined;
  "prune-guard-count"?: string | undefined;
  "prune-guard-fraction"?: string | undefined;
}): AwsSettings {
  const rate = (flag: "route53-rps" | "ecs-rps" | "cloudmap-rps" | "autoscaling-rps" | "ec2-rps") => {
    const n = values[flag] !== undefined ? Number(values[flag]) : undefined;
    if (n !== undefined && !(n > 0)) throw new UsageError(`--${flag} takes a positive number`);
    return n;
  };
  const rps = rate("route53-rps");
  return {
    ...awsTimeouts(values),
    pruneGuard: pruneGuardPolicy(values),
    environment: values.environment,
    ownerId: ownerIdOption(values["owner-id"]),
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

/**
 * `--owner-id`, else `$ECS_LOG_OPERATOR_OWNER_ID`, else `default`; checked here, once, rather than by every
 * resource that writes it.
 */
export function ownerIdOption(flag: string | undefined): string {
  const fromEnv = process.env.ECS_LOG_OPERATOR_OWNER_ID;
  const ownerId = flag ?? fromEnv ?? DEFAULT_OWNER_ID;
  const problem = invalidOwnerId(ownerId);
  if (problem !== undefined) {
    throw new UsageError(`${flag !== undefined ? "--owner-id" : "ECS_LOG_OPERATOR_OWNER_ID"}: ${problem}`);
  }
  return ownerId;
}

/** The one verbosity flag of plan, apply and run; `--verbose` is kept as its deprecated spelling of debug. */
export const LOG_LEVEL_OPTIONS = {
  "log-level": { type: "string" },
  verbose: { type: "boolean" },
} as const;

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export function logLevelHelp(fallback: "none" | LogLevel): [string, string] {
  return [
    "--log-level LEVEL",
    `log decisions as JSON lines at debug, info, warn or error and above (default ${fallback}; --verbose is debug)`,
  ];
}

/** The level asked for, or undefined for none; says once that --verbose is deprecated. */
export function logLevelOption(
  values: { "log-level"?: string | undefined; verbose?: boolean | undefined },
  io: Output,
): LogLevel | undefined {
  const level = values["log-level"];
  if (level !== undefined && !LEVELS.includes(level as LogLevel)) {
    throw new UsageError(`--log-level is one of ${LEVELS.join(", ")}${didYouMean(level, LEVELS)}`);
  }
  if (values.verbose === true) {
    io.err("--verbose is deprecated: use --log-level debug\n");
    return (level as LogLevel | undefined) ?? "debug";
  }
  return level as LogLevel | undefined;
}

/** plan and apply log on stderr, keeping stdout for the plan; none unless a level is asked for. */
export function stderrLogger(
  values: { "log-level"?: string | undefined; verbose?: boolean | undefined },
  io: Output,
): Logger | undefined {
  const level = logLevelOption(values, io);
  return level === undefined ? undefined : new JsonLogger({ write: (l) => io.err(l + "\n"), level });
}
