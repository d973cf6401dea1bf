import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../controllers/logger.ts";
import { defineKind } from "../../controllers/spec/document.ts";
import type { SpecRead } from "../../controllers/spec-source.ts";
import { SpecWatcher } from "../../controllers/spec-watcher.ts";

// The spec directory watched with the real fs.watch and the real clock (the debounce logic itself is unit-tested with
// the manual clock in controllers/spec-watcher.test.ts).
const kinds = [
  defineKind({ kind: "Widget", description: "test", specSchema: Type.Object({ size: Type.Integer() }) }),
];
const widget = (name: string, size: number) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: ${name} }\nspec: { size: ${size} }\n`;

let dir = "";
let watcher: SpecWatcher | undefined;
afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The next read the watcher reports, or a failure after `ms`. */
function nextRead(reads: SpecRead[], ms = 10_000): Promise<SpecRead> {
  const seen = reads.length;
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error("no read reported")), ms);
    const check = setInterval(() => {
      const read = reads[seen];
      if (read === undefined) return;
      clearTimeout(deadline);
      clearInterval(check);
      resolve(read);
    }, 10);
  });
}

describe("SpecWatcher on a real directory", () => {
  it("re-reads after file events, debounced, recursively", async () => {
    dir = mkdtempSync(join(tmpdir(), "spec-watcher-it-"));
    watcher = new SpecWatcher({ dir, kinds, logger: silentLogger, debounceMs: 200 });
    writeFileSync(join(dir, "a.yaml"), widget("a", 1));
    await watcher.load();
    const reads: SpecRead[] = [];
    watcher.watch((read) => reads.push(read));
    let next = nextRead(reads);
    writeFileSync(join(dir, "a.yaml"), widget("a", 2));
    writeFileSync(join(dir, "b.yml"), widget("b", 2));
    // Both writes fall within one debounce: one read sees both.
    expect((await next).changes).toEqual({ changed: ["Widget/a", "Widget/b"], removed: [] });
    next = nextRead(reads);
    mkdirSync(join(dir, "nested"));
    writeFileSync(join(dir, "nested", "c.yaml"), widget("c", 3));
    // Reads may come for the directory's creation first; the one that sees c is the one wanted.
    let read = await next;
    while (!read.changes.changed.includes("Widget/c")) {
      next = nextRead(reads);
      read = await next;
    }
    expect(read.changes).toEqual({ changed: ["Widget/c"], removed: [] });
  });
});
