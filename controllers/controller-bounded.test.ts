import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MemorySpecSource } from "../test/memory-spec-source.ts";
import { seededRandom } from "../test/seeded-random.ts";
import { AwsError } from "./aws/errors.ts";
import { ManualClock } from "./clock.ts";
import { Controller } from "./controller.ts";
import { silentLogger } from "./logger.ts";
import { ControllerMetrics } from "./metrics.ts";
import { TerminalError, type ReconcileContext, type Reconciler, type ResourcePlan } from "./reconciler.ts";
import { defineKind, type SpecDocument } from "./spec/document.ts";

const gaugeKind = defineKind({
  kind: "Gauge",
  description: "a test kind",
  specSchema: Type.Object({ size: Type.Integer() }),
});

/** A fake world of named sizes; names in `failing` fail with the error given, until taken out. */
class GaugeReconciler implements Reconciler {
  readonly kind = "Gauge";
  readonly order = 1;
  readonly world = new Map<string, number>();
  readonly failing = new Map<string, Error>();
  /** When set, each apply that changed something detaches a wait that ends when the clock passes `detachMs`. */
  detachMs = 0;
  clock: ManualClock | undefined;

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const name = doc.metadata.name;
    const failure = this.failing.get(name);
    if (failure !== undefined) throw failure;
    const want = (doc.spec as { size: number }).size;
    const changes = this.world.get(name) === want ? [] : [{ action: "update" as const, target: name }];
    return {
      key: `Gauge/${name}`,
      kind: "Gauge",
      changes,
      apply: async () => {
        this.world.set(name, want);
        if (this.detachMs > 0 && this.clock !== undefined) {
          const clock = this.clock;
          ctx.detach?.(`wait for ${name}`, (signal) => clock.sleep(this.detachMs, signal));
        }
      },
    };
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    const wanted = new Set(ctx.documents.map((d) => d.metadata.name));
    return [...this.world.keys()]
      .filter((n) => !wanted.has(n))
      .map((n) => ({
        key: `Gauge/${n}`,
        kind: "Gauge",
        changes: [{ action: "delete" as const, target: n }],
        apply: async () => {
          this.world.delete(n);
        },
      }));
  }
}

/** The churn is the same on every run. */
const random = seededRandom;

const gauge = (name: string, size: number): string =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Gauge\nmetadata: { name: ${name} }\nspec: { size: ${size} }\n`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const INTERVAL = 1000;

describe("Controller state under churn", () => {
  it("holds exactly the live keys in every per-key structure, and no listener per reconcile", async () => {
    const specs = new MemorySpecSource([gaugeKind]);
    const clock = new ManualClock(1_000_000);
    const reconciler = new GaugeReconciler();
    reconciler.clock = clock;
    const controller = new Controller({
      specs,
      reconcilers: [reconciler],
      metrics: new ControllerMetrics(new Registry()),
      logger: silentLogger,
      ownerId: "test",
      // The specs are read once an interval: the test drives every read through the clock.
      intervalMs: INTERVAL,
      workers: 3,
      clock,
    });
    cleanup.push(() => controller.stop());
    specs.files.set("g0.yaml", gauge("g0", 0));
    await controller.start();

    const rnd = random(7);
    const live = new Map<string, number>([["g0", 0]]);
    let next = 1;
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        await clock.advance(50);
        const held = controller.keysHeld().queue;
        if (held.waiting.length === 0 && held.processing.length === 0) return;
      }
    };
    const liveKeys = (): string[] => [...[...live.keys()].map((n) => `Gauge/${n}`), "Gauge/*"].sort();
    /** Moves the clock an interval, and waits (without sleeping) until its read of the specs has been taken in. */
    const read = async (): Promise<void> => {
      const reads = specs.reads;
      await clock.advance(INTERVAL);
      for (let i = 0; i < 2000 && specs.reads === reads; i++) await new Promise((r) => setImmediate(r));
      expect(specs.reads).toBeGreaterThan(reads);
    };
    for (let round = 0; round < 40; round++) {
      for (let action = 0; action < 4; action++) {
        const r = rnd();
        const names = [...live.keys()];
        const pick = names[Math.floor(rnd() * names.length)];
        if (r < 0.35 || pick === undefined) {
          const name = `g${next++}`;
          live.set(name, 1);
          specs.files.set(`${name}.yaml`, gauge(name, 1));
        } else if (r < 0.6) {
          live.set(pick, (live.get(pick) ?? 0) + 1);
          specs.files.set(`${pick}.yaml`, gauge(pick, live.get(pick)!));
        } else if (r < 0.8) {
          live.delete(pick);
          specs.files.delete(`${pick}.yaml`);
        } else if (r < 0.9) {
          reconciler.failing.set(pick, new AwsError("throttled", "route53", "List", "Throttling", "slow"));
        } else {
          reconciler.failing.set(pick, new TerminalError("cannot"));
        }
      }
      reconciler.detachMs = round % 3 === 0 ? 700 : 0;
      await read();
      await settle();
      // Keys whose spec went away while they failed, waited or were being retried are gone from every structure.
      const held = controller.keysHeld();
      expect(held.status).toEqual(liveKeys());
      for (const key of [...held.pending, ...held.queue.failures, ...held.queue.waiting]) {
        expect(liveKeys()).toContain(key);
      }
      // One listener per long-lived wait (the initial sync's is gone), none per reconcile or per retry.
      expect(held.signalListeners.work).toBe(0);
      expect(held.signalListeners.stopping).toBeLessThanOrEqual(held.detached + 1);
      if (round % 10 === 9) reconciler.failing.clear();
    }

    reconciler.failing.clear();
    reconciler.detachMs = 0;
    // Resyncs retry the keys that failed for good; wait (moving the clock, never sleeping) until every key converged.
    const converged = (): boolean =>
      controller.status
        .list()
        .every((r) => r.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    for (let i = 0; i < 1_000_000 && !converged(); i++) {
      if (i % 500 === 0) await clock.advance(INTERVAL * 200);
      await new Promise((r) => setImmediate(r));
    }
    await settle();
    const held = controller.keysHeld();
    expect(held.status).toEqual(liveKeys());
    expect(held.pending).toEqual([]);
    expect(held.queue).toEqual({ waiting: [], processing: [], failures: [] });
    expect(held.detached).toBe(0);
    expect(Object.fromEntries(reconciler.world)).toEqual(Object.fromEntries(live));
    // Thousands of turns of the event loop, however loaded the machine: no time passes on the manual clock meanwhile.
  }, 60_000);
});
