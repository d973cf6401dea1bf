import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { Controller } from "../../controllers/controller.ts";
import { HttpServer } from "../../controllers/http-server.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import type { Reconciler, ResourcePlan } from "../../controllers/reconciler.ts";
import { defineKind, type SpecDocument } from "../../controllers/spec/document.ts";
import { SpecWatcher } from "../../controllers/spec-watcher.ts";

// The controller with its real HTTP server and spec directory, on the real clock: what it serves, and how it fails
// when its port is taken. Its logic is unit-tested on the manual clock with in-memory parts
// (controllers/controller.test.ts).
const widgetKind = defineKind({
  kind: "Widget",
  description: "a test widget",
  specSchema: Type.Object({ size: Type.Integer() }),
});

class WidgetReconciler implements Reconciler {
  readonly kind = "Widget";
  readonly order = 1;
  readonly world = new Map<string, number>();
  async plan(doc: SpecDocument): Promise<ResourcePlan> {
    const want = (doc.spec as { size: number }).size;
    const name = doc.metadata.name;
    return {
      key: `Widget/${name}`,
      kind: "Widget",
      changes: this.world.get(name) === want ? [] : [{ action: "create", target: name }],
      apply: async () => void this.world.set(name, want),
    };
  }
}

const widget = (name: string, size: number) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: ${name} }\nspec: { size: ${size} }\n`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function controllerOn(
  dir: string,
  bindAddress: string,
): { controller: Controller; reconciler: WidgetReconciler } {
  const registry = new Registry();
  const reconciler = new WidgetReconciler();
  const controller = new Controller({
    specs: new SpecWatcher({ dir, kinds: [widgetKind], logger: silentLogger }),
    reconcilers: [reconciler],
    metrics: new ControllerMetrics(registry),
    logger: silentLogger,
    ownerId: "test",
    server: (endpoints) => new HttpServer({ bindAddress, registry, ...endpoints }),
  });
  cleanup.push(() => controller.stop());
  return { controller, reconciler };
}

function specDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "controller-http-"));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("Controller over HTTP", () => {
  it("serves readiness, health, status and metrics once every spec is reconciled, and closes on stop", async () => {
    const { controller, reconciler } = controllerOn(
      specDir({ "a.yaml": widget("a", 1), "b.yaml": widget("b", 2) }),
      "127.0.0.1:0",
    );
    await controller.start();
    expect(Object.fromEntries(reconciler.world)).toEqual({ a: 1, b: 2 });
    const get = (path: string) => fetch(`http://127.0.0.1:${controller.port}${path}`);
    expect((await get("/readyz")).status).toBe(200);
    expect((await get("/healthz")).status).toBe(200);
    const status = (await (await get("/status")).json()) as {
      phase: string;
      resources: { key: string; conditions: { type: string; status: string }[] }[];
    };
    expect(status.phase).toBe("ready");
    expect(status.resources.find((r) => r.key === "Widget/a")?.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "True", reason: "Converged" }),
    );
    expect(await (await get("/metrics")).text()).toContain(
      'ecs_log_operator_reconcile_total{kind="Widget",result="success"} 2',
    );
    await controller.stop();
    await expect(get("/healthz")).rejects.toThrow();
  });

  it("fails with the reason when its address is taken, and leaves nothing running", async () => {
    const dir = specDir({ "a.yaml": widget("a", 1) });
    const first = controllerOn(dir, "127.0.0.1:0").controller;
    await first.start();
    const second = controllerOn(dir, `127.0.0.1:${first.port}`).controller;
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    expect(second.phase).toBe("failed");
  });
});
