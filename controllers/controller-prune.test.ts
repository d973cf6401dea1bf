import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { Controller } from "./controller.ts";
import type { Logger } from "./logger.ts";
import { ControllerMetrics } from "./metrics.ts";
import type { PruneGuardPolicy } from "./prune-guard.ts";
import type { ReconcileContext, Reconciler, ResourcePlan } from "./reconciler.ts";
import { defineKind, type SpecDocument } from "./spec/document.ts";

const boxKind = defineKind({ kind: "Box", description: "test kind", specSchema: Type.Object({}) });

/** Boxes exist in a fake world; a removed spec's box is deleted by the sweep (as if it had said prune: true). */
class BoxReconciler implements Reconciler {
  readonly kind = "Box";
  readonly order = 1;
  readonly world = new Set<string>();

  async plan(doc: SpecDocument): Promise<ResourcePlan> {
    const name = doc.metadata.name;
    return {
      key: `Box/${name}`,
      kind: "Box",
      changes: this.world.has(name) ? [] : [{ action: "create", target: name }],
      apply: async () => void this.world.add(name),
    };
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    const live = new Set(ctx.documents.map((d) => d.metadata.name));
    return [...this.world]
      .filter((n) => !live.has(n))
      .sort()
      .map((n) => ({
        key: `Box/${n}`,
        kind: "Box",
        changes: [{ action: "delete", target: n }],
        apply: async () => void this.world.delete(n),
      }));
  }
}

const box = (n: string) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Box\nmetadata: { name: ${n} }\nspec: {}\n`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(names: string[], pruneGuard?: PruneGuardPolicy) {
  const dir = mkdtempSync(join(tmpdir(), "controller-prune-"));
  for (const n of names) writeFileSync(join(dir, `${n}.yaml`), box(n));
  const clock = new ManualClock();
  const reconciler = new BoxReconciler();
  const registry = new Registry();
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (msg, fields) => logs.push({ level: "info", msg, fields }),
    warn: (msg, fields) => logs.push({ level: "warn", msg, fields }),
    error: (msg, fields) => logs.push({ level: "error", msg, fields }),
    child: () => logger,
  };
  const controller = new Controller({
    specDir: dir,
    kinds: [boxKind],
    reconcilers: [reconciler],
    metrics: new ControllerMetrics(registry),
    logger,
    ownerId: "test",
    intervalMs: 1000,
    bindAddress: "127.0.0.1:0",
    debounceMs: 3_600_000,
    workers: 2,
    clock,
    pruneGuard,
  });
  cleanup.push(async () => {
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await controller.start();
  /** Moves the clock an interval at a time (the spec directory is read with real I/O) until `done`. */
  const until = async (done: () => boolean | Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 200_000 && !(await done()); i++) {
      if (i % 300 === 0) await clock.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
    expect(await done()).toBe(true);
  };
  /** One more interval, and its real I/O taken in. */
  const advanceInterval = async (): Promise<void> => {
    await clock.advance(1000);
    for (let i = 0; i < 300; i++) await new Promise((r) => setImmediate(r));
  };
  const gauge = async (): Promise<string | undefined> =>
    (await registry.metrics())
      .split("\n")
      .find((l) => l.startsWith('ecs_log_operator_deletions_held{kind="Box"}'));
  const held = () => controller.status.get("Box/*")?.conditions.find((c) => c.type === "DeletionHeld");
  return { dir, reconciler, controller, logs, until, advanceInterval, gauge, held };
}

describe("Controller and the prune guard", () => {
  it("holds the deletions of an emptied spec set: logged once, a DeletionHeld condition, a metric; restored, released", async () => {
    const t = await setup(["a", "b", "c"]);
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c"]);
    for (const n of ["a", "b", "c"]) unlinkSync(join(t.dir, `${n}.yaml`));
    await t.until(() => t.held()?.status === "True");
    expect(t.held()).toMatchObject({ reason: "SpecSetEmpty" });
    expect(t.held()?.message).toMatch(
      /^the spec set is empty: the deletions for 3 removed Box spec\(s\) are held/,
    );
    expect(await t.gauge()).toBe('ecs_log_operator_deletions_held{kind="Box"} 3');
    // Several more intervals (reads and resyncs, each sweeping again): still held, nothing deleted, said once.
    for (let i = 0; i < 5; i++) await t.advanceInterval();
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c"]);
    expect(t.logs.filter((l) => l.msg === "deletions held")).toHaveLength(1);
    expect(t.logs.find((l) => l.msg === "deletions held")?.fields).toMatchObject({
      kind: "Box",
      reason: "SpecSetEmpty",
      resources: ["Box/a", "Box/b", "Box/c"],
    });
    const status = (await (await fetch(`http://127.0.0.1:${t.controller.port}/status`)).json()) as {
      deletionsHeld: Record<string, string>;
    };
    expect(status.deletionsHeld.Box).toMatch(/^the spec set is empty/);

    // The checkout comes back: the hold is released by the next read, with nothing deleted.
    for (const n of ["a", "b", "c"]) writeFileSync(join(t.dir, `${n}.yaml`), box(n));
    await t.until(() => t.held()?.status === "False");
    expect(await t.gauge()).toBe('ecs_log_operator_deletions_held{kind="Box"} 0');
    expect(t.logs.filter((l) => l.msg === "deletions no longer held")).toHaveLength(1);
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c"]);
  }, 60_000);

  it("deletes with --allow-empty, and holds a sharp shrink but not one removal", async () => {
    const empty = await setup(["a", "b"], { allowEmpty: true, maxCount: 1, maxFraction: 0.5 });
    for (const n of ["a", "b"]) unlinkSync(join(empty.dir, `${n}.yaml`));
    await empty.until(() => empty.reconciler.world.size === 0);
    expect(empty.held()).toBeUndefined();

    const shrink = await setup(["a", "b", "c", "d", "e"]);
    unlinkSync(join(shrink.dir, "a.yaml"));
    await shrink.until(() => !shrink.reconciler.world.has("a"));
    for (const n of ["b", "c", "d"]) unlinkSync(join(shrink.dir, `${n}.yaml`));
    await shrink.until(() => shrink.held()?.status === "True");
    expect(shrink.held()).toMatchObject({ reason: "SpecSetShrank" });
    expect([...shrink.reconciler.world].sort()).toEqual(["b", "c", "d", "e"]);
  }, 60_000);
});
