import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { silentLogger } from "./logger.ts";
import { defineKind } from "./spec/document.ts";
import { SpecWatcher, type SpecWatcherOptions } from "./spec-watcher.ts";
import type { SpecRead } from "./spec-source.ts";

const kinds = [
  defineKind({ kind: "Widget", description: "test", specSchema: Type.Object({ size: Type.Integer() }) }),
];
const widget = (name: string, size: number | string) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: ${name} }\nspec: { size: ${size} }\n`;

let dir = "";
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function setup(options: Partial<SpecWatcherOptions> = {}): SpecWatcher {
  const own = mkdtempSync(join(tmpdir(), "spec-watcher-"));
  dir = own;
  const watcher = new SpecWatcher({ dir: own, kinds, logger: silentLogger, debounceMs: 20, ...options });
  cleanup.push(() => {
    watcher.close();
    rmSync(own, { recursive: true, force: true });
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

  it("re-reads once the file events have been quiet for the debounce time, and says what changed", async () => {
    // File events come from a stand-in for fs.watch, time from the manual clock (the real watch is exercised in
    // test/integration/spec-watcher.test.ts).
    const clock = new ManualClock();
    let fileEvent = (): void => undefined;
    let closed = false;
    const w = setup({
      clock,
      watchDirectory: (_dir, onEvent) => {
        fileEvent = onEvent;
        return { close: () => void (closed = true) };
      },
    });
    writeFileSync(join(dir, "a.yaml"), widget("a", 1));
    await w.load();
    const reads: SpecRead[] = [];
    const first = new Promise<SpecRead>((resolve) =>
      w.watch((read) => {
        reads.push(read);
        resolve(read);
      }),
    );
    writeFileSync(join(dir, "a.yaml"), widget("a", 2));
    fileEvent();
    await clock.advance(15);
    writeFileSync(join(dir, "b.yml"), widget("b", 2));
    fileEvent(); // within the debounce: the wait starts again
    await clock.advance(15);
    expect(reads).toEqual([]);
    await clock.advance(5);
    expect((await first).changes).toEqual({ changed: ["Widget/a", "Widget/b"], removed: [] });
    // Nothing else is waiting to read: the two events gave one read.
    expect(clock.pendingSleepers).toBe(0);
    expect(reads).toHaveLength(1);
    w.close();
    expect(closed).toBe(true);
    fileEvent();
    expect(clock.pendingSleepers).toBe(0);
  });

  it("goes on without file events when the directory cannot be watched, and stops watching after an error", async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) };
    const failing = setup({
      logger,
      watchDirectory: () => {
        throw new Error("ENOSPC: System limit for number of file watchers reached");
      },
    });
    failing.watch(() => undefined);
    expect(warnings).toEqual(["cannot watch the spec directory; re-read each resync"]);
    let breakWatch = (_e: Error): void => undefined;
    let closed = 0;
    const w = setup({
      logger,
      watchDirectory: (_dir, _onEvent, onError) => {
        breakWatch = onError;
        return { close: () => void closed++ };
      },
    });
    w.watch(() => undefined);
    breakWatch(new Error("EMFILE"));
    expect(warnings.at(-1)).toBe("spec directory watch failed; re-read each resync");
    expect(closed).toBe(1);
  });
});
