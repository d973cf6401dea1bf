import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { defineKind } from "./document.ts";
import { formatDiagnostic, isComplete, loadSpecDirectory } from "./load.ts";

const Widget = defineKind({
  kind: "Widget",
  description: "test kind",
  specSchema: Type.Object({ tree: Type.String() }, { additionalProperties: false }),
});
const kinds = [Widget];

function widget(name: string, tree = "a"): string {
  return `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: ${name} }\nspec: { tree: ${tree} }\n`;
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "load-files-"));
  dirs.push(d);
  return d;
}

const names = (r: Awaited<ReturnType<typeof loadSpecDirectory>>): string[] =>
  r.documents.map((d) => d.metadata.name).sort();

describe("loadSpecDirectory and symlinks", () => {
  it("follows symlinked files and directories, naming files by the path given", async () => {
    const base = tempDir();
    mkdirSync(join(base, "elsewhere", "nested"), { recursive: true });
    writeFileSync(join(base, "elsewhere", "shared.yaml"), widget("shared"));
    writeFileSync(join(base, "elsewhere", "nested", "deep.yaml"), widget("deep"));
    writeFileSync(join(base, "one.yaml"), widget("one"));
    const specs = join(base, "specs");
    mkdirSync(specs);
    symlinkSync(join(base, "one.yaml"), join(specs, "linked.yaml"));
    symlinkSync(join(base, "elsewhere"), join(specs, "dir"));
    const r = await loadSpecDirectory(specs, kinds);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(names(r)).toEqual(["deep", "one", "shared"]);
    expect(r.files).toEqual([
      join(specs, "dir", "nested", "deep.yaml"),
      join(specs, "dir", "shared.yaml"),
      join(specs, "linked.yaml"),
    ]);
  });

  it("reads a spec directory that is itself a symlink (a git-sync checkout)", async () => {
    const base = tempDir();
    mkdirSync(join(base, "rev-1"));
    writeFileSync(join(base, "rev-1", "a.yaml"), widget("a"));
    symlinkSync("rev-1", join(base, "current"));
    const r = await loadSpecDirectory(join(base, "current"), kinds);
    expect(names(r)).toEqual(["a"]);
    expect(r.files).toEqual([join(base, "current", "a.yaml")]);
  });

  it("reads a file reached twice, or a directory reached by two links, once", async () => {
    const base = tempDir();
    writeFileSync(join(base, "a.yaml"), widget("a"));
    symlinkSync("a.yaml", join(base, "b.yaml"));
    mkdirSync(join(base, "sub"));
    writeFileSync(join(base, "sub", "c.yaml"), widget("c"));
    symlinkSync("sub", join(base, "sub-again"));
    const r = await loadSpecDirectory(base, kinds);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(names(r)).toEqual(["a", "c"]);
  });

  it("reports a symlink loop by its path and does not follow it: the set is incomplete", async () => {
    const base = tempDir();
    mkdirSync(join(base, "sub"));
    writeFileSync(join(base, "sub", "a.yaml"), widget("a"));
    symlinkSync("..", join(base, "sub", "up"));
    const r = await loadSpecDirectory(base, kinds);
    expect(names(r)).toEqual(["a"]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(base, "sub", "up")}:1:1: symlink loop: ${join(base, "sub", "up")} leads back to ${base}; not followed`,
    ]);
    expect(isComplete(r)).toBe(false);
  });

  it("reports a link to itself and a dangling link by path: an unmounted volume is never an empty set", async () => {
    const base = tempDir();
    writeFileSync(join(base, "a.yaml"), widget("a"));
    symlinkSync("self.yaml", join(base, "self.yaml"));
    symlinkSync(join(base, "not-mounted"), join(base, "volume"));
    const r = await loadSpecDirectory(base, kinds);
    expect(names(r)).toEqual(["a"]);
    const messages = r.diagnostics.map(formatDiagnostic);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/self\.yaml:1:1: symlink loop: .*self\.yaml -> self\.yaml never reaches/);
    expect(messages[1]).toMatch(/volume:1:1: dangling symlink: .*volume -> .*not-mounted \(no such file/);
    expect(isComplete(r)).toBe(false);
  });

  it("names a missing spec directory, and reads a directory named like a spec file as a directory", async () => {
    const base = tempDir();
    mkdirSync(join(base, "sub"));
    writeFileSync(join(base, "sub", "a.yaml"), widget("a"));
    mkdirSync(join(base, "weird.yaml"));
    const r = await loadSpecDirectory(join(base, "missing"), kinds);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(base, "missing")}:1:1: no such file or directory`,
    ]);
    const ok = await loadSpecDirectory(base, kinds);
    expect(names(ok)).toEqual(["a"]);
  });

  it("never mixes two trees when the spec directory's link is swapped during reads", async () => {
    const base = tempDir();
    for (const tree of ["a", "b"]) {
      mkdirSync(join(base, tree));
      for (let i = 0; i < 30; i++) writeFileSync(join(base, tree, `w${i}.yaml`), widget(`w${i}`, tree));
    }
    symlinkSync("a", join(base, "current"));
    let swapping = true;
    const swapper = (async () => {
      let next = "b";
      for (let turn = 0; swapping; turn++) {
        await new Promise((r) => setImmediate(r));
        if (turn % 4 !== 0) continue;
        symlinkSync(next, join(base, "next"));
        renameSync(join(base, "next"), join(base, "current"));
        next = next === "a" ? "b" : "a";
      }
    })();
    try {
      for (let i = 0; i < 8; i++) {
        const r = await loadSpecDirectory(join(base, "current"), kinds);
        expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
        const seen = new Set(r.documents.map((d) => (d.spec as { tree: string }).tree));
        expect(seen.size, `one read saw trees ${[...seen].join(", ")}`).toBe(1);
        expect(r.documents).toHaveLength(30);
      }
    } finally {
      swapping = false;
      await swapper;
    }
  });
});
