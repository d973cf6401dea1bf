import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MemorySpecSource } from "../test/memory-spec-source.ts";
import { ManualClock } from "./clock.ts";
import { Controller } from "./controller.ts";
import { silentLogger } from "./logger.ts";
import { ControllerMetrics } from "./metrics.ts";
import type { ReconcileContext, Reconciler, ResourcePlan } from "./reconciler.ts";
import { defineKind, type SpecDocument } from "./spec/document.ts";

const probeKind = defineKind({ kind: "Probe", description: "test kind", specSchema: Type.Object({}) });

/** `a-stuck` never answers (as a hung socket): its plan waits until its signal aborts. The others answer at once. */
class ProbeReconciler implements Reconciler {
  readonly kind = "Probe";
  readonly order = 1;
  readonly done = new Set<string>();
  aborted: unknown;

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const name = doc.metadata.name;
    if (name === "a-stuck") {
      await new Promise((_, reject) =>
        ctx.signal.addEventListener("abort", () => reject((this.aborted = ctx.signal.reason)), {
          once: true,
        }),
      );
    }
    return {
      key: `Probe/${name}`,
      kind: "Probe",
      changes: this.done.has(name) ? [] : [{ action: "create", target: name }],
      apply: async () => void this.done.add(name),
    };
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe("Controller deadlines", () => {
  it("aborts a reconcile that outlives --reconcile-timeout, frees its worker, and says so in its status", async () => {
    const specs = new MemorySpecSource([probeKind]);
    for (const n of ["a-stuck", "b", "c"]) {
      specs.files.set(
        `${n}.yaml`,
        `apiVersion: ecs-log-operator/v1alpha1\nkind: Probe\nmetadata: { name: ${n} }\nspec: {}\n`,
      );
    }
    const clock = new ManualClock();
    const reconciler = new ProbeReconciler();
    const controller = new Controller({
      specs,
      reconcilers: [reconciler],
      metrics: new ControllerMetrics(new Registry()),
      logger: silentLogger,
      ownerId: "test",
      intervalMs: 3_600_000,
      // One worker: the stuck key holds it until its deadline, then the others get it.
      workers: 1,
      reconcileTimeoutMs: 30_000,
      clock,
    });
    cleanup.push(() => controller.stop());
    const started = controller.start();
    // The stuck key is handed out first and holds the only worker until its deadline.
    while (controller.queue.inFlight === 0) await new Promise((r) => setImmediate(r));
    await clock.advance(29_999);
    expect(reconciler.aborted).toBeUndefined();
    expect(reconciler.done.size).toBe(0);
    await clock.advance(1);
    await started;
    expect(reconciler.done).toEqual(new Set(["b", "c"]));
    const ready = controller.status.get("Probe/a-stuck")?.conditions.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({
      status: "False",
      reason: "DeadlineExceeded",
      message:
        "reconcile of Probe/a-stuck did not finish within 30s (--reconcile-timeout); its AWS calls were aborted",
    });
    expect(controller.keysHeld().signalListeners.work).toBe(0);
  });
});
