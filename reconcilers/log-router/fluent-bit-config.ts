/**
 * A typed emitter for Fluent Bit's classic configuration format. Values are never pasted into a template: each one
 * is checked and written as the value of one `key value` line, so a user string cannot open a section, include a
 * file or expand an environment variable. Fluent Bit reads a line break as the end of an entry, a leading `[` as a
 * section header, a leading `@` as a directive (`@INCLUDE`, `@SET`) and `${NAME}` as an environment variable.
 */

export type FluentBitSectionName = "SERVICE" | "INPUT" | "FILTER" | "OUTPUT" | "PARSER" | "MULTILINE_PARSER";

/**
 * A reference to an environment variable of the router, written `${NAME}`: the one way a value may expand one, so a
 * secret reaches Fluent Bit without its value ever being in the file.
 */
export interface EnvReference {
  readonly env: string;
}

export type FluentBitValue = string | number | boolean | EnvReference;

export interface FluentBitSection {
  readonly name: FluentBitSectionName;
  /** Written in this order: the emitter never sorts, so callers decide and the output is stable. */
  readonly entries: readonly (readonly [key: string, value: FluentBitValue])[];
}

export class FluentBitConfigError extends Error {
  override readonly name = "FluentBitConfigError";
}

const KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `value` cannot be written into a Fluent Bit file (or a FireLens option), or undefined when it can. */
export function unsafeValueReason(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "contains a line break";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return "contains a control character";
  if (/^\s*\[/.test(value)) return "starts with [ (a section header)";
  if (/^\s*@/.test(value)) return "starts with @ (a directive such as @INCLUDE)";
  if (value.includes("${")) return "contains ${ (an environment variable expansion)";
  return undefined;
}

function entryValue(key: string, value: FluentBitValue): string {
  if (typeof value === "object") {
    if (!ENV_NAME.test(value.env)) {
      throw new FluentBitConfigError(`value of ${key} names an invalid environment variable`);
    }
    return `\${${value.env}}`;
  }
  if (typeof value === "boolean") return value ? "On" : "Off";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FluentBitConfigError(`value of ${key} is not a finite number`);
    return String(value);
  }
  const reason = unsafeValueReason(value);
  if (reason !== undefined) throw new FluentBitConfigError(`value of ${key} ${reason}`);
  if (value.trim() === "") throw new FluentBitConfigError(`value of ${key} is empty`);
  return value;
}

/** Renders sections, each entry on its own line with keys aligned; `comments` go first, one `#` line each. */
export function renderFluentBitConfig(
  sections: readonly FluentBitSection[],
  comments: readonly string[] = [],
): string {
  const lines: string[] = [];
  for (const c of comments) {
    if (/[\r\n]/.test(c)) throw new FluentBitConfigError("a comment cannot contain a line break");
    lines.push(c === "" ? "#" : `# ${c}`);
  }
  for (const section of sections) {
    if (lines.length > 0) lines.push("");
    lines.push(`[${section.name}]`);
    const width = Math.max(0, ...section.entries.map(([k]) => k.length));
    for (const [key, value] of section.entries) {
      if (!KEY.test(key)) throw new FluentBitConfigError(`invalid key ${JSON.stringify(key)}`);
      lines.push(`    ${key.padEnd(width)} ${entryValue(key, value)}`);
    }
  }
  return lines.join("\n") + "\n";
}
