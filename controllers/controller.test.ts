import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { AwsError } from "./aws/errors.ts";
import { ManualClock } from "./clock.ts";
import {
  Controller,
  type ControllerOptions,
  type ControllerServer,
  type WatchedServicesReport,
} from "./controller.ts";
import type { OnWatchKeys, WatchEvents } from "./events-queue.ts";
import { Informer, type WatchLister } from "./informers.ts";
import { NotLeaderError } from "./leader-election/term.ts";
import type { LeadershipGate } from "./leadership.ts";
import { silentLogger } from "./logger.ts";
import { ControllerMetrics } from "./metrics.ts";
import {
  DependencyNotReadyError,
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "./reconciler.ts";
import { defineKind, type SpecDocument } from "./spec/document.ts";
import { UnusableSpecsError } from "./spec-source.ts";
import type { WatchedServiceStatus } from "./status-model.ts";
import type { TickReads } from "./tick-reads.ts";
import { MemorySpecSource } from "../test/memory-spec-source.ts";

// The controller on the manual clock with in-memory parts: specs from memory (read as the directory source reads
// them), listings from a fake lister, no HTTP server. Nothing here sleeps or reads the wall clock: time moves only
// when a test advances it, and a test waits for a condition by letting the event loop turn. The parts that need
// real processes (HTTP, fs.watch, AWS) are tested with the controller in test/integration/.

/** A fake kind: a widget has a size, kept in a fake world the test can change by hand. */
const widgetKind = defineKind({
  kind: "Widget",
  description: "a test widget",
  specSchema: Type.Object({
    size: Type.Integer(),
    service: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
  }),
});

type WidgetSpec = { size: number; service?: string; group?: string };

/** Resolves when released: a step of a plan or an apply the test holds open. */
class Gate {
  private release: (() => void) | undefined;
  readonly opened: Promise<void> = new Promise((resolve) => (this.release = resolve));
  open(): void {
    this.release?.();
  }
}

class WidgetReconciler implements Reconciler {
  readonly kind = "Widget";
  readonly order = 1;
  readonly world = new Map<string, number>();
  readonly plans: string[] = [];
  sweeps = 0;
  /** Names whose next reconciles throw this, once each time it is set. */
  readonly failWith = new Map<string, Error>();
  /** When set, every plan takes this long on the test's clock. */
  planMs = 0;
  /** When set, an apply waits for the gate. */
  applyGate: Gate | undefined;
  /** The signals applies ran under. */
  readonly applySignals: AbortSignal[] = [];
  /** When set, an apply that changed something hands this to `ctx.detach` (a drain's wait, say). */
  detachWith: ((signal: AbortSignal) => Promise<void>) | undefined;
  inFlight = new Set<string>();
  overlapped = false;
  private readonly clock: ManualClock;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const name = doc.metadata.name;
    if (this.inFlight.has(name)) this.overlapped = true;
    this.inFlight.add(name);
    try {
      this.plans.push(name);
      await (this.planMs > 0 ? this.clock.sleep(this.planMs) : Promise.resolve());
      const failure = this.failWith.get(name);
      if (failure !== undefined) throw failure;
      const want = (doc.spec as WidgetSpec).size;
      const have = this.world.get(name);
      const changes =
        have === want ? [] : [{ action: have === undefined ? "create" : "update", target: name } as const];
      return {
        key: `Widget/${name}`,
        kind: "Widget",
        changes,
        targets: [{ id: name, address: `10.0.0.${want}` }],
        apply: async (signal) => {
          this.applySignals.push(signal);
          await this.applyGate?.opened;
          this.world.set(name, want);
          if (this.detachWith !== undefined) ctx.detach?.(`wait for ${name}`, this.detachWith);
        },
      };
    } finally {
      this.inFlight.delete(name);
    }
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    this.sweeps++;
    const wanted = new Set(ctx.documents.map((d) => d.metadata.name));
    return [...this.world.keys()]
      .filter((n) => !wanted.has(n))
      .map((n) => ({
        key: `Widget/${n}`,
        kind: "Widget",
        changes: [{ action: "delete" as const, target: n }],
        apply: async () => {
          this.world.delete(n);
        },
      }));
  }

  watches(doc: SpecDocument): readonly string[] {
    const s = doc.spec as WidgetSpec;
    return [
      ...(s.service !== undefined
        ? [`ecs:arn:aws:ecs:us-east-1:123456789012:cluster/c/service:${s.service}`]
        : []),
      ...(s.group !== undefined ? [`group:${s.group}`] : []),
    ];
  }
}

