import { Cursor, type PatternValue } from "./pattern-values.ts";

/**
 * Terms in unstructured log events: `ERROR`, `"Failed to process"`, `?ERROR ?WARN`, `ERROR -Exiting`, or a regex
 * alone (`%AUTHORIZED%`).
 *
 * - A term matches an event that contains it anywhere ("ERROR" matches "Exiting with ERRORCODE: -1"); matching is
 *   case sensitive. A quoted phrase matches as a whole: `"ERROR Exception"` is one phrase, `ERROR Exception` two terms.
 * - Terms with characters other than letters, digits and `_` must be quoted; `\"` and `\\` escape inside quotes.
 * - Every term must match, and no `-term` may: `ERROR -Exiting`.
 * - `?term` starts an alternative: `?ERROR ?WARN` matches either, and the terms after a `?term` belong to its
 *   alternative, as AWS's own CDK writes term groups (`?"ERROR" "MainThread" ?"WARN" "Deadlock"`).
 * - An empty pattern (or `""`) matches every event.
 */
export interface TermsPattern {
  readonly syntax: "terms";
  /** Alternatives: the event matches when one of them does. */
  readonly alternatives: readonly TermGroup[];
}

export interface TermGroup {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

export interface RegexPattern {
  readonly syntax: "regex";
  readonly regex: PatternValue & { type: "regex" };
}

const BARE_TERM = /[A-Za-z0-9_]/;

export function parseTerms(text: string): TermsPattern | RegexPattern {
  const c: Cursor = new Cursor(text);
  c.skipSpaces();
  if (c.peek() === "%") {
    const regex = c.regex();
    c.skipSpaces();
    if (!c.done) {
      c.fail(
        "a regex pattern stands alone: to combine it with conditions, use a JSON or space-delimited pattern",
      );
    }
    return { syntax: "regex", regex };
  }
  const groups: { include: string[]; exclude: string[] }[] = [{ include: [], exclude: [] }];
  while ((c.skipSpaces(), !c.done)) {
    const at = c.pos;
    let alternative = false;
    let exclude = false;
    if (c.peek() === "?") {
      alternative = true;
      c.pos++;
    } else if (c.peek() === "-") {
      exclude = true;
      c.pos++;
      // The guide writes an exclusion with a space too: "ERROR" - "Exiting".
      c.skipSpaces();
    }
    if (c.peek() === "?" || c.peek() === "-")
      c.fail(`'${c.text[at]}${c.peek()}': a term takes one prefix, ? or -`);
    if (c.done || /\s/.test(c.peek())) c.fail(`'${c.text[at]}' must be followed by a term`, at);
    let term: string;
    if (c.peek() === '"') {
      term = c.quoted();
      if (!c.done && !/\s/.test(c.peek()))
        c.fail(`expected a space after the quoted phrase, found ${c.describe()}`);
    } else if (c.peek() === "%") {
      return c.fail(
        "a regex pattern stands alone: to combine it with conditions, use a JSON or space-delimited pattern",
      );
    } else {
      const start = c.pos;
      while (!c.done && !/\s/.test(c.peek())) {
        if (!BARE_TERM.test(c.peek())) {
          const word = /^\S+/.exec(text.slice(start))?.[0] ?? "";
          c.fail(
            `'${c.peek()}' needs quotes: a term with characters other than letters, digits and _ goes in double quotes ("${word.replace(/"/g, '\\"')}")`,
          );
        }
        c.pos++;
      }
      term = text.slice(start, c.pos);
    }
    if (alternative && (groups.length > 1 || groups[0]!.include.length + groups[0]!.exclude.length > 0)) {
      groups.push({ include: [], exclude: [] });
    }
    const group = groups[groups.length - 1]!;
    (exclude ? group.exclude : group.include).push(term);
  }
  return { syntax: "terms", alternatives: groups };
}

export function matchTerms(pattern: TermsPattern | RegexPattern, message: string): boolean {
  if (pattern.syntax === "regex") return pattern.regex.regex.test(message);
  return pattern.alternatives.some(
    (g) => g.include.every((t) => message.includes(t)) && !g.exclude.some((t) => message.includes(t)),
  );
}
