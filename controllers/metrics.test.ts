import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { GitSourceMetrics } from "./git-source/git-source-metrics.ts";
import { LeaderElectionMetrics } from "./leader-election/metrics.ts";
import { collectProcessMetrics, ControllerMetrics } from "./metrics.ts";
import { ServiceHealthMetrics } from "./service-health/metrics.ts";

describe("ControllerMetrics", () => {
  it("exposes reconciles, queue, AWS calls, drift and convergence under the operator's prefix", async () => {
    const registry = new Registry();
    const m = new ControllerMetrics(registry);
    m.observeQueue({ longestRunningSeconds: () => 4.5 });
    m.reconciled("CloudMapService", "success", 0.2);
    m.reconciled("CloudMapService", "error", 1.5);
    m.added();
    m.added();
    m.retried();
    m.depth(1);
    m.record({
      service: "route53",
      operation: "ChangeResourceRecordSets",
      outcome: "throttled",
      seconds: 0.03,
    });
    m.driftCorrectedFor("WeightedRecordSet");
    m.setManagedObjects(new Map([["CloudMapService", 2]]), ["CloudMapService", "LogRouter"]);
    m.specsRead(2, true);
    m.specsRead(2, false); // the same problems read again: not counted again
    m.converged("event", 0.7);
    const text = await registry.metrics();
    for (const line of [
      'ecs_log_operator_reconcile_total{kind="CloudMapService",result="success"} 1',
      'ecs_log_operator_reconcile_total{kind="CloudMapService",result="error"} 1',
      'ecs_log_operator_reconcile_duration_seconds_bucket{le="2.5",kind="CloudMapService"} 2',
      'ecs_log_operator_reconcile_duration_seconds_bucket{le="300",kind="CloudMapService"} 2',
      "ecs_log_operator_workqueue_adds_total 2",
      "ecs_log_operator_workqueue_retries_total 1",
      "ecs_log_operator_workqueue_depth 1",
      "ecs_log_operator_workqueue_longest_running_processor_seconds 4.5",
      'ecs_log_operator_aws_requests_total{service="route53",operation="ChangeResourceRecordSets",outcome="throttled"} 1',
      'ecs_log_operator_aws_request_duration_seconds_count{service="route53",operation="ChangeResourceRecordSets"} 1',
      'ecs_log_operator_drift_corrected_total{kind="WeightedRecordSet"} 1',
      'ecs_log_operator_managed_objects{kind="CloudMapService"} 2',
      'ecs_log_operator_managed_objects{kind="LogRouter"} 0',
      "ecs_log_operator_spec_load_errors_total 2",
      "ecs_log_operator_spec_problems 2",
      'ecs_log_operator_convergence_latency_seconds_bucket{le="1",source="event"} 1',
      'ecs_log_operator_convergence_latency_seconds_bucket{le="0.5",source="event"} 0',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain("# TYPE ecs_log_operator_reconcile_duration_seconds histogram");
  });

  it("keeps two registries apart: nothing is global", async () => {
    const a = new Registry();
    const b = new Registry();
    new ControllerMetrics(a).specsRead(1, true);
    new ControllerMetrics(b);
    expect(await a.metrics()).toContain("ecs_log_operator_spec_load_errors_total 1");
    expect(await b.metrics()).toContain("ecs_log_operator_spec_load_errors_total 0");
  });

  it("collects process metrics without the gauges named *_total", async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain("process_cpu_seconds_total");
    expect(text).not.toMatch(/^nodejs_active_handles_total/m);
  });
});

describe("the README's metrics table", () => {
  // Each row's first cell names metrics in full (`ecs_log_operator_workqueue_depth`) or, after one, by the suffix
  // that follows a shared prefix (`_adds_total`: `ecs_log_operator_workqueue_adds_total`).
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Metrics"), readme.indexOf("## How it compares"));
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cell = line.split(" | ")[0] ?? "";
      const names = [...cell.matchAll(/`([a-z_]+)/g)].map((m) => m[1] ?? "");
      const full = names.filter((n) => n.startsWith("ecs_log_operator_"));
      const suffixes = names.filter((n) => n.startsWith("_"));
      // A suffix extends any prefix of a full name in its row that ends before an underscore.
      const expanded = suffixes.map((suffix) =>
        full.flatMap((f) => [...f.matchAll(/_/g)].map((m) => f.slice(0, m.index) + suffix)),
      );
      return { line, full, expanded };
    });

  /** Every metric `run` registers: the controller's, the watched services' and the Git source's. */
  async function registered(): Promise<string[]> {
    const registry = new Registry();
    new ControllerMetrics(registry);
    new ServiceHealthMetrics(registry);
    new GitSourceMetrics(registry);
    new LeaderElectionMetrics(registry);
    return (await registry.getMetricsAsJSON()).map((m) => m.name);
  }

  it("names every metric run registers", async () => {
    const names = await registered();
    expect(names.length).toBeGreaterThan(20);
    const documented = new Set(rows.flatMap((r) => [...r.full, ...r.expanded.flat()]));
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
  });

  it("names no metric run does not register", async () => {
    const names = new Set(await registered());
    for (const row of rows) {
      for (const name of row.full) expect(names.has(name), `${name} in: ${row.line}`).toBe(true);
      for (const candidates of row.expanded) {
        expect(
          candidates.some((c) => names.has(c)),
          `${candidates.join(" or ")} in: ${row.line}`,
        ).toBe(true);
      }
    }
    expect(rows.length).toBeGreaterThan(10);
  });
});
