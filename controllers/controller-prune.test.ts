import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MemorySpecSource } from "../test/memory-spec-source.ts";
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
  /** Awaited by each sweep once it has planned: a sweep still planning when the next read comes. */
  planned: (() => Promise<void>) | undefined;
  /** Awaited by each deletion before it is made, with the apply's signal: a writer holding it, or AWS slow to answer. */
  deleting: ((name: string, signal: AbortSignal) => Promise<void>) | undefined;

  /** The boxes each spec reconcile planned, in order. */
  readonly plannedFor: string[] = [];

  async plan(doc: SpecDocument): Promise<ResourcePlan> {
    const name = doc.metadata.name;
    this.plannedFor.push(name);
    return {
      key: `Box/${name}`,
      kind: "Box",
      changes: this.world.has(name) ? [] : [{ action: "create", target: name }],
      apply: async () => void this.world.add(name),
    };
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    const live = new Set(ctx.documents.map((d) => d.metadata.name));
    const plans: ResourcePlan[] = [...this.world]
      .filter((n) => !live.has(n))
      .sort()
      .map((n) => ({
        key: `Box/${n}`,
        kind: "Box",
        changes: [{ action: "delete", target: n }],
        apply: async (signal) => {
          await this.deleting?.(n, signal);
          this.world.delete(n);
        },
      }));
    await this.planned?.();
    return plans;
  }
}

