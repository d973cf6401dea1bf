import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { sourceOffsetInScalar } from "./scalar-offset.ts";

/** The source character behind the value's first `X` (an escape points at its backslash). */
function sourceAtX(yaml: string): string | undefined {
  const doc = parseDocument(yaml);
  expect(doc.errors).toEqual([]);
  const value = doc.getIn(["spec", "pattern"]);
  expect(typeof value).toBe("string");
  const index = (value as string).indexOf("X");
  expect(index).toBeGreaterThanOrEqual(0);
  const offset = sourceOffsetInScalar(doc, yaml, ["spec", "pattern"], index);
  return offset === undefined ? undefined : yaml[offset];
}

describe("sourceOffsetInScalar", () => {
  it.each([
    ["plain", "spec:\n  pattern: ERROR X\n"],
    ["plain, folded over two lines", "spec:\n  pattern: ERROR\n    WARN X\n"],
    ["single-quoted with a doubled quote", "spec:\n  pattern: '{ $.a = \"it''s\" && X }'\n"],
    ["single-quoted, folded", "spec:\n  pattern: '{ $.a = 1\n    && X }'\n"],
    ["double-quoted with escapes", 'spec:\n  pattern: "{ $.a = \\"b\\\\c\\" && X }"\n'],
    ["double-quoted, folded with an empty line", 'spec:\n  pattern: "a\n\n    b X"\n'],
    ["double-quoted, escaped line break", 'spec:\n  pattern: "abc\\\n    def X"\n'],
    ["literal block", "spec:\n  pattern: |\n    line one\n    line two X\n"],
    ["folded block", "spec:\n  pattern: >-\n    { $.a = 1 &&\n      $.b = 2 }\n    X\n"],
    ["flow mapping value", 'spec: { pattern: "[a, b = X]" }\n'],
  ])("points into a %s scalar", (_style, yaml) => {
    expect(sourceAtX(yaml)).toBe("X");
  });

  it("points at the backslash of an escaped character", () => {
    const yaml = 'spec:\n  pattern: "a\\tb"\n';
    const doc = parseDocument(yaml);
    const offset = sourceOffsetInScalar(doc, yaml, ["spec", "pattern"], 1);
    expect(yaml.slice(offset, (offset ?? 0) + 2)).toBe("\\t");
  });

  it("points just past the content for an index at the end (an unterminated pattern)", () => {
    const yaml = "spec:\n  pattern: '{ $.a = 1'\n";
    const doc = parseDocument(yaml);
    const offset = sourceOffsetInScalar(doc, yaml, ["spec", "pattern"], 9);
    expect(yaml[offset ?? 0]).toBe("'");
  });

  it("is undefined for a path that is no string scalar", () => {
    const yaml = "spec:\n  pattern: 5\n  list: [a]\n";
    const doc = parseDocument(yaml);
    expect(sourceOffsetInScalar(doc, yaml, ["spec", "pattern"], 0)).toBeUndefined();
    expect(sourceOffsetInScalar(doc, yaml, ["spec", "list"], 0)).toBeUndefined();
    expect(sourceOffsetInScalar(doc, yaml, ["spec", "missing"], 0)).toBeUndefined();
  });
});
