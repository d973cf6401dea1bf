import {
  explainedStop,
  explainServiceEvent,
  FAILURE_KINDS,
  sentence,
  type ExplainedEvent,
  type ExplainedStop,
} from "./explain.ts";
import type { ServiceDescription, TaskRecord } from "./observation.ts";

export interface HealthInput {
  readonly cluster: string;
  readonly service: string;
  /** Undefined when DescribeServices reports the service MISSING. */
  readonly description: ServiceDescription | undefined;
  /**
   * Running and pending tasks counted from the service's task listing; the description's counts when absent. Both
   * count tasks by their last status; the listing is read in the same pass as the stopped tasks.
   */
  readonly counts?: { readonly running: number; readonly pending: number } | undefined;
  /** Events that came through EventBridge ("ECS Service Action"), already explained. */
  readonly signals?: readonly ExplainedEvent[];
  /** Stopped tasks, each with when it was first seen stopped (used when ECS gives no `stoppedAt`). */
  readonly stopped: readonly { readonly task: TaskRecord; readonly seenAt: string }[];
}

export interface HealthOptions {
  /** Epoch milliseconds. */
  readonly now: number;
  /**
   * How long a failed task, or a failure event while the service is at its desired count, keeps the service
   * Degraded. Default 10 minutes.
   */
  readonly recentMs?: number;
  /** The latest events and stops kept per service. Default 10 each. */
  readonly maxEvents?: number;
  readonly maxStops?: number;
}

/** A watched service's health: its counts, and why it is Degraded, if it is. */
export interface ServiceHealth {
  readonly desired: number | undefined;
  readonly running: number | undefined;
  readonly pending: number | undefined;
  readonly degraded: boolean;
  /** CamelCase; `Healthy` when not degraded. */
  readonly reason: string;
  readonly message: string;
  /** The latest events, newest first. */
  readonly events: readonly ExplainedEvent[];
  /** The latest stopped tasks, newest first. */
  readonly stops: readonly ExplainedStop[];
}

export const DEFAULT_RECENT_MS = 10 * 60_000;
export const DEFAULT_MAX_EVENTS = 10;
export const DEFAULT_MAX_STOPS = 10;

/**
 * Pure: from one observation of a watched ECS service to its health. A service is Degraded when it runs fewer
 * tasks than desired, when the scheduler reports a failure (placement, configuration, start, health) after its
 * latest steady state, when its primary deployment failed, or when one of its tasks failed within `recentMs`.
 * A failure event counts after the latest steady state while the service is short of tasks (ECS repeats an event
 * only every six hours while its cause lasts), and only within `recentMs` once it is not.
 */
export function assessServiceHealth(input: HealthInput, options: HealthOptions): ServiceHealth {
  const recentMs = options.recentMs ?? DEFAULT_RECENT_MS;
  const name = `${input.cluster}/${input.service}`;
  const events = mergeEvents(input.description, input.signals ?? []);
  const stops = mergeStops(input.stopped);
  const bounded = {
    events: events.slice(0, options.maxEvents ?? DEFAULT_MAX_EVENTS),
    stops: stops.slice(0, options.maxStops ?? DEFAULT_MAX_STOPS),
  };
  const d = input.description;
  if (d === undefined) {
    return {
      desired: undefined,
      running: undefined,
      pending: undefined,
      degraded: true,
      reason: "ServiceNotFound",
      message: `ECS has no service ${name}: DescribeServices reports it MISSING. Check the spec's cluster and service.`,
      ...bounded,
    };
  }
  const running = input.counts?.running ?? d.runningCount;
  const pending = input.counts?.pending ?? d.pendingCount;
  const desired = d.desiredCount;
  const counts = { desired, running, pending };
  if (d.status !== "ACTIVE") {
    return {
      ...counts,
      degraded: true,
      reason: "ServiceInactive",
      message: `service ${name} is ${d.status}: it is being deleted or was deleted, and runs no new tasks.`,
      ...bounded,
    };
  }
  const short = running < desired;
  const tally = `runs ${running} of ${desired} task${desired === 1 ? "" : "s"}${pending > 0 ? ` (${pending} pending)` : ""}`;
  const since = (iso: string | undefined): number => options.now - Date.parse(iso ?? "");
  const steady = events.findIndex((e) => e.kind === "steady-state");
  const current = (steady === -1 ? events : events.slice(0, steady)).find(
    (e) => FAILURE_KINDS.has(e.kind) && (short || since(e.createdAt) <= recentMs),
  );
  const failedStops = stops.filter((s) => s.failure && since(s.stoppedAt) <= recentMs);
  const latestStop = stops.find((s) => since(s.stoppedAt) <= recentMs);
  const stopNote = (s: ExplainedStop | undefined): string =>
    s === undefined ? "" : ` Task ${s.taskId} stopped: ${s.explanation}`;
  const failedDeployment = d.deployments.find((x) => x.status === "PRIMARY" && x.rolloutState === "FAILED");

  let reason: string;
  let message: string;
  if (current !== undefined) {
    reason = current.reason ?? "SchedulerFailure";
    message = `${name} ${tally}. ECS: ${current.explanation ?? current.message}${stopNote(failedStops[0])}`;
  } else if (failedDeployment !== undefined) {
    reason = "DeploymentFailed";
    message =
      sentence(
        `${name} ${tally}. Its deployment ${failedDeployment.id} failed` +
          (failedDeployment.rolloutStateReason ? `: ${failedDeployment.rolloutStateReason}` : ""),
      ) + stopNote(failedStops[0]);
  } else if (failedStops[0] !== undefined) {
    const s = failedStops[0];
    reason = s.reason;
    const more =
      failedStops.length > 1 ? ` (${failedStops.length} tasks failed in the last ${minutes(recentMs)})` : "";
    message = `${name} ${tally}. Task ${s.taskId} stopped: ${s.explanation}${more}`;
  } else if (short) {
    reason = pending > 0 ? "TasksStarting" : "BelowDesiredCount";
    message =
      `${name} ${tally}${pending > 0 ? ": ECS is starting tasks." : "."}` +
      (latestStop !== undefined ? stopNote(latestStop) : pending > 0 ? "" : " ECS reports no cause yet.");
  } else {
    return { ...counts, degraded: false, reason: "Healthy", message: `${name} ${tally}.`, ...bounded };
  }
  return { ...counts, degraded: true, reason, message, ...bounded };
}

