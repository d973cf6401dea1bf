import { matchDelimited, parseDelimited, type DelimitedPattern } from "./delimited-pattern.ts";
import {
  matchJson,
  parseJson,
  select,
  parseJsonEvent,
  type JsonPattern,
  type Selector,
} from "./json-pattern.ts";
import { isNumberText, MAX_REGEX_PER_PATTERN, PatternSyntaxError } from "./pattern-values.ts";
import { matchTerms, parseTerms, type RegexPattern, type TermsPattern } from "./terms-pattern.ts";

/**
 * A CloudWatch Logs filter pattern, parsed offline: terms (`ERROR -Exiting`, `?ERROR ?WARN`), a regex (`%ERR\d+%`),
 * JSON (`{ $.errorCode = "AccessDenied" }`) or space-delimited (`[ip, ..., status_code = 5*, bytes]`). The first
 * non-blank character chooses the syntax, as CloudWatch Logs does: `{` JSON, `[` space-delimited, anything else terms.
 */
export type FilterPattern = TermsPattern | RegexPattern | JsonPattern | DelimitedPattern;

export { PatternSyntaxError };

/** PutMetricFilter's `filterPattern`: "Length Constraints: Minimum length of 0. Maximum length of 1024." */
export const MAX_PATTERN_LENGTH = 1024;

/** Parses a pattern; throws `PatternSyntaxError` at the character at fault. */
export function parseFilterPattern(text: string): FilterPattern {
  if (text.length > MAX_PATTERN_LENGTH) {
    throw new PatternSyntaxError(
      MAX_PATTERN_LENGTH,
      `the pattern has ${text.length} characters; CloudWatch Logs takes at most ${MAX_PATTERN_LENGTH}`,
    );
  }
  const first = text.trimStart()[0];
  const pattern = first === "{" ? parseJson(text) : first === "[" ? parseDelimited(text) : parseTerms(text);
  if (
    (pattern.syntax === "json" || pattern.syntax === "delimited") &&
    pattern.regexes > MAX_REGEX_PER_PATTERN
  ) {
    throw new PatternSyntaxError(
      nthRegexIndex(text, MAX_REGEX_PER_PATTERN + 1),
      `${pattern.regexes} regexes in one pattern; CloudWatch Logs allows at most ${MAX_REGEX_PER_PATTERN} in a JSON or space-delimited pattern`,
    );
  }
  return pattern;
}

/** Where the n-th `%regex%` (1-based) opens, skipping quoted strings. */
function nthRegexIndex(text: string, n: number): number {
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (text[i] === "%") {
      if (++seen === n) return i;
      i = text.indexOf("%", i + 1);
      if (i < 0) break;
    }
  }
  return 0;
}

/** Whether the pattern holds a regex: CloudWatch Logs allows at most 5 such metric filters per log group. */
export function usesRegex(pattern: FilterPattern): boolean {
  return (
    pattern.syntax === "regex" ||
    ((pattern.syntax === "json" || pattern.syntax === "delimited") && pattern.regexes > 0)
  );
}

/** Counted for the quota on a log group's filters, from a pattern observed in AWS (which may not parse here). */
export function textUsesRegex(text: string): boolean {
  try {
    return usesRegex(parseFilterPattern(text));
  } catch {
    return /%[^%]+%/.test(text);
  }
}

export interface EventMatch {
  readonly matched: boolean;
  /** As TestMetricFilter's `extractedValues`: the fields of a space-delimited event; empty for the other syntaxes. */
  readonly extractedValues: Readonly<Record<string, string>>;
}

export function matchEvent(pattern: FilterPattern, message: string): EventMatch {
  switch (pattern.syntax) {
    case "terms":
    case "regex":
      return { matched: matchTerms(pattern, message), extractedValues: {} };
    case "json":
      return { matched: matchJson(pattern, message), extractedValues: {} };
    case "delimited": {
      const extracted = matchDelimited(pattern, message);
      return { matched: extracted !== undefined, extractedValues: extracted ?? {} };
    }
  }
}

/**
 * A metric filter's `metricValue`: a number published for each match, `$.selector` (a JSON pattern's field) or
 * `$name` / `$N` (a space-delimited pattern's field).
 */
export type MetricValue =
  | { readonly type: "number"; readonly value: number }
  | { readonly type: "json"; readonly selector: Selector }
  | { readonly type: "field"; readonly field: string };

/** Parses `metricValue` against the pattern it goes with; a string is the problem. */
export function parseMetricValue(text: string, pattern: FilterPattern): MetricValue | string {
  const t = text.trim();
  if (isNumberText(t)) return { type: "number", value: Number(t) };
  if (t.startsWith("$.")) {
    if (pattern.syntax !== "json") return `${t} names a JSON field: it needs a JSON pattern ({ ... })`;
    const m = /^\$((\.[A-Za-z0-9_-]+)(\[\d+\])*)+$/.exec(t);
    if (m === null) return `${t} is not a JSON selector such as $.latency`;
    const steps = [...t.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)].map((s) =>
      s[1] !== undefined ? s[1] : Number(s[2]),
    );
    return { type: "json", selector: { text: t, steps } };
  }
  const field = /^\$([A-Za-z0-9_-]+)$/.exec(t)?.[1];
  if (field !== undefined) {
    if (pattern.syntax !== "delimited") {
      return `$${field} names a space-delimited field: it needs a space-delimited pattern ([...])`;
    }
    const named = pattern.fields.some((f) => f.type === "field" && f.name === field);
    if (!named && !/^\d+$/.test(field)) return `$${field} is not a field of the pattern`;
    return { type: "field", field };
  }
  return `"${text}" is not a metric value: a number, $.field (JSON) or $field (space-delimited)`;
}

/**
 * What one event publishes: the value for a match (undefined when the field it names is not a number), or the
 * default value (if any) for an event that does not match.
 */
export function metricValueOf(
  value: MetricValue,
  message: string,
  match: EventMatch,
  defaultValue: number | undefined,
): number | undefined {
  if (!match.matched) return defaultValue;
  switch (value.type) {
    case "number":
      return value.value;
    case "json": {
      const v = select(parseJsonEvent(message), value.selector);
      return numeric(v);
    }
    case "field":
      return numeric(match.extractedValues[`$${value.field}`]);
  }
}

function numeric(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && isNumberText(v.trim())) return Number(v);
  return undefined;
}
