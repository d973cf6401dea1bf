import { parseArgs, type ParseArgsConfig } from "node:util";

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
