import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDiagnostic, loadSpecDirectory } from "../controllers/spec/load.ts";
import { allKinds } from "./kinds.ts";

const EXAMPLES = "manifests/examples";
const seedDirs = readdirSync(join(EXAMPLES, "seeds")).map((d) => join(EXAMPLES, "seeds", d));

describe("manifests/examples", () => {
  it("has one valid example of every kind in kinds/", async () => {
    const r = await loadSpecDirectory(join(EXAMPLES, "kinds"), allKinds());
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect([...new Set(r.documents.map((d) => d.kind))].sort()).toEqual(
      allKinds()
        .map((k) => k.kind)
        .sort(),
    );
  });

  it("reproduces each of the five seeds in its own directory", () => {
    expect(seedDirs.map((d) => d.split("/").pop()!.slice(0, 3)).sort()).toEqual([
      "000",
      "001",
      "002",
      "003",
      "004",
    ]);
  });

  it.each([...seedDirs, join(EXAMPLES, "kinds")])(
    "%s is valid in every environment it names",
    async (dir) => {
      for (const environment of [undefined, "development"]) {
        const r = await loadSpecDirectory(dir, allKinds(), { environment });
        expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
        expect(r.documents.length).toBeGreaterThan(0);
      }
    },
  );
});
