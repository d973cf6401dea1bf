import { compare, Cursor, readComparison, type Operator, type PatternValue } from "./pattern-values.ts";

/**
 * JSON log events: `{ $.errorCode = "AccessDenied" }`, `{ $.latency >= 500 && $.status != 200 }`,
 * `{ $.SomeObject IS NULL }`, `{ $.Other NOT EXISTS }`, `{ $.ThisFlag IS TRUE }`, `{ $.ip != 123.123.* }`,
 * `{ $.type = %Trail$% }`.
 *
 * - A selector starts at the root `$`, then `.name` (letters, digits, `-`, `_`) and `[n]` steps; an index follows a
 *   property (`$.users[0].email`, `$.coordinates[0][1]`).
 * - `&&` binds tighter than `||`; parentheses group.
 * - A comparison needs a value node (a string or a number): on an array, an object, null or a missing field both
 *   `=` and `!=` are false ("both {$.users = 1} and {$.users != 1} fail to match" an array).
 * - Strings need quotes unless they are letters, digits and `_ - . * +`; `*` at either end is a wildcard.
 */
export interface JsonPattern {
  readonly syntax: "json";
  readonly expression: JsonExpression;
  /** Index of the regexes, for the quota. */
  readonly regexes: number;
}

export type JsonExpression =
  | { readonly type: "or" | "and"; readonly operands: readonly JsonExpression[] }
  | {
      readonly type: "compare";
      readonly selector: Selector;
      readonly op: Operator;
      readonly value: PatternValue;
    }
  | {
      readonly type: "is";
      readonly selector: Selector;
      readonly test: "NULL" | "TRUE" | "FALSE" | "NOT EXISTS";
    };

/** A selector's steps after `$`: property names and array indexes. */
export interface Selector {
  readonly text: string;
  readonly steps: readonly (string | number)[];
}

const NAME = /[A-Za-z0-9_-]/;
const BARE_VALUE = /[A-Za-z0-9_.*+-]/;

export function parseJson(text: string): JsonPattern {
  const c: Cursor = new Cursor(text);
  c.skipSpaces();
  const open = c.pos;
  if (c.peek() !== "{") c.fail("a JSON pattern starts with '{'");
  if (!text.trimEnd().endsWith("}")) {
    c.fail("a JSON pattern that starts with '{' must end with '}'", text.trimEnd().length);
  }
  c.pos++;
  let regexes = 0;
  const primary = (): JsonExpression => {
    c.skipSpaces();
    if (c.peek() === "(") {
      const at = c.pos;
      c.pos++;
      const inner = or();
      c.skipSpaces();
      if (c.peek() !== ")")
        c.fail(`expected ')' to close the '(' at column ${at + 1}, found ${c.describe()}`);
      c.pos++;
      return inner;
    }
    const selector = readSelector(c);
    c.skipSpaces();
    if (c.startsWith("IS ") || c.startsWith("IS\t")) {
      c.pos += 2;
      c.skipSpaces();
      const test = (["NULL", "TRUE", "FALSE"] as const).find(
        (t) => c.startsWith(t) && !NAME.test(c.peek(t.length)),
      );
      if (test === undefined)
        c.fail(`expected NULL, TRUE or FALSE after ${selector.text} IS, found ${c.describe()}`);
      c.pos += test.length;
      return { type: "is", selector, test };
    }
    if (c.startsWith("NOT")) {
      const at = c.pos;
      c.pos += 3;
      c.skipSpaces();
      if (!c.startsWith("EXISTS") || NAME.test(c.peek(6)))
        c.fail(`expected NOT EXISTS after ${selector.text}`, at);
      c.pos += 6;
      return { type: "is", selector, test: "NOT EXISTS" };
    }
    const { op, value } = readComparison(c, selector.text, BARE_VALUE);
    if (value.type === "regex") regexes++;
    return { type: "compare", selector, op, value };
  };
  const and = (): JsonExpression => {
    const operands = [primary()];
    while ((c.skipSpaces(), c.startsWith("&&"))) {
      c.pos += 2;
      operands.push(primary());
    }
    return operands.length === 1 ? operands[0]! : { type: "and", operands };
  };
  const or = (): JsonExpression => {
    const operands = [and()];
    while ((c.skipSpaces(), c.startsWith("||"))) {
      c.pos += 2;
      operands.push(and());
    }
    return operands.length === 1 ? operands[0]! : { type: "or", operands };
  };
  c.skipSpaces();
  if (c.peek() === "}")
    c.fail("empty JSON pattern: put a condition such as $.level = ERROR between the braces", open);
  const expression = or();
  c.skipSpaces();
  if (c.peek() !== "}") {
    if (c.peek() === "&" || c.peek() === "|") c.fail(`'${c.peek()}' is no operator: use && or ||`);
    if (c.peek() === ")") c.fail("')' closes no '('");
    c.fail(`expected &&, || or '}', found ${c.describe()}`);
  }
  c.pos++;
  c.skipSpaces();
  if (!c.done) c.fail(`nothing may follow the JSON pattern's closing '}', found ${c.describe()}`);
  return { syntax: "json", expression, regexes };
}