class FakeLister implements WatchLister {
  readonly listings = new Map<string, string[]>();
  async list(watchKey: string): Promise<string[] | undefined> {
    return this.listings.get(watchKey) ?? [];
  }
}

/** Events the test sends, as the SQS events queue would report them. */
class FakeEvents implements WatchEvents {
  private onKeys: OnWatchKeys | undefined;
  run(signal: AbortSignal, onKeys: OnWatchKeys): Promise<void> {
    this.onKeys = onKeys;
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
  }
  send(watchKeys: string[], at: number): void {
    this.onKeys?.(watchKeys, at);
  }
}

/** Watched services as `WatchedServices` reports them: every one the specs watch is Degraded, for the test. */
class FakeWatched implements WatchedServicesReport {
  watchers = new Map<string, readonly string[]>();
  setWatches(resourcesByWatchKey: ReadonlyMap<string, readonly string[]>): void {
    this.watchers = new Map(resourcesByWatchKey);
  }
  list(): WatchedServiceStatus[] {
    return [...this.watchers.keys()]
      .filter((k) => k.startsWith("ecs:"))
      .map((key) => ({
        key,
        cluster: "c",
        service: key.slice(key.indexOf(":", 4) + 1),
        family: null,
        resources: this.watchers.get(key) ?? [],
        desired: 3,
        running: 2,
        pending: 0,
        taskDefinition: null,
        conditions: [
          {
            type: "Degraded",
            status: "True",
            reason: "NoFreeEni",
            message: "c/svc runs 2 of 3 tasks.",
            lastTransitionTime: "2026-12-01T12:00:00.000Z",
          },
        ],
        tasks: [],
        stoppedTasks: [],
        events: [],
        observedAt: null,
        error: null,
      }));
  }
}

function widget(name: string, size: number, service?: string, group?: string): string {
  return [
    "apiVersion: ecs-log-operator/v1alpha1",
    "kind: Widget",
    `metadata: { name: ${name} }`,
    `spec: { size: ${size}${service ? `, service: ${service}` : ""}${group ? `, group: ${group}` : ""} }`,
    "",
  ].join("\n");
}

const INVALID_A =
  "apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: a }\nspec: { size: big }\n";

/** Lets the event loop turn until `test` holds: no time passes on the manual clock meanwhile. */
async function until(what: string, test: () => boolean | Promise<boolean>, turns = 2000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (await test()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`${what}: did not happen within ${turns} turns of the event loop`);
}

/** The value of one sample in an exposition text. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return Number(line?.slice(series.length + 1));
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(
  files: Record<string, string>,
  options: Partial<
    Pick<
      ControllerOptions,
      "intervalMs" | "resyncIntervalMs" | "leadership" | "readiness" | "reads" | "queue"
    >
  > & {
    lister?: WatchLister;
    events?: WatchEvents;
    server?: ControllerServer;
    watched?: WatchedServicesReport;
  } = {},
) {
  const clock = new ManualClock(1_000_000);
  const specs = new MemorySpecSource([widgetKind]);
  for (const [f, text] of Object.entries(files)) specs.files.set(f, text);
  const reconciler = new WidgetReconciler(clock);
  const registry = new Registry();
  const controller = new Controller({
    specs,
    reconcilers: [reconciler],
    metrics: new ControllerMetrics(registry),
    logger: silentLogger,
    ownerId: "test",
    intervalMs: options.intervalMs ?? 60_000,
    resyncIntervalMs: options.resyncIntervalMs,
    informer:
      options.lister !== undefined
        ? new Informer({ lister: options.lister, logger: silentLogger })
        : undefined,
    events: options.events,
    watched: options.watched,
    server: options.server !== undefined ? () => options.server! : undefined,
    leadership: options.leadership,
    readiness: options.readiness,
    reads: options.reads,
    queue: options.queue,
    workers: 2,
    clock,
  });
  cleanup.push(async () => {
    // What a test left waiting (an apply held open, a plan sleeping on the clock) finishes as time moves on.
    reconciler.applyGate?.open();
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    for (let i = 0; i < 1000 && !stopped; i++) await clock.advance(100);
    await stopping;
  });
  const metrics = () => registry.metrics();
  /** Moves the clock in steps until `test` holds (a retry's backoff, a resync). */
  const advanceUntil = async (
    what: string,
    test: () => boolean | Promise<boolean>,
    stepMs = 10,
    steps = 500,
  ) => {
    for (let i = 0; i < steps; i++) {
      if (await test()) return;
      await clock.advance(stepMs);
    }
    throw new Error(`${what}: did not happen within ${steps * stepMs} ms of the manual clock`);
  };
  /** Lets everything queued finish: nothing waiting, nothing in flight. */
  const idle = () => until("idle", () => controller.queue.length === 0 && controller.queue.inFlight === 0);
  return { clock, specs, reconciler, registry, controller, metrics, advanceUntil, idle };
}

