import { compare, Cursor, readComparison, type Operator, type PatternValue } from "./pattern-values.ts";

/**
 * Space-delimited log events: `[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]`.
 *
 * - The event splits at spaces; characters between `[` and `]` or between two `"` are one field (without them).
 * - The pattern names the fields in order. `...` (once) stands for any number of fields; without it the event must
 *   have exactly as many fields as the pattern. An empty slot (`[a, , b]`, or a trailing comma) is an unnamed field.
 * - A field may carry conditions on itself, joined with `&&` and `||` (`status_code = 4* && status_code != 403`):
 *   every condition in a slot compares that slot's field (AWS rejects `status_code = 4* && bytes > 1000`).
 * - Extracted values, as TestMetricFilter reports them: `$name` for a named field, `$N` (1-based) for the others.
 */
export interface DelimitedPattern {
  readonly syntax: "delimited";
  readonly fields: readonly DelimitedField[];
  readonly regexes: number;
}

export type DelimitedField =
  | { readonly type: "ellipsis" }
  | { readonly type: "field"; readonly name: string | undefined; readonly condition: Condition | undefined };

export type Condition =
  | { readonly type: "or" | "and"; readonly operands: readonly Condition[] }
  | { readonly type: "compare"; readonly op: Operator; readonly value: PatternValue };

const NAME = /[A-Za-z0-9_-]/;
const BARE_VALUE = /[A-Za-z0-9_.*+-]/;

export function parseDelimited(text: string): DelimitedPattern {
  const c: Cursor = new Cursor(text);
  c.skipSpaces();
  if (c.peek() !== "[") c.fail("a space-delimited pattern starts with '['");
  if (!text.trimEnd().endsWith("]")) {
    c.fail("a space-delimited pattern that starts with '[' must end with ']'", text.trimEnd().length);
  }
  c.pos++;
  const fields: DelimitedField[] = [];
  const names = new Map<string, number>();
  let ellipsisAt: number | undefined;
  let regexes = 0;
  for (;;) {
    c.skipSpaces();
    const at = c.pos;
    if (c.peek() === "," || c.peek() === "]") {
      fields.push({ type: "field", name: undefined, condition: undefined });
    } else if (c.startsWith("...")) {
      if (ellipsisAt !== undefined)
        c.fail(`'...' may appear once (it is already at column ${ellipsisAt + 1})`);
      ellipsisAt = at;
      c.pos += 3;
      fields.push({ type: "ellipsis" });
    } else {
      const name = readName(c);
      const first = names.get(name);
      if (first !== undefined)
        c.fail(`field name "${name}" is used twice (first at column ${first + 1})`, at);
      names.set(name, at);
      c.skipSpaces();
      let condition: Condition | undefined;
      if (NAME.test(c.peek()) || c.peek() === '"') {
        c.fail(`expected ',' or ']' after the field "${name}", or a condition such as ${name} = value`);
      }
      if (c.peek() !== "," && c.peek() !== "]") {
        const one = (): Condition => {
          const { op, value } = readComparison(c, name, BARE_VALUE);
          if (value.type === "regex") regexes++;
          return { type: "compare", op, value };
        };
        const next = (): Condition => {
          c.skipSpaces();
          const nameAt = c.pos;
          const other = readName(c);
          if (other !== name) {
            c.fail(
              `a field's conditions compare that field: this slot is "${name}", not "${other}" (give "${other}" its own slot)`,
              nameAt,
            );
          }
          return one();
        };
        const and = (firstTerm: () => Condition): Condition => {
          const operands = [firstTerm()];
          while ((c.skipSpaces(), c.startsWith("&&"))) {
            c.pos += 2;
            operands.push(next());
          }
          return operands.length === 1 ? operands[0]! : { type: "and", operands };
        };
        const operands = [and(one)];
        while ((c.skipSpaces(), c.startsWith("||"))) {
          c.pos += 2;
          operands.push(and(next));
        }
        condition = operands.length === 1 ? operands[0] : { type: "or", operands };
      }
      fields.push({ type: "field", name, condition });
    }
    c.skipSpaces();
    if (c.peek() === ",") {
      c.pos++;
      continue;
    }
    if (c.peek() === "]") {
      c.pos++;
      break;
    }
    if (c.peek() === "&" || c.peek() === "|") c.fail(`'${c.peek()}' is no operator: use && or ||`);
    c.fail(`expected ',' or ']' after a field, found ${c.describe()}`);
  }
  c.skipSpaces();
  if (!c.done) c.fail(`nothing may follow the pattern's closing ']', found ${c.describe()}`);
  return { syntax: "delimited", fields, regexes };
}

function readName(c: Cursor): string {
  const from = c.pos;
  while (!c.done && NAME.test(c.peek())) c.pos++;
  if (c.pos === from) {
    c.fail(`expected a field name (letters, digits, _ and -), '...' or ',', found ${c.describe()}`);
  }
  return c.text.slice(from, c.pos);
}

/** The event's fields: split at spaces, `[...]` and `"..."` kept whole and unwrapped. */
export function splitFields(message: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = message.length;
  while (i < n) {
    while (i < n && (message[i] === " " || message[i] === "\t")) i++;
    if (i >= n) break;
    const open = message[i];
    const close = open === "[" ? "]" : open === '"' ? '"' : undefined;
    if (close !== undefined) {
      const end = message.indexOf(close, i + 1);
      const stop = end < 0 ? n : end;
      out.push(message.slice(i + 1, stop));
      i = stop + 1;
      continue;
    }
    const start = i;
    while (i < n && message[i] !== " " && message[i] !== "\t") i++;
    out.push(message.slice(start, i));
  }
  return out;
}

function holds(condition: Condition, field: string): boolean {
  switch (condition.type) {
    case "or":
      return condition.operands.some((o) => holds(o, field));
    case "and":
      return condition.operands.every((o) => holds(o, field));
    case "compare":
      return compare(condition.op, condition.value, field);
  }
}

/** Undefined when the event does not match; otherwise the extracted values, by `$name` or `$N`. */
export function matchDelimited(
  pattern: DelimitedPattern,
  message: string,
): Record<string, string> | undefined {
  const event = splitFields(message);
  const e = pattern.fields.findIndex((f) => f.type === "ellipsis");
  const before = e < 0 ? pattern.fields : pattern.fields.slice(0, e);
  const after = e < 0 ? [] : pattern.fields.slice(e + 1);
  if (e < 0 ? event.length !== before.length : event.length < before.length + after.length) return undefined;
  const slots = new Map<number, DelimitedField>();
  before.forEach((f, i) => slots.set(i, f));
  after.forEach((f, i) => slots.set(event.length - after.length + i, f));
  const extracted: Record<string, string> = {};
  for (const [i, value] of event.entries()) {
    const slot = slots.get(i);
    const named = slot?.type === "field" ? slot.name : undefined;
    if (slot?.type === "field" && slot.condition !== undefined && !holds(slot.condition, value))
      return undefined;
    extracted[named !== undefined ? `$${named}` : `$${i + 1}`] = value;
  }
  return extracted;
}
