import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "./logger.ts";
import { defineKind } from "./spec/document.ts";
import { SpecWatcher, type SpecChanges } from "./spec-watcher.ts";

const kinds = [
  defineKind({ kind: "Widget", description: "test", specSchema: Type.Object({ size: Type.Integer() }) }),
];
const widget = (name: string, size: number | string) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: ${name} }\nspec: { size: ${size} }\n`;

let dir = "";
let watcher: SpecWatcher | undefined;
afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(onReload?: (c: SpecChanges) => void): SpecWatcher {
  dir = mkdtempSync(join(tmpdir(), "spec-watcher-"));
  watcher = new SpecWatcher({
    dir,
    kinds,
    logger: silentLogger,
    debounceMs: 20,
    onReload: (_s, c) => onReload?.(c),
  });
  return watcher;
}

describe("SpecWatcher", () => {
  it("reports added, changed and removed specs between reads", async () => {
    const w = setup();
    writeFileSync(join(dir, "a.yaml"), widget("a", 1) + "---\n" + widget("b", 1));
    expect((await w.load()).changes).toEqual({ changed: ["Widget/a", "Widget/b"], removed: [] });
    expect((await w.load()).changes).toEqual({ changed: [], removed: [] });
    writeFileSync(join(dir, "a.yaml"), widget("a", 2));
    const r = await w.load();
    expect(r.changes).toEqual({ changed: ["Widget/a"], removed: ["Widget/b"] });
    expect(r.snapshot.complete).toBe(true);
  });

  it("keeps the last valid documents of a file that became invalid, and says the load is incomplete", async () => {
    const w = setup();
    writeFileSync(join(dir, "a.yaml"), widget("a", 1) + "---\n" + widget("b", 1));
    writeFileSync(join(dir, "c.yaml"), widget("c", 1));
    await w.load();
    writeFileSync(join(dir, "a.yaml"), widget("a", 3) + "---\n" + widget("b", "big"));
    unlinkSync(join(dir, "c.yaml"));
    const r = await w.load();
    expect(r.snapshot.complete).toBe(false);
    expect(r.snapshot.kept).toEqual(["Widget/b"]);
    expect(r.snapshot.diagnostics.map((d) => d.file)).toEqual([join(dir, "a.yaml")]);
    expect(r.changes).toEqual({ changed: ["Widget/a"], removed: ["Widget/c"] });
    const b = r.snapshot.documents.find((d) => d.metadata.name === "b");
    expect(b?.spec).toEqual({ size: 1 });
  });

  it("keeps everything when the directory itself cannot be read", async () => {
    const w = setup();
    writeFileSync(join(dir, "a.yaml"), widget("a", 1));
    await w.load();
    rmSync(dir, { recursive: true, force: true });
    const r = await w.load();
    expect(r.snapshot.complete).toBe(false);
    expect(r.snapshot.documents.map((d) => d.metadata.name)).toEqual(["a"]);
    expect(r.changes.removed).toEqual([]);
  });

  it("re-reads on a file event, debounced", async () => {
    const seen: SpecChanges[] = [];
    const w = setup((c) => seen.push(c));
    writeFileSync(join(dir, "a.yaml"), widget("a", 1));
    await w.load();
    w.watch();
    writeFileSync(join(dir, "a.yaml"), widget("a", 2));
    writeFileSync(join(dir, "b.yml"), widget("b", 2));
    const deadline = Date.now() + 3000;
    while (seen.length === 0 && Date.now() < deadline) await delay(10);
    await delay(60);
    expect(seen).toEqual([{ changed: ["Widget/a", "Widget/b"], removed: [] }]);
  });
});