describe("Controller", () => {
  it("reconciles every spec once before it is ready, and serves its state", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 2) });
    await t.controller.start();
    expect(t.controller.phase).toBe("ready");
    expect(Object.fromEntries(t.reconciler.world)).toEqual({ a: 1, b: 2 });
    expect(t.controller.endpoints.ready()).toEqual({ ready: true, phase: "ready" });
    expect(t.controller.endpoints.alive()).toBe(true);
    const status = t.controller.endpoints.status();
    const a = status.resources.find((r) => r.key === "Widget/a");
    expect(a?.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "True", reason: "Converged" }),
    );
    expect(a?.observedGeneration).toMatch(/\S/);
    const text = await t.metrics();
    // Two specs and the kind's orphan sweep.
    expect(text).toContain('ecs_log_operator_reconcile_total{kind="Widget",result="success"} 3');
    expect(text).toContain('ecs_log_operator_managed_objects{kind="Widget"} 2');
    expect(text).toMatch(/ecs_log_operator_workqueue_adds_total \d/);
    expect(text).toContain("ecs_log_operator_workqueue_longest_running_processor_seconds 0");
  });

  it("restores what was changed by hand within one resync, counted as drift", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 100 });
    await t.controller.start();
    t.reconciler.world.set("a", 99);
    await t.clock.advance(100);
    await until("drift corrected", () => t.reconciler.world.get("a") === 1);
    await until("metric", async () =>
      (await t.metrics()).includes('ecs_log_operator_drift_corrected_total{kind="Widget"} 1'),
    );
  });

  it("keeps its interval from one listing's start to the next when a listing takes a while", async () => {
    const started: number[] = [];
    const at: { clock?: ManualClock } = {};
    // A listing that waits 30 ms of the manual clock (as the informers' listing waits on the ECS rate limit).
    const slow: WatchLister = {
      async list() {
        started.push(at.clock!.now());
        await at.clock!.sleep(30);
        return [];
      },
    };
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc-a") },
      { intervalMs: 50, resyncIntervalMs: 60_000, lister: slow },
    );
    at.clock = t.clock;
    await t.controller.start();
    for (let i = 0; i < 30; i++) await t.clock.advance(10);
    const ticks = started.slice(1); // the first is the informers' baseline at start, outside the loop
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    const periods = ticks.slice(1).map((at, i) => at - ticks[i]!);
    expect(periods.every((p) => p === 50)).toBe(true);
  });

  it("resyncs every interval though the informers' listing hangs, and never lists twice at once", async () => {
    let listings = 0;
    let hang = false;
    const stuck: WatchLister = {
      list: () => (listings++, hang ? new Promise<string[]>(() => undefined) : Promise.resolve([])),
    };
    const t = await setup({ "a.yaml": widget("a", 1, "svc-a") }, { intervalMs: 100, lister: stuck });
    await t.controller.start();
    await t.idle();
    hang = true;
    const before = listings;
    // Drift no event reports: only the resync can correct it.
    t.reconciler.world.set("a", 99);
    for (let i = 0; i < 5; i++) await t.clock.advance(100);
    await until("drift corrected by the resync", () => t.reconciler.world.get("a") === 1);
    // The hung listing was started once, not once a tick.
    expect(listings - before).toBe(1);
  });

  it("counts a change the workload caused (a watched listing moved) as applied, not as drift", async () => {
    const lister = new FakeLister();
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc-a") },
      { intervalMs: 50, resyncIntervalMs: 60_000, lister },
    );
    await t.controller.start();
    await t.clock.advance(120);
    await t.idle();
    // A task started: the service's listing and what the spec needs change together.
    t.reconciler.world.set("a", 7);
    lister.listings.set("ecs:c/service:svc-a", ["arn:task/1"]);
    await t.clock.advance(50);
    await until("applied", () => t.reconciler.world.get("a") === 1);
    await until("success counted", async () =>
      (await t.metrics()).includes('ecs_log_operator_reconcile_total{kind="Widget",result="success"} 3'),
    );
    const text = await t.metrics();
    expect(text).toMatch(/ecs_log_operator_convergence_latency_seconds_count\{source="informer"\} 1/);
    expect(text).not.toMatch(/ecs_log_operator_drift_corrected_total\{kind="Widget"\} [1-9]/);
  });

  it("counts an invalid file's problems once however often it is read, and shows them until it is fixed", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 30 });
    await t.controller.start();
    expect(sample(await t.metrics(), "ecs_log_operator_spec_problems")).toBe(0);
    await t.specs.write("a.yaml", INVALID_A);
    expect(sample(await t.metrics(), "ecs_log_operator_spec_problems")).toBe(1);
    const reads = t.specs.reads;
    await t.clock.advance(200); // several reads of the same invalid file
    await t.idle();
    expect(t.specs.reads).toBeGreaterThan(reads + 3);
    const text = await t.metrics();
    expect(sample(text, "ecs_log_operator_spec_load_errors_total")).toBe(1);
    expect(sample(text, "ecs_log_operator_spec_problems")).toBe(1);
    await t.specs.write("a.yaml", widget("a", 2));
    expect(sample(await t.metrics(), "ecs_log_operator_spec_problems")).toBe(0);
    expect(sample(await t.metrics(), "ecs_log_operator_spec_load_errors_total")).toBe(1);
  });

  it("wakes only the specs whose watched AWS state changed, before any resync", async () => {
    const lister = new FakeLister();
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc-a"), "b.yaml": widget("b", 1, "svc-b") },
      { intervalMs: 50, resyncIntervalMs: 60_000, lister },
    );
    await t.controller.start();
    await t.clock.advance(120);
    await t.idle();
    const before = t.reconciler.plans.length;
    lister.listings.set("ecs:c/service:svc-a", ["arn:task/1"]);
    await t.clock.advance(50);
    await until("informer wakes a", () => t.reconciler.plans.slice(before).includes("a"));
    await t.clock.advance(120);
    await t.idle();
    expect(t.reconciler.plans.slice(before)).toEqual(["a"]);
    expect(await t.metrics()).toMatch(
      /ecs_log_operator_convergence_latency_seconds_count\{source="informer"\} 1/,
    );
  });

  it("wakes the resources an event names at once, and measures from when it was received", async () => {
    const events = new FakeEvents();
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc-a"), "b.yaml": widget("b", 1, "svc-b") },
      { intervalMs: 60_000, events },
    );
    await t.controller.start();
    const before = t.reconciler.plans.length;
    t.reconciler.world.set("a", 3);
    events.send(["ecs:c/service:svc-a"], t.clock.now());
    await until("event wakes a", () => t.reconciler.world.get("a") === 1);
    await t.idle();
    expect(t.reconciler.plans.slice(before)).toEqual(["a"]);
    expect(await t.metrics()).toMatch(
      /ecs_log_operator_convergence_latency_seconds_count\{source="event"\} 1/,
    );
  });

  it("makes cached reads stale only for what a spec watches: an account's other events leave the tick's reads", async () => {
    const events = new FakeEvents();
    const invalidated: string[][] = [];
    const reads: TickReads = {
      beginTick: () => undefined,
      invalidateWatchKeys: (keys) => (invalidated.push([...keys]), 0),
      live: (work) => work(),
    };
    const t = await setup({ "a.yaml": widget("a", 1, "svc-a") }, { intervalMs: 60_000, events, reads });
    await t.controller.start();
    await t.idle();
    // (The spec's first read made its own watches fresh.)
    invalidated.length = 0;
    // The EventBridge rule covers the account: another service's task, another cluster's.
    events.send(["ecs:c/service:other", "ecs:elsewhere/service:svc-a"], t.clock.now());
    events.send(["ecs:c/service:svc-a", "ecs:c/service:other"], t.clock.now());
    await t.idle();
    expect(invalidated).toEqual([["ecs:c/service:svc-a"]]);
  });

  it("wakes the specs of a group (a watch key naming no AWS state) when one of them is edited", async () => {
    const grouped = (name: string, size: number) => widget(name, size, undefined, "family-x");
    const t = await setup({ "a.yaml": grouped("a", 1), "b.yaml": grouped("b", 1), "c.yaml": widget("c", 1) });
    await t.controller.start();
    const before = t.reconciler.plans.length;
    await t.specs.write("b.yaml", grouped("b", 2));
    await until("edit applied", () => t.reconciler.world.get("b") === 2);
    await until("group woken", () => t.reconciler.plans.slice(before).includes("a"));
    await t.idle();
    expect(t.reconciler.plans.slice(before).sort()).toEqual(["a", "b"]);
  });

  it("applies an edited spec, keeps the last valid spec of a file that became invalid, and sweeps a removed one", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) });
    await t.controller.start();
    await t.specs.write("a.yaml", widget("a", 5));
    await until("edit applied", () => t.reconciler.world.get("a") === 5);

    await t.specs.write("a.yaml", INVALID_A);
    await t.specs.remove("b.yaml");
    expect(sample(await t.metrics(), "ecs_log_operator_spec_load_errors_total")).toBeGreaterThan(0);
    await t.idle();
    // The removal is not acted upon while a file is invalid; the invalid file's spec is kept.
    expect(t.reconciler.world.has("b")).toBe(true);
    t.reconciler.world.set("a", 0);
    const status = t.controller.endpoints.status();
    expect(status.resources.find((r) => r.key === "Widget/a")?.conditions).toContainEqual(
      expect.objectContaining({ type: "Stalled", status: "True", reason: "InvalidSpec" }),
    );

    await t.specs.write("a.yaml", widget("a", 5));
    await until("orphan swept once every file is valid", () => !t.reconciler.world.has("b"));
  });

  it("serves what it did and what explains it: targets, changes, decisions, watched services, sweeps apart", async () => {
    const watched = new FakeWatched();
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc"), "b.yaml": widget("b", 1) },
      { intervalMs: 100, watched },
    );
    await t.controller.start();
    // The watch index reaches the watched services, keys normalised (the spec names the cluster by ARN).
    expect(Object.fromEntries(watched.watchers)).toEqual({ "ecs:c/service:svc": ["Widget/a"] });
    let doc = t.controller.endpoints.status();
    const a = doc.resources.find((r) => r.key === "Widget/a");
    expect(a).toMatchObject({
      watches: ["ecs:c/service:svc"],
      targets: { count: 1, items: [{ id: "a", address: "10.0.0.1" }] },
      changes: [{ action: "create", target: "a" }],
    });
    expect(a?.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual([
      "Degraded=True:NoFreeEni",
      "Ready=True:Converged",
    ]);
    expect(doc.services.map((s) => s.key)).toEqual(["ecs:c/service:svc"]);
    expect(doc.resources.map((r) => r.key)).toEqual(["Widget/a", "Widget/b"]);
    expect(doc.sweeps).toMatchObject([{ kind: "Widget", key: "Widget/*", ok: true }]);
    expect(doc.decisions.map((d) => `${d.resource} ${d.decision}`).sort()).toEqual([
      "Widget/a applied",
      "Widget/b applied",
    ]);

    // Drift, a failure retried (recorded once, however often it repeats), a dependency not ready.
    t.reconciler.world.set("a", 99);
    await t.clock.advance(100);
    await until("drift corrected", () => t.reconciler.world.get("a") === 1);
    t.reconciler.failWith.set("b", new Error("flaky"));
    t.reconciler.world.set("b", 0);
    await t.clock.advance(100);
    await t.advanceUntil("retried", () => t.reconciler.plans.filter((p) => p === "b").length >= 5);
    t.reconciler.failWith.set("a", new DependencyNotReadyError("namespace not yet created"));
    await t.advanceUntil(
      "waiting",
      () => t.controller.endpoints.status().decisions[0]?.decision === "waiting",
    );
    t.reconciler.failWith.clear();
    await t.advanceUntil("converged", () => t.reconciler.world.get("b") === 1);
    doc = t.controller.endpoints.status();
    const seen = doc.decisions.map((d) => `${d.resource} ${d.decision}`);
    expect(seen).toContain("Widget/a drift-corrected");
    expect(seen).toContain("Widget/a waiting");
    expect(seen.filter((d) => d === "Widget/b failed")).toHaveLength(1);
    expect(doc.decisions.find((d) => d.decision === "failed")?.message).toBe("ReconcileError: flaky");

    // An invalid file, then the spec of b removed: the sweep's removal is its decision, b's activity goes.
    await t.specs.write("a.yaml", INVALID_A);
    expect(t.controller.endpoints.status().decisions[0]).toMatchObject({
      resource: "Widget/a",
      decision: "invalid-spec",
      message: expect.stringMatching(/^a\.yaml:4:\d+: .*; keeping the last valid spec$/),
    });
    await t.specs.write("a.yaml", widget("a", 1, "svc"));
    await t.specs.remove("b.yaml");
    await until("swept", () => !t.reconciler.world.has("b"));
    await t.idle();
    doc = t.controller.endpoints.status();
    expect(doc.decisions[0]).toMatchObject({
      resource: "Widget/*",
      decision: "orphan-removed",
      message: "Widget/b: delete b",
    });
    expect(doc.resources.map((r) => r.key)).toEqual(["Widget/a"]);
    expect(t.controller.activity.changesOf("Widget/b")).toEqual([]);
    expect(t.controller.activity.targetsOf("Widget/b")).toBeUndefined();
  });

  it("runs detached work beside the queue, retries the resource when it fails, and abandons it at shutdown", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) });
    const waits: { signal: AbortSignal; fail: (e: Error) => void }[] = [];
    t.reconciler.detachWith = (signal) =>
      new Promise<void>((_, reject) => {
        waits.push({ signal, fail: reject });
        signal.addEventListener("abort", () => reject(signal.reason as Error));
      });
    // Ready although the first reconcile left work waiting: the key's worker is free.
    await t.controller.start();
    expect(t.controller.phase).toBe("ready");
    expect(waits).toHaveLength(1);

    // The work fails: the resource is reconciled again (and, out of sync again, detaches new work).
    const plans = t.reconciler.plans.length;
    t.reconciler.world.set("a", 0);
    waits[0]!.fail(new Error("lifecycle action gone"));
    await t.advanceUntil("retried", () => t.reconciler.plans.length > plans && waits.length === 2);

    await t.controller.stop();
    expect(t.controller.phase).toBe("stopped");
    expect(waits[1]!.signal.aborted).toBe(true);
  });

  it("retries a failing key with backoff, and does not retry a terminal error", async () => {
    // The backoff's jitter at its top: each retry waits its whole backoff.
    const t = await setup(
      { "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) },
      { queue: { random: () => 1 } },
    );
    t.reconciler.failWith.set("a", new Error("flaky"));
    t.reconciler.failWith.set(
      "b",
      new AwsError("invalid", "route53", "ChangeResourceRecordSets", "InvalidInput", "bad"),
    );
    await t.controller.start();
    await t.advanceUntil(
      "retried",
      async () =>
        sample(await t.metrics(), 'ecs_log_operator_reconcile_total{kind="Widget",result="error"}') >= 4,
    );
    // Backoff: the fourth failure came only after 5 + 10 + 20 ms of retry delays.
    expect(t.clock.now() - 1_000_000).toBeGreaterThanOrEqual(35);
    t.reconciler.failWith.delete("a");
    await t.advanceUntil("converged", () => t.reconciler.world.get("a") === 1);
    expect(t.reconciler.plans.filter((p) => p === "b")).toEqual(["b"]);
    const text = await t.metrics();
    expect(
      sample(text, 'ecs_log_operator_reconcile_total{kind="Widget",result="error"}'),
    ).toBeGreaterThanOrEqual(4);
    expect(text).toContain('ecs_log_operator_reconcile_total{kind="Widget",result="terminal"} 1');
    expect(sample(text, "ecs_log_operator_workqueue_retries_total")).toBeGreaterThanOrEqual(4);
    const b = t.controller.endpoints.status().resources.find((r) => r.key === "Widget/b");
    expect(b?.lastError).toContain("InvalidInput");
    expect(b?.conditions).toContainEqual(expect.objectContaining({ type: "Stalled", status: "True" }));
  });

  it("requeues a key whose dependency is not ready, and a TerminalError stays put", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) });
    t.reconciler.failWith.set("a", new DependencyNotReadyError("namespace not yet created"));
    t.reconciler.failWith.set("b", new TerminalError("cannot"));
    await t.controller.start();
    await t.advanceUntil("requeued", () => t.reconciler.plans.filter((p) => p === "a").length >= 2);
    t.reconciler.failWith.delete("a");
    await t.advanceUntil("converged", () => t.reconciler.world.get("a") === 1);
    expect(await t.metrics()).toMatch(/result="requeue"\} [1-9]/);
    expect(t.reconciler.plans.filter((p) => p === "b")).toEqual(["b"]);
  });

  it("never runs two reconciles of one key at once", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 5 });
    await t.controller.start();
    t.reconciler.planMs = 12; // longer than two intervals: resyncs add the key while it is being reconciled
    await t.clock.advance(200);
    expect(t.reconciler.plans.length).toBeGreaterThan(5);
    expect(t.reconciler.overlapped).toBe(false);
  });

  it("on stop, finishes the write in flight, takes no new work, and closes the server", async () => {
    const server = new FakeServer();
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 50, server });
    await t.controller.start();
    expect(server.listening).toBe(true);
    t.reconciler.applyGate = new Gate();
    t.reconciler.world.set("a", 7);
    await t.clock.advance(50);
    await until(
      "apply in flight",
      () => t.controller.queue.inFlight > 0 && t.reconciler.applySignals.length > 1,
    );
    let stopped = false;
    const stopping = t.controller.stop().then(() => (stopped = true));
    await until("stop under way", () => t.controller.phase === "shuttingDown");
    await t.clock.advance(100);
    expect(stopped).toBe(false);
    expect(server.listening).toBe(true);
    t.reconciler.applyGate.open();
    await stopping;
    expect(t.reconciler.world.get("a")).toBe(1);
    expect(t.controller.phase).toBe("stopped");
    // Every write finished: a leader may hand over by releasing its lease.
    expect(t.controller.writesAbortedAtShutdown).toBe(false);
    const plans = t.reconciler.plans.length;
    await t.clock.advance(150);
    expect(t.reconciler.plans.length).toBe(plans);
    expect(server.listening).toBe(false);
    expect(t.specs.closed).toBe(true);
  });

  it("after the shutdown timeout, aborts the writes in flight", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) });
    await t.controller.start();
    t.reconciler.applyGate = new Gate();
    t.reconciler.world.set("a", 7);
    await t.specs.write("a.yaml", widget("a", 2));
    await until(
      "apply in flight",
      () => t.controller.queue.inFlight > 0 && t.reconciler.applySignals.length > 1,
    );
    const stopping = t.controller.stop();
    await until("stop under way", () => t.controller.phase === "shuttingDown");
    const signal = t.reconciler.applySignals.at(-1)!;
    await t.clock.advance(24_999);
    expect(signal.aborted).toBe(false);
    await t.clock.advance(1);
    expect(signal.aborted).toBe(true);
    t.reconciler.applyGate.open();
    await stopping;
    expect(t.controller.phase).toBe("stopped");
    // An aborted request may still be on the wire: `run` then stops without releasing the lease.
    expect(t.controller.writesAbortedAtShutdown).toBe(true);
  });
});

