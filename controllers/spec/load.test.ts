import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { defineKind } from "./document.ts";
import { canonicalJson, crossCheck, formatDiagnostic, parseSpecText } from "./load.ts";

// A small kind of our own, so the loader is tested apart from the real kinds.
const Widget = defineKind({
  kind: "Widget",
  description: "test kind",
  specSchema: Type.Object(
    {
      zone: Type.String({ minLength: 1 }),
      ttl: Type.Integer({ minimum: 0, maximum: 172800 }),
      mode: Type.Optional(Type.Union([Type.Literal("a"), Type.Literal("b")])),
      output: Type.Optional(Type.Object({ kind: Type.String() }, { additionalProperties: false })),
      environments: Type.Optional(
        Type.Record(
          Type.String(),
          Type.Object(
            { output: Type.Optional(Type.Object({ kind: Type.String() })) },
            { additionalProperties: false },
          ),
        ),
      ),
    },
    { additionalProperties: false },
  ),
  check: (spec) => (spec.zone === "forbidden" ? [{ path: ["zone"], message: "zone is forbidden" }] : []),
  claims: (spec) => [{ key: `zone:${spec.zone}`, path: ["zone"] }],
});
const kinds = [Widget];

function parse(text: string, environment?: string) {
  const r = parseSpecText("specs/w.yaml", text, kinds, { environment });
  return { ...r, messages: r.diagnostics.map(formatDiagnostic) };
}

const valid = `apiVersion: ecs-log-operator/v1alpha1
kind: Widget
metadata:
  name: one
spec:
  zone: logs.internal
  ttl: 10
`;

describe("parseSpecText", () => {
  it("reads a valid document with its position and generation", () => {
    const r = parse(valid);
    expect(r.messages).toEqual([]);
    expect(r.documents).toHaveLength(1);
    const d = r.documents[0]!;
    expect(d.kind).toBe("Widget");
    expect(d.metadata.name).toBe("one");
    expect(d.spec).toEqual({ zone: "logs.internal", ttl: 10 });
    expect(d.source).toEqual({ file: "specs/w.yaml", line: 1, col: 1 });
    expect(d.generation).toMatch(/^[0-9a-f]{12}$/);
    expect(d.positionOf(["spec", "ttl"])).toEqual({ file: "specs/w.yaml", line: 7, col: 8 });
  });

  it("reads every document of a multi-document file and skips empty ones", () => {
    const r = parse(`${valid}---\n${valid.replace("name: one", "name: two")}---\n`);
    expect(r.messages).toEqual([]);
    expect(r.documents.map((d) => d.metadata.name)).toEqual(["one", "two"]);
    expect(r.documents[1]!.source.line).toBe(9);
  });

  it.each([
    [
      "a value of the wrong type",
      valid.replace("ttl: 10", "ttl: ten"),
      'specs/w.yaml:7:8: Widget "one": spec.ttl: expected integer, got string "ten"',
    ],
    [
      "a value out of range",
      valid.replace("ttl: 10", "ttl: -1"),
      'specs/w.yaml:7:8: Widget "one": spec.ttl: expected integer to be greater or equal to 0',
    ],
    [
      "an unknown field, at its key",
      valid + "  tll: 5\n",
      'specs/w.yaml:8:3: Widget "one": spec.tll: unknown field',
    ],
    [
      "a missing field, at its parent",
      valid.replace("  ttl: 10\n", ""),
      'specs/w.yaml:6:3: Widget "one": spec: missing required field "ttl"',
    ],
    [
      "a union mismatch",
      valid + "  mode: c\n",
      'specs/w.yaml:8:9: Widget "one": spec.mode: must be one of: "a", "b"',
    ],
    [
      "an unknown kind",
      valid.replace("kind: Widget", "kind: Gadget"),
      'specs/w.yaml:2:7: unknown kind "Gadget" (one of Widget)',
    ],
    [
      "a wrong apiVersion",
      valid.replace("v1alpha1", "v1"),
      'specs/w.yaml:1:13: Widget: unsupported apiVersion "ecs-log-operator/v1" (expected "ecs-log-operator/v1alpha1")',
    ],
    [
      "a name that is not a DNS label",
      valid.replace("name: one", "name: One_1"),
      'specs/w.yaml:4:9: Widget "One_1": metadata.name: "One_1" is not valid',
    ],
    [
      "a semantic check",
      valid.replace("logs.internal", "forbidden"),
      'specs/w.yaml:6:9: Widget "one": zone is forbidden',
    ],
    ["broken YAML", "kind: [unclosed\n", "specs/w.yaml:2:1: invalid YAML"],
    ["a document that is not a mapping", "- a\n- b\n", "specs/w.yaml:1:1: a spec document must be a mapping"],
    ["duplicate keys", valid + "  ttl: 11\n", "specs/w.yaml:8:3: invalid YAML"],
  ])("reports %s as FILE:LINE:COL", (_name, text, expected) => {
    const r = parse(text);
    expect(r.documents).toEqual([]);
    expect(r.messages[0]).toContain(expected);
  });

  it("reports every problem of a document at once", () => {
    const r = parse(valid.replace("ttl: 10", "ttl: -1") + "  extra: 1\n");
    expect(r.messages).toHaveLength(2);
  });

  it("keeps the good documents of a file with a bad one", () => {
    const r = parse(`${valid}---\n${valid.replace("name: one", "name: two").replace("ttl: 10", "ttl: x")}`);
    expect(r.documents.map((d) => d.metadata.name)).toEqual(["one"]);
    expect(r.messages).toHaveLength(1);
  });

  it("applies an environment overlay by replacing whole fields, and locates overlay errors in the overlay", () => {
    const text = `${valid}  output: { kind: datadog }\n  environments:\n    development:\n      output: { kind: awslogs }\n`;
    expect(parse(text).documents[0]!.spec).toEqual({
      zone: "logs.internal",
      ttl: 10,
      output: { kind: "datadog" },
    });
    expect(parse(text, "development").documents[0]!.spec).toEqual({
      zone: "logs.internal",
      ttl: 10,
      output: { kind: "awslogs" },
    });
    expect(parse(text, "staging").documents[0]!.spec).toEqual({
      zone: "logs.internal",
      ttl: 10,
      output: { kind: "datadog" },
    });
    const gen = (env?: string) => parse(text, env).documents[0]!.generation;
    expect(gen("development")).not.toBe(gen());
  });
});

