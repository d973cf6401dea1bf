import { Counter, Gauge, type Registry } from "prom-client";

const PREFIX = "ecs_log_operator_";

/**
 * The ECS API's `TaskStopCode` values: the only values the `stop_code` label takes, with `None` for a stop ECS gave
 * no code (the emulator gives none) and `Other` for a code added after this list, so the label stays bounded.
 */
export const STOP_CODES = [
  "TaskFailedToStart",
  "EssentialContainerExited",
  "UserInitiated",
  "ServiceSchedulerInitiated",
  "SpotInterruption",
  "TerminationNotice",
  "InfrastructureHealth",
  "None",
  "Other",
] as const;
export type StopCodeLabel = (typeof STOP_CODES)[number];

export function stopCodeLabel(code: string | undefined): StopCodeLabel {
  if (code === undefined || code === "") return "None";
  return (STOP_CODES as readonly string[]).includes(code) ? (code as StopCodeLabel) : "Other";
}

/**
 * Metrics of the ECS services the specs watch, on the process's one registry. Labels are `cluster` and `service`
 * of watched services only, and `stop_code` from a fixed list, so the series are bounded by the specs; a service
 * no spec watches any more has its series removed.
 */
export class ServiceHealthMetrics {
  private readonly desired: Gauge<"cluster" | "service">;
  private readonly running: Gauge<"cluster" | "service">;
  private readonly pending: Gauge<"cluster" | "service">;
  private readonly degraded: Gauge<"cluster" | "service">;
  private readonly stops: Counter<"cluster" | "service" | "stop_code">;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ["cluster", "service"] as const;
    this.desired = new Gauge({
      name: `${PREFIX}watched_service_desired_tasks`,
      help: "Desired task count of an ECS service a spec watches, as DescribeServices reports it.",
      labelNames,
      registers,
    });
    this.running = new Gauge({
      name: `${PREFIX}watched_service_running_tasks`,
      help: "RUNNING tasks of an ECS service a spec watches.",
      labelNames,
      registers,
    });
    this.pending = new Gauge({
      name: `${PREFIX}watched_service_pending_tasks`,
      help: "Tasks of an ECS service a spec watches that are starting (not yet RUNNING).",
      labelNames,
      registers,
    });
    this.degraded = new Gauge({
      name: `${PREFIX}watched_service_degraded`,
      help: "1 while an ECS service a spec watches is Degraded (short of tasks, failing to place or start them), else 0.",
      labelNames,
      registers,
    });
    this.stops = new Counter({
      name: `${PREFIX}watched_task_stops_total`,
      help: "Tasks of a watched ECS service seen stopped, each once, by ECS's stop code (None when ECS gave none).",
      labelNames: ["cluster", "service", "stop_code"],
      registers,
    });
  }

  observed(
    cluster: string,
    service: string,
    counts: { desired: number | undefined; running: number | undefined; pending: number | undefined },
    degraded: boolean,
  ): void {
    const labels = { cluster, service };
    if (counts.desired !== undefined) this.desired.set(labels, counts.desired);
    if (counts.running !== undefined) this.running.set(labels, counts.running);
    if (counts.pending !== undefined) this.pending.set(labels, counts.pending);
    this.degraded.set(labels, degraded ? 1 : 0);
  }

  taskStopped(cluster: string, service: string, stopCode: string | undefined): void {
    this.stops.inc({ cluster, service, stop_code: stopCodeLabel(stopCode) });
  }

  /** A service no spec watches any more: its series go. */
  forget(cluster: string, service: string): void {
    const labels = { cluster, service };
    for (const g of [this.desired, this.running, this.pending, this.degraded]) g.remove(labels);
    for (const stop_code of STOP_CODES) this.stops.remove({ ...labels, stop_code });
  }
}
