import { stringify } from "yaml";
import { UsageError, type Output } from "./cli-support.ts";

/** How a command prints its data: `table` for people, `json` and `yaml` for programs. */
export type OutputFormat = "table" | "json" | "yaml";

/** The `--output` option, as `parseArgs` takes it (`-o` as kubectl spells it). */
export const OUTPUT_OPTION = { output: { type: "string", short: "o" } } as const;

/**
 * Reads `--output`. `text` is kept as another name for `table` (plan printed `text` before the formats were made
 * one across commands).
 */
export function parseOutputFormat(
  value: string | undefined,
  allowed: readonly OutputFormat[],
  fallback: OutputFormat,
): OutputFormat {
  if (value === undefined) return fallback;
  const format = value === "text" && allowed.includes("table") ? "table" : value;
  if (!(allowed as readonly string[]).includes(format)) {
    throw new UsageError(`--output is ${allowed.join(", ")}, not ${JSON.stringify(value)}`);
  }
  return format as OutputFormat;
}

/** `--output` in a command's help. */
export function outputHelp(allowed: readonly OutputFormat[], fallback: OutputFormat): [string, string] {
  return [`-o, --output ${allowed.join("|")}`, `output format (default ${fallback})`];
}

/** Prints data as JSON or YAML; stable, two-space indented, ending in a newline. */
export function printData(io: Output, format: "json" | "yaml", data: unknown): void {
  io.out(format === "json" ? JSON.stringify(data, null, 2) + "\n" : stringify(data, { lineWidth: 0 }));
}

/** Columns padded to their widest cell, two spaces apart, a header first. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}
