import { systemClock, type Clock } from "../clock.ts";
import { formatWatchKey, normaliseWatchKey, parseWatchKey, type WatchTarget } from "../informers.ts";
import type {
  StatusCondition,
  StoppedTaskStatus,
  TaskStatus,
  WatchedServiceStatus,
} from "../status-model.ts";
import { parseEcsEvent } from "./ecs-events.ts";
import { FAILURE_KINDS, type ExplainedEvent, type ExplainedStop } from "./explain.ts";
import {
  assessFamilyHealth,
  assessServiceHealth,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_STOPS,
  isStopped,
  type ServiceHealth,
} from "./health.ts";
import type { ServiceHealthMetrics } from "./metrics.ts";
import { taskIdOf, type ServiceDescription, type TaskRecord } from "./observation.ts";

/** One read of a watched service or family, as the controller makes it once an interval. */
export interface ServiceRead {
  /** The watch key read (`ecs:CLUSTER/service:NAME` or `ecs:CLUSTER/family:NAME`). */
  readonly key: string;
  /** DescribeServices' answer for a service key; undefined when it reports the service MISSING. */
  readonly description?: ServiceDescription | undefined;
  /** Its tasks whose desired status is RUNNING (ListTasks, then DescribeTasks). */
  readonly tasks: readonly TaskRecord[];
  /** Its recently stopped tasks (ListTasks with desiredStatus STOPPED, then DescribeTasks). */
  readonly stopped: readonly TaskRecord[];
}

export interface WatchedServicesOptions {
  readonly clock?: Clock;
  readonly metrics?: ServiceHealthMetrics | undefined;
  /** See `HealthOptions.recentMs`. */
  readonly recentMs?: number;
  readonly maxEvents?: number;
  readonly maxStops?: number;
  /** Tasks listed per service in the status. Default 100. */
  readonly maxTasks?: number;
}

interface Entry {
  readonly target: Extract<WatchTarget, { type: "ecs-service" | "ecs-family" }>;
  resources: readonly string[];
  read: ServiceRead | undefined;
  /** Stopped tasks by ARN, with when each was first seen; trimmed to the latest after every merge. */
  stopped: Map<string, { task: TaskRecord; seenAt: string }>;
  /** Events from EventBridge, newest first, bounded. */
  signals: ExplainedEvent[];
  /** Stops already counted, by ARN, with when: each is counted once. */
  counted: Map<string, number>;
  health: ServiceHealth | undefined;
  condition: StatusCondition;
  observedAt: string | undefined;
  error: string | undefined;
}

/** Stopped task ARNs remembered for counting; ECS shows a stopped task for at least an hour. */
const COUNTED_FOR_MS = 3 * 3_600_000;
const MAX_COUNTED = 1000;

/**
 * The health of every ECS service and family the specs watch: fed by the controller's reads and by EventBridge
 * events, read by `/status`. State is bounded by the watch keys the specs hold (`setWatches` drops the others) and,
 * per key, by the latest events and stops kept.
 */