describe("Controller seams", () => {
  it("reconciles nothing while it stands by, and stops applying when its leadership term ends", async () => {
    const term = new AbortController();
    let leading = false;
    const leadership: LeadershipGate = { term: () => (leading ? term.signal : undefined) };
    const t = await setup(
      { "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) },
      { intervalMs: 100, leadership },
    );
    // A standby gets ready (every key was handed out once) without planning or writing anything.
    await t.controller.start();
    expect(t.controller.endpoints.ready().ready).toBe(true);
    expect(t.reconciler.plans).toEqual([]);

    leading = true;
    await t.clock.advance(100);
    await until("leader reconciles", () => t.reconciler.world.size === 2);
    // The lease may be lost while a plan is being made: it is not applied, and the writes in flight see the abort.
    t.reconciler.planMs = 10;
    t.reconciler.world.set("a", 5);
    const applies = t.reconciler.applySignals.length;
    await t.clock.advance(100);
    await until("planning", () => t.reconciler.inFlight.size > 0);
    term.abort(new Error("lease lost"));
    await t.clock.advance(10);
    await t.idle();
    expect(t.reconciler.applySignals.length).toBe(applies);
    expect(t.reconciler.world.get("a")).toBe(5);
  });

  it("a term that starts enqueues every key at once, not at the next resync", async () => {
    let leading = false;
    let termStarted: (() => void) | undefined;
    const term = new AbortController();
    const leadership: LeadershipGate = {
      term: () => (leading ? term.signal : undefined),
      onTermStarted: (listener) => (termStarted = listener),
    };
    // A resync an hour away: only the term's start can wake the keys.
    const t = await setup(
      { "a.yaml": widget("a", 1), "b.yaml": widget("b", 2) },
      { intervalMs: 3_600_000, leadership },
    );
    await t.controller.start();
    await t.idle();
    expect(t.reconciler.plans).toEqual([]);
    leading = true;
    termStarted?.();
    await until("the new leader reconciles every key", () => t.reconciler.world.size === 2);
    expect([...t.reconciler.plans].sort()).toEqual(["a", "b"]);
  });

  it("a term that starts plans from fresh reads, not the standby's last tick", async () => {
    let leading = false;
    let termStarted: (() => void) | undefined;
    const term = new AbortController();
    const leadership: LeadershipGate = {
      term: () => (leading ? term.signal : undefined),
      onTermStarted: (listener) => (termStarted = listener),
    };
    // A standby receives no events, so what its last tick read may miss what changed while it stood by.
    const ticks: number[] = [];
    const reads: TickReads = {
      beginTick: () => void ticks.push(t.reconciler.plans.length),
      invalidateWatchKeys: () => 0,
      live: (work) => work(),
    };
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 3_600_000, leadership, reads });
    await t.controller.start();
    await t.idle();
    ticks.length = 0;
    leading = true;
    termStarted?.();
    await until("the new leader reconciles", () => t.reconciler.world.size === 1);
    // One tick begun, before the term's first plan.
    expect(ticks).toEqual([0]);
  });

  it("a write refused because this replica does not lead drops the work: no retry, no error", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) });
    t.reconciler.failWith.set(
      "a",
      new AwsError("transient", "servicediscovery", "RegisterInstance", "NotLeaderError", "refused", {
        cause: new NotLeaderError("term 3 of a has less than 2000 ms left before its renew deadline"),
      }),
    );
    await t.controller.start();
    // Well past every backoff the queue would have used.
    await t.clock.advance(5_000);
    await t.idle();
    expect(t.reconciler.plans).toEqual(["a"]);
    const text = await t.metrics();
    expect(text).not.toMatch(/ecs_log_operator_reconcile_total\{kind="Widget",result="error"\} [1-9]/);
    expect(sample(text, "ecs_log_operator_workqueue_retries_total")).toBe(0);
    const a = t.controller.endpoints.status().resources.find((r) => r.key === "Widget/a");
    expect(a?.lastError).toBeUndefined();
  });

  it("is ready only when every readiness check is met too", async () => {
    let aws: string | undefined = "AWS has not answered";
    const t = await setup({ "a.yaml": widget("a", 1) }, { readiness: [{ reason: () => aws }] });
    await t.controller.start();
    expect(t.controller.endpoints.ready()).toEqual({ ready: false, phase: "AWS has not answered" });
    // /status says why.
    expect(t.controller.endpoints.status()).toMatchObject({
      phase: "ready",
      ready: false,
      notReadyReason: "AWS has not answered",
    });
    aws = undefined;
    expect(t.controller.endpoints.ready()).toEqual({ ready: true, phase: "ready" });
    expect(t.controller.endpoints.status()).toMatchObject({ ready: true });
    expect(t.controller.endpoints.status()).not.toHaveProperty("notReadyReason");
  });
});