const box = (n: string) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Box\nmetadata: { name: ${n} }\nspec: {}\n`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A hook that holds whoever calls it until `release`; `reached` says whether anyone has. */
function hold(): { hook: () => Promise<void>; reached: () => boolean; release: () => void } {
  let calls = 0;
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { hook: () => (calls++, gate), reached: () => calls > 0, release };
}

/** Lets the event loop turn until `test` holds: no time passes on the manual clock meanwhile. */
async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await test()); i++) await new Promise((r) => setImmediate(r));
  expect(await test()).toBe(true);
}

async function setup(names: string[], pruneGuard?: PruneGuardPolicy) {
  const specs = new MemorySpecSource([boxKind]);
  for (const n of names) specs.files.set(`${n}.yaml`, box(n));
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
    specs,
    reconcilers: [reconciler],
    metrics: new ControllerMetrics(registry),
    logger,
    ownerId: "test",
    intervalMs: 1000,
    workers: 2,
    clock,
    pruneGuard,
  });
  cleanup.push(() => controller.stop());
  await controller.start();
  /** No key waits or is being reconciled. */
  const idle = (): boolean => {
    const q = controller.keysHeld().queue;
    return q.waiting.length === 0 && q.processing.length === 0;
  };
  /** One more interval (a read of the specs and a resync), and what it started done. */
  const advanceInterval = async (): Promise<void> => {
    const reads = specs.reads;
    await clock.advance(1000);
    await until(() => specs.reads > reads && idle());
  };
  const gauge = async (): Promise<string | undefined> =>
    (await registry.metrics())
      .split("\n")
      .find((l) => l.startsWith('ecs_log_operator_deletions_held{kind="Box"}'));
  const held = () => controller.status.get("Box/*")?.conditions.find((c) => c.type === "DeletionHeld");
  return { specs, reconciler, controller, logs, idle, advanceInterval, gauge, held };
}

describe("Controller and the prune guard", () => {
  it("holds the deletions of an emptied spec set: logged once, a DeletionHeld condition, a metric; restored, released", async () => {
    const t = await setup(["a", "b", "c"]);
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c"]);
    // The checkout is emptied: one read finds no spec.
    for (const n of ["a", "b", "c"]) t.specs.files.delete(`${n}.yaml`);
    await t.advanceInterval();
    expect(t.held()?.status).toBe("True");
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
    expect(t.controller.endpoints.status().deletionsHeld.Box).toMatch(/^the spec set is empty/);

    // The checkout comes back: the hold is released by the next read, with nothing deleted.
    for (const n of ["a", "b", "c"]) t.specs.files.set(`${n}.yaml`, box(n));
    await t.advanceInterval();
    expect(t.held()?.status).toBe("False");
    expect(await t.gauge()).toBe('ecs_log_operator_deletions_held{kind="Box"} 0');
    expect(t.logs.filter((l) => l.msg === "deletions no longer held")).toHaveLength(1);
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c"]);
  });

  it("deletes with --allow-empty, and holds a sharp shrink but not one removal", async () => {
    const empty = await setup(["a", "b"], { allowEmpty: true, maxCount: 1, maxFraction: 0.5 });
    for (const n of ["a", "b"]) empty.specs.files.delete(`${n}.yaml`);
    await empty.advanceInterval();
    expect(empty.reconciler.world.size).toBe(0);
    expect(empty.held()).toBeUndefined();

    const shrink = await setup(["a", "b", "c", "d", "e"]);
    await shrink.specs.remove("a.yaml");
    await until(() => !shrink.reconciler.world.has("a"));
    for (const n of ["b", "c", "d"]) shrink.specs.files.delete(`${n}.yaml`);
    await shrink.advanceInterval();
    expect(shrink.held()?.status).toBe("True");
    expect(shrink.held()).toMatchObject({ reason: "SpecSetShrank" });
    expect([...shrink.reconciler.world].sort()).toEqual(["b", "c", "d", "e"]);
  });

  it("judges a sweep by the specs it planned from: a read that restores the specs mid-sweep deletes nothing", async () => {
    const t = await setup(["a", "b", "c"]);
    const planning = hold();
    t.reconciler.planned = planning.hook;
    // The checkout is emptied, and the sweep that read finds every box an orphan, then is slow to finish planning...
    for (const n of ["a", "b", "c"]) t.specs.files.delete(`${n}.yaml`);
    void t.advanceInterval();
    await until(planning.reached);
    // ...while the checkout comes back and is read (as git-sync swapping a link back does).
    for (const n of ["a", "b", "c"]) await t.specs.write(`${n}.yaml`, box(n));
    expect(t.controller.endpoints.status().deletionsHeld.Box).toBeUndefined();
    t.reconciler.planned = undefined;
    planning.release();
    await until(t.idle);
    // The stale sweep applied nothing: the specs it was planned over are not the specs now. Nor did it hold.
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c"]);
    expect(t.logs.filter((l) => l.msg === "orphan removed")).toHaveLength(0);
    expect(t.logs.filter((l) => l.msg === "deletions held")).toHaveLength(0);
    expect(
      t.logs.some((l) => l.msg === "the specs changed while the sweep ran; swept again from the new read"),
    ).toBe(true);
    // The sweep made from the restored specs finds nothing to delete, and leaves no hold behind.
    expect(t.controller.endpoints.status().deletionsHeld.Box).toBeUndefined();
    expect(await t.gauge()).toBe('ecs_log_operator_deletions_held{kind="Box"} 0');
  });

  it("applies no sweep planned before a spec of its kind came back, though the guard would let it", async () => {
    const t = await setup(["a", "b", "c", "d"]);
    const planning = hold();
    t.reconciler.planned = planning.hook;
    // One spec removed (the guard lets one removal through), and the sweep is slow to finish planning...
    void t.specs.remove("a.yaml");
    await until(planning.reached);
    // ...while the spec comes back.
    await t.specs.write("a.yaml", box("a"));
    t.reconciler.planned = undefined;
    planning.release();
    await until(t.idle);
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c", "d"]);
    expect(t.logs.filter((l) => l.msg === "orphan removed")).toHaveLength(0);
  });

  it("makes no further deletion of a sweep once a read brings back a spec it was about to delete", async () => {
    const t = await setup(["a", "b", "c", "d", "e"]);
    const answer = hold();
    let deleting = "";
    t.reconciler.deleting = (name) => ((deleting = name), answer.hook());
    // Two of five removed (not a sharp shrink): the sweep deletes a, and AWS is slow to answer...
    for (const n of ["a", "b"]) t.specs.files.delete(`${n}.yaml`);
    void t.advanceInterval();
    await until(() => deleting === "a");
    // ...while b comes back.
    await t.specs.write("b.yaml", box("b"));
    t.reconciler.deleting = undefined;
    answer.release();
    await until(() => !t.reconciler.world.has("a") && t.idle());
    expect([...t.reconciler.world].sort()).toEqual(["b", "c", "d", "e"]);
    expect(t.logs.filter((l) => l.msg === "orphan removed").map((l) => l.fields?.orphan)).toEqual(["Box/a"]);
  });

  it("withdraws a deletion still waiting in a writer when a read brings its spec back", async () => {
    const t = await setup(["a", "b", "c", "d", "e"]);
    let waiting = "";
    // As Route 53's zone writer holds a batch (up to 2 s) or Cloud Map waits on an operation: nothing is sent until
    // the wait ends, and a submission whose signal aborts meanwhile is dropped.
    t.reconciler.deleting = (name, signal) => {
      waiting = name;
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    };
    t.specs.files.delete("a.yaml");
    void t.advanceInterval();
    await until(() => waiting === "a");
    await t.specs.write("a.yaml", box("a"));
    t.reconciler.deleting = undefined;
    await until(t.idle);
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(t.logs.filter((l) => l.msg === "orphan removed")).toHaveLength(0);
    expect(
      t.logs.some((l) => l.msg === "the specs changed while the sweep ran; swept again from the new read"),
    ).toBe(true);
    // Withdrawn, not failed: the sweep is not in error.
    expect(t.controller.status.get("Box/*")?.conditions.find((c) => c.type === "Ready")?.status).not.toBe(
      "False",
    );
  });

  it("reconciles a spec again whose deletion had gone out as it came back, so its object is made again", async () => {
    const t = await setup(["a", "b", "c", "d", "e"]);
    const inFlight = hold();
    t.reconciler.deleting = () => inFlight.hook();
    t.specs.files.delete("a.yaml");
    void t.advanceInterval();
    await until(inFlight.reached);
    // The request is on the wire (it no longer listens to its signal) when a.yaml comes back; Box/a is reconciled at
    // once, finds its box still there and does nothing...
    const before = t.reconciler.plannedFor.length;
    await t.specs.write("a.yaml", box("a"));
    await until(
      () =>
        t.reconciler.plannedFor.slice(before).includes("a") &&
        t.controller.keysHeld().queue.processing.join() === "Box/*",
    );
    expect(t.reconciler.world.has("a")).toBe(true);
    // ...then the delete lands.
    t.reconciler.deleting = undefined;
    inFlight.release();
    await until(() => t.idle() && t.reconciler.world.has("a"));
    expect([...t.reconciler.world].sort()).toEqual(["a", "b", "c", "d", "e"]);
  });
});
