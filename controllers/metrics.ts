import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AwsCallObserver, AwsCallRecord } from "./aws/clients.ts";
import type { WorkQueueObserver } from "./work-queue.ts";

/** How a reconcile ended, as counted (controller-runtime's labels, plus `terminal` for errors not retried). */
export type ReconcileResult = "success" | "error" | "requeue" | "terminal";

const PREFIX = "ecs_log_operator_";

/**
 * prom-client's process and Node.js metrics, less the three gauges named `*_total` (`promtool check metrics` rejects
 * a non-counter with that suffix); their per-type gauges without the suffix (`nodejs_active_handles{type}`) stay.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    registry.removeSingleMetric(name);
  }
}

/**
 * The controller's metrics, registered on the one `Registry` the process passes in. Names follow Prometheus
 * conventions (base units, `_total` counters) and controller-runtime's (`reconcile_total{result}`, `workqueue_*`).
 */
export class ControllerMetrics implements AwsCallObserver, WorkQueueObserver {
  readonly registry: Registry;
  private readonly reconcileTotal: Counter<"kind" | "result">;
  private readonly reconcileDuration: Histogram<"kind">;
  private readonly queueDepth: Gauge;
  private readonly queueAdds: Counter;
  private readonly queueRetries: Counter;
  private readonly awsRequests: Counter<"service" | "operation" | "outcome">;
  private readonly awsDuration: Histogram<"service" | "operation">;
  private readonly rateLimitWait: Histogram<"service">;
  private readonly driftCorrected: Counter<"kind">;
  private readonly managedObjects: Gauge<"kind">;
  private readonly specLoadErrors: Counter;
  private readonly specProblems: Gauge;
  private readonly convergence: Histogram<"source">;
  private readonly deletionsHeldGauge: Gauge<"kind">;

  private longestRunning: () => number = () => 0;

  constructor(registry: Registry) {
    this.registry = registry;
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: `${PREFIX}reconcile_total`,
      help: "Reconciles by kind and result (success, error, requeue, terminal).",
      labelNames: ["kind", "result"],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: `${PREFIX}reconcile_duration_seconds`,
      help: "Time one reconcile (observe, plan, apply) of one resource took.",
      labelNames: ["kind"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.queueDepth = new Gauge({
      name: `${PREFIX}workqueue_depth`,
      help: "Resource keys waiting in the work queue.",
      registers,
    });
    this.queueAdds = new Counter({
      name: `${PREFIX}workqueue_adds_total`,
      help: "Resource keys added to the work queue (a key already waiting is not counted again).",
      registers,
    });
    this.queueRetries = new Counter({
      name: `${PREFIX}workqueue_retries_total`,
      help: "Resource keys put back in the work queue after a failed reconcile.",
      registers,
    });
    const longest = (): number => this.longestRunning();
    new Gauge({
      name: `${PREFIX}workqueue_longest_running_processor_seconds`,
      help: "How long the longest-running reconcile in flight has been running.",
      registers,
      collect() {
        this.set(longest());
      },
    });
    this.awsRequests = new Counter({
      name: `${PREFIX}aws_requests_total`,
      help: "HTTP attempts to AWS APIs (SDK retries included) by service, operation and outcome.",
      labelNames: ["service", "operation", "outcome"],
      registers,
    });
    this.rateLimitWait = new Histogram({
      name: `${PREFIX}aws_rate_limit_wait_seconds`,
      help: "Time a request to an AWS API waited for its service's client-side rate limiter.",
      labelNames: ["service"],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.awsDuration = new Histogram({
      name: `${PREFIX}aws_request_duration_seconds`,
      help: "Time one HTTP attempt to an AWS API took.",
      labelNames: ["service", "operation"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.driftCorrected = new Counter({
      name: `${PREFIX}drift_corrected_total`,
      help:
        "Reconciles that changed AWS for a converged spec while neither the spec nor any watched ECS task or Auto " +
        "Scaling group had changed: AWS was changed by someone else.",
      labelNames: ["kind"],
      registers,
    });
    this.managedObjects = new Gauge({
      name: `${PREFIX}managed_objects`,
      help: "Valid specs under management, by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.specLoadErrors = new Counter({
      name: `${PREFIX}spec_load_errors_total`,
      help: "Problems found in the spec directory, counted when they appear (a file that stays invalid counts once).",
      registers,
    });
    this.specProblems = new Gauge({
      name: `${PREFIX}spec_problems`,
      help: "Problems in the spec directory at its last read; 0 when every file is valid.",
      registers,
    });
    this.deletionsHeldGauge = new Gauge({
      name: `${PREFIX}deletions_held`,
      help:
        "Removed specs whose deletions the prune guard holds, by kind (an emptied or sharply shrunk spec set): " +
        "nothing of theirs is deleted until a person decides; see /status.",
      labelNames: ["kind"],
      registers,
    });
    this.convergence = new Histogram({
      name: `${PREFIX}convergence_latency_seconds`,
      help: "Time from an observed change (AWS state seen by an informer or event, or a spec edit) to the resource converged.",
      labelNames: ["source"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
  }

  /** The queue whose longest-running key the gauge reports (built after the metrics, which the AWS clients need). */
  observeQueue(queue: { longestRunningSeconds(): number }): void {
    this.longestRunning = () => queue.longestRunningSeconds();
  }

  record(call: AwsCallRecord): void {
    this.awsRequests.inc({ service: call.service, operation: call.operation, outcome: call.outcome });
    this.awsDuration.observe({ service: call.service, operation: call.operation }, call.seconds);
  }

  rateLimitWaited(service: string, seconds: number): void {
    this.rateLimitWait.observe({ service }, seconds);
  }

  added(): void {
    this.queueAdds.inc();
  }
  retried(): void {
    this.queueRetries.inc();
  }
  depth(n: number): void {
    this.queueDepth.set(n);
  }

  reconciled(kind: string, result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ kind, result });
    this.reconcileDuration.observe({ kind }, seconds);
  }

  driftCorrectedFor(kind: string): void {
    this.driftCorrected.inc({ kind });
  }

  /** Sets the count of every kind, zero for kinds that have none left. */
  setManagedObjects(counts: ReadonlyMap<string, number>, kinds: readonly string[]): void {
    for (const kind of kinds) this.managedObjects.set({ kind }, counts.get(kind) ?? 0);
  }

  /**
   * The spec directory was read with `problems` diagnostics; `isNew` when they differ from the previous read's, so a
   * file that stays invalid through many reads counts once.
   */
  specsRead(problems: number, isNew: boolean): void {
    this.specProblems.set(problems);
    if (isNew && problems > 0) this.specLoadErrors.inc(problems);
  }

  /** How many removed specs' deletions the prune guard holds for `kind` now (0 once released). */
  deletionsHeld(kind: string, count: number): void {
    this.deletionsHeldGauge.set({ kind }, count);
  }

  converged(source: string, seconds: number): void {
    this.convergence.observe({ source }, Math.max(0, seconds));
  }
}