describe("every problem of a file in one run", () => {
  it("reports a type error, the kind's check and a duplicate together", async () => {
    const text =
      valid.replace("logs.internal", "forbidden").replace("ttl: 10", "ttl: ten") +
      "---\n" +
      valid.replace("logs.internal", "other.internal");
    const r = parse(text);
    expect(r.messages).toEqual([
      'specs/w.yaml:6:9: Widget "one": zone is forbidden',
      'specs/w.yaml:7:8: Widget "one": spec.ttl: expected integer, got string "ten"',
    ]);
    const cross = crossCheck(r.identified, kinds);
    expect(cross.diagnostics.map(formatDiagnostic)).toEqual([
      'specs/w.yaml:12:9: duplicate Widget "one": already declared at specs/w.yaml:4:9',
    ]);
    expect(r.documents.map((d) => d.spec)).toEqual([{ zone: "other.internal", ttl: 10 }]);
    expect(cross.rejected).toEqual(r.documents);
  });

  it("leaves out what the check finds inside a field the schema rejected", () => {
    const checked = defineKind({
      ...Widget,
      check: () => [
        { path: ["zone"], message: "zone: told twice" },
        { path: [], message: "spec-wide" },
      ],
    });
    const r = parseSpecText("w.yaml", valid.replace("zone: logs.internal", "zone: 5"), [checked]);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'Widget "one": spec-wide',
      'Widget "one": spec.zone: expected string, got number 5',
    ]);
  });

  it("adds nothing from a check that throws on a spec the schema rejected, and nothing is lost", () => {
    const fragile = defineKind({
      ...Widget,
      check: (spec) => (spec.output!.kind === "x" ? [] : []),
    });
    const r = parseSpecText("w.yaml", valid.replace("ttl: 10", "ttl: x"), [fragile]);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'Widget "one": spec.ttl: expected integer, got string "x"',
    ]);
    // On a spec that passed its schema, a throwing check is a bug, not a finding to drop.
    expect(() => parseSpecText("w.yaml", valid, [fragile])).toThrow(TypeError);
  });

  it("reports a misspelt field once, as the field it was meant to be", () => {
    const r = parse(valid.replace("zone:", "zon:"));
    expect(r.messages).toEqual([
      'specs/w.yaml:6:3: Widget "one": spec.zon: unknown field (did you mean zone?)',
    ]);
  });

  it("suggests a known field for an unknown one even when nothing is missing", () => {
    expect(parse(valid + "  tll: 5\n").messages).toEqual([
      'specs/w.yaml:8:3: Widget "one": spec.tll: unknown field (did you mean ttl?)',
    ]);
  });

  it.each([
    ["a kind", valid.replace("kind: Widget", "kind: Widgit"), 'unknown kind "Widgit" (did you mean Widget?)'],
    [
      "a top-level field, once",
      valid.replace("spec:", "specs:"),
      'Widget: unknown top-level field "specs" (did you mean spec?)',
    ],
    [
      "a choice",
      valid + "  mode: A\n",
      'Widget "one": spec.mode: must be one of: "a", "b" (did you mean "a"?)',
    ],
  ])("suggests %s", (_name, text, expected) => {
    expect(parse(text).diagnostics.map((d) => d.message)).toEqual([expected]);
  });

  it("names the environments the documents declare, valid or not", () => {
    const text = `${valid}  environments:\n    development: {}\n---\n${valid.replace("ttl: 10", "ttl: x")}  environments:\n    staging: {}\n`;
    expect(parse(text).environments).toEqual(["development", "staging"]);
  });

  it("returns a kind's warnings for a valid document, at their field", () => {
    const advised = defineKind({ ...Widget, warn: () => [{ path: ["ttl"], message: "a short ttl" }] });
    const r = parseSpecText("w.yaml", valid, [advised]);
    expect(r.documents).toHaveLength(1);
    expect(r.warnings.map(formatDiagnostic)).toEqual(['w.yaml:7:8: Widget "one": a short ttl']);
  });
});

describe("crossCheck", () => {
  it("rejects a second document with the same kind and name, citing the first", () => {
    const a = parse(valid).documents;
    const b = parseSpecText(
      "specs/b.yaml",
      valid.replace("logs.internal", "other.internal"),
      kinds,
    ).documents;
    const r = crossCheck([...a, ...b], kinds);
    expect(r.rejected).toEqual(b);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'specs/b.yaml:4:9: duplicate Widget "one": already declared at specs/w.yaml:4:9',
    ]);
  });

  it("rejects two specs that claim the same AWS object", () => {
    const a = parse(valid).documents;
    const b = parseSpecText("specs/b.yaml", valid.replace("name: one", "name: two"), kinds).documents;
    const r = crossCheck([...a, ...b], kinds);
    expect(r.rejected).toEqual(b);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "specs/b.yaml:6:9: Widget/two and Widget/one (specs/w.yaml:6:9) both manage zone:logs.internal",
    ]);
  });
});

describe("canonicalJson", () => {
  it("is independent of key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });
});