function readSelector(c: Cursor): Selector {
  const start = c.pos;
  if (c.peek() !== "$") c.fail(`expected a selector such as $.errorCode, found ${c.describe()}`);
  c.pos++;
  const steps: (string | number)[] = [];
  for (;;) {
    if (c.peek() === ".") {
      c.pos++;
      const from = c.pos;
      while (!c.done && NAME.test(c.peek())) c.pos++;
      if (c.pos === from) c.fail(`expected a property name after '.', found ${c.describe()}`);
      steps.push(c.text.slice(from, c.pos));
    } else if (c.peek() === "[") {
      if (steps.length === 0) c.fail("an array index follows a property: $.items[0]");
      const at = c.pos;
      c.pos++;
      const from = c.pos;
      while (/[0-9]/.test(c.peek())) c.pos++;
      if (c.pos === from || c.peek() !== "]") c.fail("an array index is a number in brackets: [0]", at);
      steps.push(Number(c.text.slice(from, c.pos)));
      c.pos++;
    } else {
      break;
    }
  }
  if (steps.length === 0) c.fail("a selector names a property: $.errorCode", start);
  if (NAME.test(c.peek()) || c.peek() === "$") c.fail(`unexpected ${c.describe()} in the selector`);
  return { text: c.text.slice(start, c.pos), steps };
}

const MISSING = Symbol("missing");

/** The value at a selector, or MISSING. */
export function select(root: unknown, selector: Selector): unknown {
  let node: unknown = root;
  for (const step of selector.steps) {
    if (typeof step === "number") {
      if (!Array.isArray(node) || step >= node.length) return MISSING;
      node = node[step];
    } else {
      if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, step))
        return MISSING;
      node = (node as Record<string, unknown>)[step];
    }
  }
  return node;
}

export function isMissing(v: unknown): boolean {
  return v === MISSING;
}

/** The parsed event, or undefined when the message is not a JSON object: a JSON pattern matches only those. */
export function parseJsonEvent(message: string): unknown {
  const t = message.trim();
  if (!t.startsWith("{")) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

export function evaluateJson(expression: JsonExpression, event: unknown): boolean {
  switch (expression.type) {
    case "or":
      return expression.operands.some((e) => evaluateJson(e, event));
    case "and":
      return expression.operands.every((e) => evaluateJson(e, event));
    case "is": {
      const v = select(event, expression.selector);
      switch (expression.test) {
        case "NULL":
          return v === null;
        case "TRUE":
          return v === true;
        case "FALSE":
          return v === false;
        case "NOT EXISTS":
          return v === MISSING;
      }
      return false;
    }
    case "compare": {
      const v = select(event, expression.selector);
      if (typeof v !== "string" && typeof v !== "number") return false;
      return compare(expression.op, expression.value, v);
    }
  }
}

export function matchJson(pattern: JsonPattern, message: string): boolean {
  const event = parseJsonEvent(message);
  return event !== undefined && evaluateJson(pattern.expression, event);
}