export class WatchedServices {
  private readonly clock: Clock;
  private readonly metrics: ServiceHealthMetrics | undefined;
  private readonly options: WatchedServicesOptions;
  private readonly startedAt: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: WatchedServicesOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.options = options;
    this.startedAt = this.clock.now();
  }

  /** The ECS watch keys the specs hold now, each with the resources holding it. Other keys are forgotten. */
  setWatches(resourcesByWatchKey: ReadonlyMap<string, readonly string[]>): void {
    const wanted = new Map<string, readonly string[]>();
    for (const [key, resources] of resourcesByWatchKey) {
      const normal = normaliseWatchKey(key);
      const t = parseWatchKey(normal);
      if (t === undefined || t.type === "asg") continue;
      wanted.set(normal, [...new Set([...(wanted.get(normal) ?? []), ...resources])].sort());
    }
    for (const [key, entry] of this.entries) {
      if (wanted.has(key)) continue;
      this.entries.delete(key);
      if (entry.target.type === "ecs-service")
        this.metrics?.forget(entry.target.cluster, entry.target.service);
    }
    for (const [key, resources] of wanted) {
      const existing = this.entries.get(key);
      if (existing !== undefined) {
        existing.resources = resources;
        continue;
      }
      const t = parseWatchKey(key) as Entry["target"];
      this.entries.set(key, {
        target: t,
        resources,
        read: undefined,
        stopped: new Map(),
        signals: [],
        counted: new Map(),
        health: undefined,
        condition: condition("Unknown", "NotObservedYet", "not read yet", this.clock.now()),
        observedAt: undefined,
        error: undefined,
      });
    }
  }

  /** The ECS watch keys to read each interval. */
  watchKeys(): string[] {
    return [...this.entries.keys()].sort();
  }

  observed(read: ServiceRead): void {
    const entry = this.entries.get(normaliseWatchKey(read.key));
    if (entry === undefined) return;
    const now = this.clock.now();
    entry.read = read;
    entry.observedAt = new Date(now).toISOString();
    entry.error = undefined;
    for (const task of read.stopped) this.addStop(entry, task, now);
    this.assess(entry, now);
  }

  /** A read that failed: the last health stays, with the error beside it. */
  readFailed(key: string, error: unknown): void {
    const entry = this.entries.get(normaliseWatchKey(key));
    if (entry === undefined) return;
    entry.error = error instanceof Error ? error.message : String(error);
    if (entry.health === undefined) {
      entry.condition = condition("Unknown", "ReadFailed", entry.error, this.clock.now(), entry.condition);
    }
  }

  /**
   * An EventBridge event, as the events queue's `onEvent` hook passes it. Returns the watch keys it changed (none
   * when it concerns nothing watched).
   */
  handleEvent(event: unknown): string[] {
    const signal = parseEcsEvent(event);
    if (signal === undefined) return [];
    const now = this.clock.now();
    if (signal.type === "service-action") {
      const key = formatWatchKey({ type: "ecs-service", cluster: signal.cluster, service: signal.service });
      const entry = this.entries.get(key);
      if (entry === undefined) return [];
      if (!entry.signals.some((s) => s.id === signal.event.id)) {
        entry.signals = [signal.event, ...entry.signals]
          .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
          .slice(0, this.options.maxEvents ?? DEFAULT_MAX_EVENTS);
      }
      this.assess(entry, now);
      return [key];
    }
    const family = /task-definition\/([^:/]+)/.exec(signal.task.taskDefinitionArn ?? "")?.[1];
    const keys = [
      ...(signal.service !== undefined
        ? [formatWatchKey({ type: "ecs-service", cluster: signal.cluster, service: signal.service })]
        : []),
      ...(family !== undefined
        ? [formatWatchKey({ type: "ecs-family", cluster: signal.cluster, family })]
        : []),
    ].filter((k) => this.entries.has(k));
    for (const key of keys) {
      const entry = this.entries.get(key) as Entry;
      this.addStop(entry, signal.task, now);
      this.assess(entry, now);
    }
    return keys;
  }

  get(key: string): WatchedServiceStatus | undefined {
    const entry = this.entries.get(normaliseWatchKey(key));
    return entry === undefined ? undefined : this.view(normaliseWatchKey(key), entry);
  }

  list(): WatchedServiceStatus[] {
    return this.watchKeys().map((k) => this.view(k, this.entries.get(k) as Entry));
  }

  private addStop(entry: Entry, task: TaskRecord, now: number): void {
    if (!isStopped(task)) return;
    const prior = entry.stopped.get(task.taskArn);
    const seenAt = prior?.seenAt ?? new Date(now).toISOString();
    // The later report of a task is the more complete; a report without a reason does not replace one with it.
    if (prior === undefined || task.stoppedReason !== undefined || prior.task.stoppedReason === undefined) {
      entry.stopped.set(task.taskArn, { task: { ...(prior?.task ?? task), ...definedFields(task) }, seenAt });
    }
    if (!entry.counted.has(task.taskArn)) {
      entry.counted.set(task.taskArn, now);
      const stoppedAt = Date.parse(task.stoppedAt ?? "");
      // A stop from before this process started is shown, not counted: counters count what happened while they ran.
      const before = Number.isFinite(stoppedAt) && stoppedAt < this.startedAt;
      if (!before && entry.target.type === "ecs-service") {
        this.metrics?.taskStopped(entry.target.cluster, entry.target.service, task.stopCode);
      }
    }
    for (const [arn, at] of entry.counted) {
      if (now - at > COUNTED_FOR_MS || entry.counted.size > MAX_COUNTED) entry.counted.delete(arn);
    }
    const keep = (this.options.maxStops ?? DEFAULT_MAX_STOPS) * 2;
    if (entry.stopped.size > keep) {
      const newest = [...entry.stopped.values()]
        .sort((a, b) => stopTime(b) - stopTime(a))
        .slice(0, keep)
        .map((s) => s.task.taskArn);
      const kept = new Set(newest);
      for (const arn of entry.stopped.keys()) if (!kept.has(arn)) entry.stopped.delete(arn);
    }
  }

  private assess(entry: Entry, now: number): void {
    const options = {
      now,
      recentMs: this.options.recentMs,
      maxEvents: this.options.maxEvents,
      maxStops: this.options.maxStops,
    };
    const stopped = [...entry.stopped.values()];
    const tasks = entry.read?.tasks ?? [];
    const running = tasks.filter((t) => t.lastStatus === "RUNNING").length;
    const pending = tasks.filter((t) => isStarting(t.lastStatus)).length;
    if (entry.read === undefined && entry.signals.length === 0 && stopped.length === 0) return;
    let health: ServiceHealth;
    if (entry.target.type === "ecs-family") {
      health = assessFamilyHealth(
        { cluster: entry.target.cluster, family: entry.target.family, running, pending, stopped },
        options,
      );
    } else {
      if (entry.read === undefined) {
        // Events before the first read: no count is known yet, but a failure ECS reported is shown at once.
        const failure = currentSignal(entry.signals);
        if (failure === undefined) return;
        const name = `${entry.target.cluster}/${entry.target.service}`;
        entry.condition = condition(
          "True",
          failure.reason ?? "SchedulerFailure",
          `${name}: ECS: ${failure.explanation ?? failure.message}`,
          now,
          entry.condition,
        );
        return;
      }
      health = assessServiceHealth(
        {
          cluster: entry.target.cluster,
          service: entry.target.service,
          description: entry.read.description,
          counts: entry.read.description !== undefined ? { running, pending } : undefined,
          signals: entry.signals,
          stopped,
        },
        options,
      );
      this.metrics?.observed(entry.target.cluster, entry.target.service, health, health.degraded);
    }
    entry.health = health;
    entry.condition = condition(
      health.degraded ? "True" : "False",
      health.reason,
      health.message,
      now,
      entry.condition,
    );
  }

  private view(key: string, entry: Entry): WatchedServiceStatus {
    const h = entry.health;
    const tasks = [...(entry.read?.tasks ?? [])]
      .filter((t) => !isStopped(t))
      .sort((a, b) => (taskIdOf(a.taskArn) < taskIdOf(b.taskArn) ? -1 : 1))
      .slice(0, this.options.maxTasks ?? 100)
      .map((t): TaskStatus => ({
        taskId: taskIdOf(t.taskArn),
        taskArn: t.taskArn,
        lastStatus: t.lastStatus,
        desiredStatus: t.desiredStatus,
        health: t.healthStatus ?? null,
        address: t.address ?? null,
        startedAt: t.startedAt ?? null,
      }));
    return {
      key,
      cluster: entry.target.cluster,
      service: entry.target.type === "ecs-service" ? entry.target.service : null,
      family: entry.target.type === "ecs-family" ? entry.target.family : null,
      resources: entry.resources,
      desired: entry.read !== undefined ? (h?.desired ?? null) : null,
      running: entry.read !== undefined ? (h?.running ?? null) : null,
      pending: entry.read !== undefined ? (h?.pending ?? null) : null,
      taskDefinition: entry.read?.description?.taskDefinition ?? null,
      conditions: [entry.condition],
      tasks,
      stoppedTasks: (h?.stops ?? []).map(stopView),
      events: (h?.events ?? []).map((e) => ({
        id: e.id,
        createdAt: e.createdAt,
        message: e.message,
        kind: e.kind,
        reason: e.reason ?? null,
        explanation: e.explanation ?? null,
        source: e.source,
      })),
      observedAt: entry.observedAt ?? null,
      error: entry.error ?? null,
    };
  }
}

