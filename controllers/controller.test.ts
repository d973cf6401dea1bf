import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { AwsError } from "./aws/errors.ts";
import { Controller } from "./controller.ts";
import type { WatchLister } from "./informers.ts";
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

class WidgetReconciler implements Reconciler {
  readonly kind = "Widget";
  readonly order = 1;
  readonly world = new Map<string, number>();
  readonly plans: string[] = [];
  readonly sweeps: number[] = [];
  /** Names whose next reconciles throw this, once each time it is set. */
  readonly failWith = new Map<string, Error>();
  applyDelayMs = 0;
  /** When set, an apply that changed something hands this to `ctx.detach` (a drain's wait, say). */
  detachWith: ((signal: AbortSignal) => Promise<void>) | undefined;
  inFlight = new Set<string>();
  overlapped = false;

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const name = doc.metadata.name;
    if (this.inFlight.has(name)) this.overlapped = true;
    this.inFlight.add(name);
    try {
      this.plans.push(name);
      await delay(1);
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
        apply: async () => {
          if (this.applyDelayMs > 0) await delay(this.applyDelayMs);
          this.world.set(name, want);
          if (this.detachWith !== undefined) ctx.detach?.(`wait for ${name}`, this.detachWith);
        },
      };
    } finally {
      this.inFlight.delete(name);
    }
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    this.sweeps.push(Date.now());
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

function widget(name: string, size: number, service?: string, group?: string): string {
  return [
    "apiVersion: ecs-log-operator/v1alpha1",
    "kind: Widget",
    `metadata: { name: ${name} }`,
    `spec: { size: ${size}${service ? `, service: ${service}` : ""}${group ? `, group: ${group}` : ""} }`,
    "",
  ].join("\n");
}

