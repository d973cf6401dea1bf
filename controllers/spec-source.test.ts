import { describe, expect, it } from "vitest";
import type { SpecDocument } from "./spec/document.ts";
import { EMPTY_SNAPSHOT, nextRead } from "./spec-source.ts";

function doc(name: string, generation: string): SpecDocument {
  return {
    apiVersion: "ecs-log-operator/v1alpha1",
    kind: "Widget",
    metadata: { name },
    spec: {},
    source: { file: `specs/${name}.yaml`, line: 1, col: 1 },
    generation,
    positionOf: () => ({ file: `specs/${name}.yaml`, line: 1, col: 1 }),
  };
}

const first = nextRead(
  EMPTY_SNAPSHOT,
  {
    documents: [doc("a", "with-overlay"), doc("b", "with-overlay")],
    diagnostics: [],
    environments: ["development"],
    environment: "development",
    files: ["specs/a.yaml", "specs/b.yaml"],
  },
  { location: "specs" },
);

describe("nextRead", () => {
  it("uses a clean read whole", () => {
    expect(first.snapshot).toMatchObject({ complete: true, kept: [] });
    expect(first.snapshot.unusable).toBeUndefined();
    expect(first.changes.changed).toEqual(["Widget/a", "Widget/b"]);
  });

  it("reads a source with nothing to read as unusable, keeping every spec, never as their deletion", () => {
    const read = nextRead(first.snapshot, {
      documents: [],
      diagnostics: [{ file: "specs", line: 1, col: 1, message: "no such file or directory" }],
      files: [],
    });
    expect(read.snapshot.unusable).toEqual({
      reason: "unreadable",
      message: "cannot read the specs: specs: no such file or directory",
    });
    expect(read.snapshot.complete).toBe(false);
    expect(read.snapshot.kept).toEqual(["Widget/a", "Widget/b"]);
    expect(read.changes).toEqual({ changed: [], removed: [] });
  });

  it("reads an environment no spec declares as unusable: the base specs replace nothing", () => {
    // The overlay was removed from the files: read without it, the documents are the base specs.
    const read = nextRead(
      first.snapshot,
      {
        documents: [doc("a", "base"), doc("b", "base")],
        diagnostics: [],
        environments: ["develop"],
        environment: "development",
        files: ["specs/a.yaml", "specs/b.yaml"],
      },
      { location: "specs" },
    );
    expect(read.snapshot.unusable).toEqual({
      reason: "environment",
      message: "--environment development: no spec under specs declares it (they declare: develop)",
    });
    expect(read.snapshot.documents.map((d) => d.generation)).toEqual(["with-overlay", "with-overlay"]);
    expect(read.snapshot.complete).toBe(false);
    expect(read.changes).toEqual({ changed: [], removed: [] });
  });
});