function stopView(s: ExplainedStop): StoppedTaskStatus {
  return {
    taskId: s.taskId,
    taskArn: s.taskArn,
    stoppedAt: s.stoppedAt ?? null,
    stopCode: s.stopCode ?? null,
    stoppedReason: s.stoppedReason ?? null,
    reason: s.reason,
    explanation: s.explanation,
    failure: s.failure,
    containers: s.containers.map((c) => ({
      name: c.name,
      exitCode: c.exitCode ?? null,
      reason: c.reason ?? null,
    })),
  };
}

function isStarting(lastStatus: string): boolean {
  return lastStatus === "PROVISIONING" || lastStatus === "PENDING" || lastStatus === "ACTIVATING";
}

function stopTime(s: { task: TaskRecord; seenAt: string }): number {
  return Date.parse(s.task.stoppedAt ?? s.seenAt);
}

function definedFields(task: TaskRecord): Partial<TaskRecord> {
  return Object.fromEntries(Object.entries(task).filter(([, v]) => v !== undefined)) as Partial<TaskRecord>;
}

/** The newest failure EventBridge reported after its latest steady state. */
function currentSignal(signals: readonly ExplainedEvent[]): ExplainedEvent | undefined {
  for (const s of signals) {
    if (s.kind === "steady-state") return undefined;
    if (FAILURE_KINDS.has(s.kind)) return s;
  }
  return undefined;
}

function condition(
  status: StatusCondition["status"],
  reason: string,
  message: string,
  now: number,
  previous?: StatusCondition,
): StatusCondition {
  return {
    type: "Degraded",
    status,
    reason,
    message,
    lastTransitionTime:
      previous !== undefined && previous.status === status
        ? previous.lastTransitionTime
        : new Date(now).toISOString(),
  };
}