async function until(what: string, test: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return;
    await delay(10);
  }
  throw new Error(`timed out waiting for ${what}`);
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
  options: { intervalMs?: number; resyncIntervalMs?: number; lister?: WatchLister } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "controller-test-"));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  const reconciler = new WidgetReconciler();
  const registry = new Registry();
  const controller = new Controller({
    specDir: dir,
    kinds: [widgetKind],
    reconcilers: [reconciler],
    metrics: new ControllerMetrics(registry),
    logger: silentLogger,
    ownerId: "test",
    intervalMs: options.intervalMs ?? 60_000,
    resyncIntervalMs: options.resyncIntervalMs,
    bindAddress: "127.0.0.1:0",
    lister: options.lister,
    debounceMs: 20,
    workers: 2,
  });
  cleanup.push(async () => {
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = async (path: string) => fetch(`http://127.0.0.1:${controller.port}${path}`);
  const metrics = async () => (await get("/metrics")).text();
  return { dir, reconciler, registry, controller, get, metrics };
}

describe("Controller", () => {
  it("reconciles every spec once before it is ready, and serves its state", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 2) });
    await t.controller.start();
    expect(t.controller.phase).toBe("ready");
    expect(Object.fromEntries(t.reconciler.world)).toEqual({ a: 1, b: 2 });
    expect((await t.get("/readyz")).status).toBe(200);
    expect((await t.get("/healthz")).status).toBe(200);
    const status = (await (await t.get("/status")).json()) as {
      resources: {
        key: string;
        observedGeneration: string;
        conditions: { type: string; status: string }[];
      }[];
    };
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
    await until("drift corrected", () => t.reconciler.world.get("a") === 1, 1000);
    await until("metric", async () =>
      (await t.metrics()).includes('ecs_log_operator_drift_corrected_total{kind="Widget"} 1'),
    );
  });

  it("counts a change the workload caused (a watched listing moved) as applied, not as drift", async () => {
    const lister = new FakeLister();
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc-a") },
      { intervalMs: 50, resyncIntervalMs: 60_000, lister },
    );
    await t.controller.start();
    await delay(120);
    // A task started: the service's listing and what the spec needs change together.
    t.reconciler.world.set("a", 7);
    lister.listings.set("ecs:c/service:svc-a", ["arn:task/1"]);
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
    writeFileSync(
      join(t.dir, "a.yaml"),
      "apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: a }\nspec: { size: big }\n",
    );
    await until(
      "problem shown",
      async () => sample(await t.metrics(), "ecs_log_operator_spec_problems") === 1,
    );
    await delay(200); // several reads of the same invalid file
    const text = await t.metrics();
    expect(sample(text, "ecs_log_operator_spec_load_errors_total")).toBe(1);
    expect(sample(text, "ecs_log_operator_spec_problems")).toBe(1);
    writeFileSync(join(t.dir, "a.yaml"), widget("a", 2));
    await until("fixed", async () => sample(await t.metrics(), "ecs_log_operator_spec_problems") === 0);
    expect(sample(await t.metrics(), "ecs_log_operator_spec_load_errors_total")).toBe(1);
  });

  it("wakes only the specs whose watched AWS state changed, before any resync", async () => {
    const lister = new FakeLister();
    const t = await setup(
      { "a.yaml": widget("a", 1, "svc-a"), "b.yaml": widget("b", 1, "svc-b") },
      { intervalMs: 50, resyncIntervalMs: 60_000, lister },
    );
    await t.controller.start();
    await delay(120);
    const before = t.reconciler.plans.length;
    lister.listings.set("ecs:c/service:svc-a", ["arn:task/1"]);
    await until("informer wakes a", () => t.reconciler.plans.slice(before).includes("a"));
    await delay(120);
    expect(t.reconciler.plans.slice(before)).toEqual(["a"]);
    expect(await t.metrics()).toMatch(
      /ecs_log_operator_convergence_latency_seconds_count\{source="informer"\} 1/,
    );
  });

  it("wakes the specs of a group (a watch key naming no AWS state) when one of them is edited", async () => {
    const grouped = (name: string, size: number) => widget(name, size, undefined, "family-x");
    const t = await setup({ "a.yaml": grouped("a", 1), "b.yaml": grouped("b", 1), "c.yaml": widget("c", 1) });
    await t.controller.start();
    const before = t.reconciler.plans.length;
    writeFileSync(join(t.dir, "b.yaml"), grouped("b", 2));
    await until("edit applied", () => t.reconciler.world.get("b") === 2);
    await until("group woken", () => t.reconciler.plans.slice(before).includes("a"));
    await delay(100);
    expect(t.reconciler.plans.slice(before).sort()).toEqual(["a", "b"]);
  });

  it("applies an edited spec, keeps the last valid spec of a file that became invalid, and sweeps a removed one", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) });
    await t.controller.start();
    writeFileSync(join(t.dir, "a.yaml"), widget("a", 5));
    await until("edit applied", () => t.reconciler.world.get("a") === 5);

    writeFileSync(
      join(t.dir, "a.yaml"),
      "apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: a }\nspec: { size: big }\n",
    );
    unlinkSync(join(t.dir, "b.yaml"));
    await until("invalid spec reported", async () =>
      /ecs_log_operator_spec_load_errors_total [1-9]/.test(await t.metrics()),
    );
    await delay(100);
    // The removal is not acted upon while a file is invalid; the invalid file's spec is kept.
    expect(t.reconciler.world.has("b")).toBe(true);
    t.reconciler.world.set("a", 0);
    const status = (await (await t.get("/status")).json()) as {
      resources: { key: string; conditions: { type: string; status: string; reason: string }[] }[];
    };
    expect(status.resources.find((r) => r.key === "Widget/a")?.conditions).toContainEqual(
      expect.objectContaining({ type: "Stalled", status: "True", reason: "InvalidSpec" }),
    );

    writeFileSync(join(t.dir, "a.yaml"), widget("a", 5));
    await until("orphan swept once every file is valid", () => !t.reconciler.world.has("b"));
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
    await until("retried", () => t.reconciler.plans.length > plans && waits.length === 2);

    await t.controller.stop();
    expect(t.controller.phase).toBe("stopped");
    expect(waits[1]!.signal.aborted).toBe(true);
  });

  it("retries a failing key with backoff, and does not retry a terminal error", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) });
    t.reconciler.failWith.set("a", new Error("flaky"));
    t.reconciler.failWith.set(
      "b",
      new AwsError("invalid", "route53", "ChangeResourceRecordSets", "InvalidInput", "bad"),
    );
    await t.controller.start();
    await until(
      "retried",
      async () =>
        sample(await t.metrics(), 'ecs_log_operator_reconcile_total{kind="Widget",result="error"}') >= 4,
    );
    t.reconciler.failWith.delete("a");
    await until("converged", () => t.reconciler.world.get("a") === 1);
    expect(t.reconciler.plans.filter((p) => p === "b")).toEqual(["b"]);
    const text = await t.metrics();
    expect(
      sample(text, 'ecs_log_operator_reconcile_total{kind="Widget",result="error"}'),
    ).toBeGreaterThanOrEqual(4);
    expect(text).toContain('ecs_log_operator_reconcile_total{kind="Widget",result="terminal"} 1');
    expect(sample(text, "ecs_log_operator_workqueue_retries_total")).toBeGreaterThanOrEqual(4);
    const status = (await (await t.get("/status")).json()) as {
      resources: { key: string; lastError?: string; conditions: { type: string; status: string }[] }[];
    };
    const b = status.resources.find((r) => r.key === "Widget/b");
    expect(b?.lastError).toContain("InvalidInput");
    expect(b?.conditions).toContainEqual(expect.objectContaining({ type: "Stalled", status: "True" }));
  });

  it("requeues a key whose dependency is not ready, and a TerminalError stays put", async () => {
    const t = await setup({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 1) });
    t.reconciler.failWith.set("a", new DependencyNotReadyError("namespace not yet created"));
    t.reconciler.failWith.set("b", new TerminalError("cannot"));
    await t.controller.start();
    await until("requeued", () => t.reconciler.plans.filter((p) => p === "a").length >= 2);
    t.reconciler.failWith.delete("a");
    await until("converged", () => t.reconciler.world.get("a") === 1);
    expect(await t.metrics()).toMatch(/result="requeue"\} [1-9]/);
    expect(t.reconciler.plans.filter((p) => p === "b")).toEqual(["b"]);
  });

  it("never runs two reconciles of one key at once", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 5 });
    await t.controller.start();
    await delay(200);
    expect(t.reconciler.plans.length).toBeGreaterThan(5);
    expect(t.reconciler.overlapped).toBe(false);
  });

  it("on stop, finishes the write in flight, takes no new work, and closes the server", async () => {
    const t = await setup({ "a.yaml": widget("a", 1) }, { intervalMs: 50 });
    await t.controller.start();
    t.reconciler.applyDelayMs = 300;
    t.reconciler.world.set("a", 7);
    await until("apply in flight", () => t.controller.queue.inFlight > 0 && t.reconciler.plans.length >= 2);
    await delay(20);
    await t.controller.stop();
    expect(t.reconciler.world.get("a")).toBe(1);
    expect(t.controller.phase).toBe("stopped");
    const plans = t.reconciler.plans.length;
    await delay(150);
    expect(t.reconciler.plans.length).toBe(plans);
    await expect(t.get("/healthz")).rejects.toThrow();
  });
});

describe("Controller start failure", () => {
  it("fails with the reason when its address is taken, and leaves nothing running", async () => {
    const first = await setup({ "a.yaml": widget("a", 1) });
    await first.controller.start();
    const second = new Controller({
      specDir: first.dir,
      kinds: [widgetKind],
      reconcilers: [new WidgetReconciler()],
      metrics: new ControllerMetrics(new Registry()),
      logger: silentLogger,
      ownerId: "test",
      bindAddress: `127.0.0.1:${first.controller.port}`,
    });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    expect(second.phase).toBe("failed");
  });
});
