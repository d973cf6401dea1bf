/**
 * What the three filter pattern syntaxes share: the values a condition compares with (numbers, strings with `*`
 * wildcards, `%regex%`), how a comparison is evaluated, and a cursor that reads a pattern and reports a syntax error
 * at its character index.
 *
 * Sources (CloudWatch Logs User Guide, "Filter pattern syntax for metric filters, subscription filters, filter log
 * events, and Live Tail": https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, and
 * its earlier text, github.com/awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md).
 */

/** A syntax error at a character index of the pattern. */
export class PatternSyntaxError extends Error {
  override readonly name = "PatternSyntaxError";
  readonly index: number;
  constructor(index: number, message: string) {
    super(message);
    this.index = index;
  }
}

export type Operator = "=" | "!=" | "<" | "<=" | ">" | ">=";

export type PatternValue =
  | { readonly type: "number"; readonly value: number; readonly text: string }
  /** `*` at the start or the end is a wildcard; inside the string it is a plain `*` ("Ev*ent only matches Ev*ent"). */
  | { readonly type: "string"; readonly text: string }
  | { readonly type: "regex"; readonly source: string; readonly regex: RegExp };

/** `[+-]digits[.digits][e[+-]digits]`: "an integer or a decimal with an optional + or - sign, ... followed by 'e'". */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function isNumberText(text: string): boolean {
  return NUMBER.test(text);
}

/**
 * Characters a regex may hold besides letters and digits: "_ # = @ / ; , - :" and the operators "^ $ ? [ ] { } | \ *
 * + ."; "(" and ")" are not supported, nor are multi-byte characters. A space is accepted too (the guide's lists say
 * "these include").
 */