/**
 * A task that has stopped, or is on its way out with its stop code and reason already set (ECS sets them when the
 * desired status turns STOPPED); a RUNNING task being drained is not yet a stop.
 */
export function isStopped(task: TaskRecord): boolean {
  return task.lastStatus === "STOPPED" || (task.desiredStatus === "STOPPED" && task.lastStatus !== "RUNNING");
}

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

/** DescribeServices' events and EventBridge's, newest first, each once. */
function mergeEvents(
  d: ServiceDescription | undefined,
  signals: readonly ExplainedEvent[],
): ExplainedEvent[] {
  const own: ExplainedEvent[] = (d?.events ?? []).map((e) => ({
    ...e,
    ...explainServiceEvent(e.message),
    source: "service-events",
  }));
  const seen = new Set<string>();
  return [...own, ...signals]
    .filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)))
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? -1 : 1));
}

function mergeStops(stopped: HealthInput["stopped"]): ExplainedStop[] {
  const byArn = new Map<string, ExplainedStop>();
  for (const { task, seenAt } of stopped) {
    if (!isStopped(task)) continue;
    const prior = byArn.get(task.taskArn);
    // The later report of one task is the more complete (a STOPPED event follows a DEPROVISIONING one).
    if (prior === undefined || (task.stoppedReason !== undefined && prior.stoppedReason === undefined)) {
      byArn.set(task.taskArn, explainedStop(task, task.stoppedAt ?? prior?.stoppedAt ?? seenAt));
    }
  }
  return [...byArn.values()].sort(
    (a, b) =>
      Date.parse(b.stoppedAt ?? "") - Date.parse(a.stoppedAt ?? "") || (a.taskArn < b.taskArn ? -1 : 1),
  );
}

/**
 * A task definition family's tasks have no desired count: the family is Degraded only while one of its tasks
 * failed within `recentMs`.
 */
export function assessFamilyHealth(
  input: {
    readonly cluster: string;
    readonly family: string;
    readonly running: number;
    readonly pending: number;
    readonly stopped: HealthInput["stopped"];
  },
  options: HealthOptions,
): ServiceHealth {
  const recentMs = options.recentMs ?? DEFAULT_RECENT_MS;
  const stops = mergeStops(input.stopped);
  const tally = `family ${input.cluster}/${input.family} runs ${input.running} task${input.running === 1 ? "" : "s"}${input.pending > 0 ? ` (${input.pending} pending)` : ""}`;
  const failed = stops.find((s) => s.failure && options.now - Date.parse(s.stoppedAt ?? "") <= recentMs);
  const common = {
    desired: undefined,
    running: input.running,
    pending: input.pending,
    events: [],
    stops: stops.slice(0, options.maxStops ?? DEFAULT_MAX_STOPS),
  };
  return failed === undefined
    ? { ...common, degraded: false, reason: "Healthy", message: `${tally}.` }
    : {
        ...common,
        degraded: true,
        reason: failed.reason,
        message: `${tally}. Task ${failed.taskId} stopped: ${failed.explanation}`,
      };
}