/** A server in memory: what the controller starts first and closes last. */
class FakeServer implements ControllerServer {
  readonly address = "memory";
  readonly port = 0;
  listening = false;
  failWith: Error | undefined;
  async listen(): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.listening = true;
  }
  async close(): Promise<void> {
    this.listening = false;
  }
}

describe("Controller start failure", () => {
  it("fails with the reason when its address is taken, and leaves nothing running", async () => {
    const server = new FakeServer();
    server.failWith = new Error("listen EADDRINUSE: address already in use 127.0.0.1:9464");
    const t = await setup({ "a.yaml": widget("a", 1) }, { server });
    await expect(t.controller.start()).rejects.toThrow(/EADDRINUSE/);
    expect(t.controller.phase).toBe("failed");
    expect(t.specs.reads).toBe(0);
    expect(t.specs.closed).toBe(true);
    expect(t.controller.queue.shuttingDown).toBe(true);
    expect(t.clock.pendingSleepers).toBe(0);
  });

  it("does not start on a source with nothing to read: never ready, nothing reconciled or swept", async () => {
    const t = await setup({});
    t.specs.missing = true;
    const started = t.controller.start();
    await expect(started).rejects.toThrow(UnusableSpecsError);
    await expect(started).rejects.toThrow("cannot read the specs: memory: no such file or directory");
    expect(t.controller.phase).toBe("failed");
    expect(t.controller.endpoints.ready().ready).toBe(false);
    expect(t.reconciler.plans).toEqual([]);
    expect(t.reconciler.sweeps).toBe(0);
    expect(t.specs.closed).toBe(true);
  });
});