const REGEX_CHARS = /^[A-Za-z0-9_#=@/;,:\-^$?[\]{}|\\*+. ]$/;

/** Reads a pattern from left to right. */
export class Cursor {
  readonly text: string;
  pos: number;
  constructor(text: string, pos = 0) {
    this.text = text;
    this.pos = pos;
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  skipSpaces(): void {
    while (!this.done && /\s/.test(this.peek())) this.pos++;
  }
  fail(message: string, at = this.pos): never {
    throw new PatternSyntaxError(at, message);
  }
  /** What is at the cursor, in words for an error message. */
  describe(): string {
    if (this.done) return "the end of the pattern";
    const word = /^\S{1,20}/.exec(this.text.slice(this.pos))?.[0] ?? this.peek();
    return `'${word}'`;
  }

  /** `"..."` with `\"` and `\\` escapes; the cursor is on the opening quote. */
  quoted(): string {
    const open = this.pos;
    this.pos++;
    let out = "";
    while (!this.done) {
      const c = this.peek();
      if (c === "\\" && (this.peek(1) === '"' || this.peek(1) === "\\")) {
        out += this.peek(1);
        this.pos += 2;
        continue;
      }
      if (c === '"') {
        this.pos++;
        return out;
      }
      out += c;
      this.pos++;
    }
    return this.fail(`unterminated quoted string: the '"' here is never closed`, open);
  }

  /** `%regex%`; the cursor is on the opening `%`. */
  regex(): PatternValue & { type: "regex" } {
    const open = this.pos;
    const close = this.text.indexOf("%", open + 1);
    if (close < 0) this.fail("unterminated regex: the '%' here is never closed", open);
    const source = this.text.slice(open + 1, close);
    if (source === "") this.fail("empty regex: put an expression between the two '%'", open);
    for (let i = 0; i < source.length; i++) {
      const c = source[i] ?? "";
      if (REGEX_CHARS.test(c)) continue;
      const at = open + 1 + i;
      if (c === "(" || c === ")") {
        this.fail(
          `'${c}' is not supported in a CloudWatch Logs regex (no groups); match the character as \\x${c === "(" ? "28" : "29"}`,
          at,
        );
      }
      if (c.charCodeAt(0) > 0x7e) this.fail("multi-byte characters are not supported in a regex", at);
      this.fail(
        `'${c}' is not supported in a CloudWatch Logs regex (letters, digits, _ # = @ / ; , - : and ^ $ ? [ ] { } | \\ * + .)`,
        at,
      );
    }
    let regex: RegExp;
    try {
      regex = new RegExp(source);
    } catch (error) {
      const why =
        error instanceof Error ? error.message.replace(/^Invalid regular expression: \/.*\/: /, "") : "";
      return this.fail(`invalid regex: ${why}`, open + 1);
    }
    this.pos = close + 1;
    return { type: "regex", source, regex };
  }
}

/** Counts regexes for the quota: "a limit of 2 regex for each filter pattern" (JSON and space-delimited). */
export const MAX_REGEX_PER_PATTERN = 2;

/**
 * Whether `actual` (a JSON string or number, or a space-delimited field's text) satisfies `actual OP value`.
 * Numbers compare as numbers (a field's text that is a number counts); `=` and `!=` with a number compare text when
 * the field is not a number; strings match with their `*` wildcards; a regex searches the text.
 */
export function compare(op: Operator, value: PatternValue, actual: string | number): boolean {
  const text = typeof actual === "number" ? String(actual) : actual;
  const n = typeof actual === "number" ? actual : isNumberText(actual) ? Number(actual) : undefined;
  switch (value.type) {
    case "number": {
      if (n === undefined) {
        if (op === "=") return text === value.text;
        if (op === "!=") return text !== value.text;
        return false;
      }
      switch (op) {
        case "=":
          return n === value.value;
        case "!=":
          return n !== value.value;
        case "<":
          return n < value.value;
        case "<=":
          return n <= value.value;
        case ">":
          return n > value.value;
        case ">=":
          return n >= value.value;
      }
      return false;
    }
    case "string": {
      const hit = wildcardMatch(value.text, text);
      return op === "=" ? hit : op === "!=" ? !hit : false;
    }
    case "regex": {
      const hit = value.regex.test(text);
      return op === "=" ? hit : op === "!=" ? !hit : false;
    }
  }
}

/** `*x`, `x*`, `*x*` and `*` match by wildcard; a `*` anywhere else is the character itself. */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (pattern === "*") return true;
  const head = pattern.startsWith("*");
  const tail = pattern.length > 1 && pattern.endsWith("*");
  const core = pattern.slice(head ? 1 : 0, tail ? -1 : undefined);
  if (head && tail) return text.includes(core);
  if (head) return text.endsWith(core);
  if (tail) return text.startsWith(core);
  return text === core;
}

/** Reads `= value`, `!= value`, `< n`...: the operator, then a number, a quoted or bare string, or a regex. */
export function readComparison(
  c: Cursor,
  subject: string,
  bareChars: RegExp,
): { op: Operator; value: PatternValue; at: number } {
  c.skipSpaces();
  const opAt = c.pos;
  const op = (["!=", "<=", ">=", "=", "<", ">"] as const).find((o) => c.startsWith(o));
  if (op === undefined) {
    return c.fail(`expected a comparison (=, !=, <, <=, >, >=) after ${subject}, found ${c.describe()}`);
  }
  c.pos += op.length;
  if (!c.done && "=!<>".includes(c.peek())) {
    c.fail(`'${op}${c.peek()}' is no operator (use =, !=, <, <=, >, >=)`, opAt);
  }
  c.skipSpaces();
  const at = c.pos;
  let value: PatternValue;
  if (c.peek() === '"') {
    value = { type: "string", text: c.quoted() };
  } else if (c.peek() === "%") {
    value = c.regex();
  } else {
    const start = c.pos;
    while (!c.done && bareChars.test(c.peek())) c.pos++;
    const text = c.text.slice(start, c.pos);
    if (text === "") {
      if (c.done || /[\s,)\]}&|]/.test(c.peek())) c.fail(`expected a value after ${subject} ${op}`);
      c.fail(
        `'${c.peek()}' cannot appear in an unquoted value: put the value in double quotes, e.g. ${subject} ${op} "..."`,
      );
    }
    if (!c.done && !/[\s,)\]}&|]/.test(c.peek())) {
      c.fail(
        `'${c.peek()}' cannot appear in an unquoted value: put the value in double quotes, e.g. ${subject} ${op} "${text}${c.peek()}..."`,
      );
    }
    value = isNumberText(text) ? { type: "number", value: Number(text), text } : { type: "string", text };
  }
  if (op !== "=" && op !== "!=" && value.type !== "number") {
    c.fail(`'${op}' compares numbers: ${c.text.slice(at, c.pos)} is not a number`, at);
  }
  return { op, value, at };
}
