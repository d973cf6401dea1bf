import { parseWatchKey } from "../informers.ts";
import { pool } from "../pool.ts";
import { DESCRIBE_SERVICES_BATCH, DESCRIBE_TASKS_BATCH, type EcsServiceApi } from "./ecs-service-api.ts";
import { inBackground } from "../aws/request-priority.ts";
import { systemClock, type Clock } from "../clock.ts";
import type { ServiceDescription, TaskRecord } from "./observation.ts";
import type { ServiceRead } from "./watched-services.ts";

export interface ReadWatchedOptions {
  /** Stopped tasks described per key (ECS keeps them at least an hour; a crash loop leaves many). Default 100. */
  readonly maxStopped?: number;
  /** Keys read at once. Default 4. */
  readonly concurrency?: number;
  /**
   * Whether to list a key's STOPPED tasks this interval, given what its read found so far (see `StoppedListings`).
   * Default: every interval.
   */
  readonly listStopped?: (
    key: string,
    running: readonly TaskRecord[],
    description?: ServiceDescription,
  ) => boolean;
}

/**
 * One interval's read of the watched ECS services and families: DescribeServices for ten services of a cluster a
 * call, then each key's RUNNING and STOPPED tasks (ListTasks, DescribeTasks by 100). A key whose read fails is
 * reported beside the others, which are still read. The running tasks are what the reconciles read too; the rest
 * waits on ECS's rate limit behind them (`inBackground`).
 */
export async function readWatched(
  api: EcsServiceApi,
  watchKeys: readonly string[],
  signal: AbortSignal,
  options: ReadWatchedOptions = {},
): Promise<{ reads: ServiceRead[]; failures: { key: string; error: unknown }[] }> {
  const failures: { key: string; error: unknown }[] = [];
  const targets = watchKeys.flatMap((key) => {
    const t = parseWatchKey(key);
    return t === undefined || t.type === "asg" ? [] : [{ key, target: t }];
  });
  // DescribeServices, grouped by cluster, ten a call.
  const descriptions = new Map<string, ServiceDescription>();
  const failedClusters = new Map<string, unknown>();
  const byCluster = new Map<string, string[]>();
  for (const { target } of targets) {
    if (target.type === "ecs-service")
      byCluster.set(target.cluster, [...(byCluster.get(target.cluster) ?? []), target.service]);
  }
  for (const [cluster, services] of byCluster) {
    const unique = [...new Set(services)].sort();
    for (let i = 0; i < unique.length; i += DESCRIBE_SERVICES_BATCH) {
      try {
        const batch = unique.slice(i, i + DESCRIBE_SERVICES_BATCH);
        // Background on ECS's rate limit, as the stopped tasks below: no reconcile waits for the health read.
        for (const d of await inBackground(() => api.describeServices(cluster, batch, signal))) {
          descriptions.set(`${cluster}/${d.name}`, d);
        }
      } catch (error) {
        signal.throwIfAborted();
        failedClusters.set(cluster, error);
      }
    }
  }
  const reads: ServiceRead[] = [];
  await pool(targets, options.concurrency ?? 4, async ({ key, target }) => {
    if (target.type === "ecs-service" && failedClusters.has(target.cluster)) {
      failures.push({ key, error: failedClusters.get(target.cluster) });
      return;
    }
    try {
      const of = target.type === "ecs-service" ? { service: target.service } : { family: target.family };
      // A service's tasks carry `group: service:NAME`, a family's `taskDefinitionArn` .../FAMILY:REV: checked here
      // because ListTasks' filter is the API's promise, and an emulator may not keep it.
      const belongs = (t: TaskRecord): boolean =>
        target.type === "ecs-service"
          ? t.group === `service:${target.service}`
          : new RegExp(`task-definition/${escapeRegExp(target.family)}:\\d+$`).test(
              t.taskDefinitionArn ?? "",
            );
      const description =
        target.type === "ecs-service" ? descriptions.get(`${target.cluster}/${target.service}`) : undefined;
      const running = await describeAll(
        api,
        target.cluster,
        await api.listTaskArns(target.cluster, of, "RUNNING", signal),
        signal,
      );
      // The stopped tasks after the running ones: whether they are worth listing depends on what changed.
      const stopped =
        options.listStopped?.(key, running.filter(belongs), description) === false
          ? []
          : await inBackground(async () => {
              const arns = await api.listTaskArns(target.cluster, of, "STOPPED", signal);
              return describeAll(api, target.cluster, arns.slice(0, options.maxStopped ?? 100), signal);
            });
      reads.push({
        key,
        ...(target.type === "ecs-service" ? { description } : {}),
        tasks: running.filter(belongs),
        stopped: stopped.filter(belongs),
      });
    } catch (error) {
      signal.throwIfAborted();
      failures.push({ key, error });
    }
  });
  reads.sort((a, b) => (a.key < b.key ? -1 : 1));
  return { reads, failures };
}

async function describeAll(
  api: EcsServiceApi,
  cluster: string,
  arns: readonly string[],
  signal: AbortSignal,
): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_BATCH) {
    out.push(...(await api.describeTasks(cluster, arns.slice(i, i + DESCRIBE_TASKS_BATCH), signal)));
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** How long a steady key goes without a listing of its stopped tasks. ECS shows a stopped task for at least an hour. */
export const STOPPED_REFRESH_MS = 5 * 60_000;

/**
 * Which keys' STOPPED tasks are listed this interval (a ListTasks, and DescribeTasks when there are any): a key whose
 * running tasks and service counts are what they were at its last listing is steady, and nothing new has stopped in
 * it that the scheduler knows of, so its listing is refreshed every `refreshMs` instead of every interval. Listed at
 * once: a key not listed yet, a change of its running task set, a service whose running count is not its desired
 * count, with pending tasks, more than one deployment, a rollout not completed, or a deployment's failed-task count
 * that moved. What a skipped interval can miss is a task that started and stopped between two reads of a steady key
 * (a standalone task that failed to start, say): it is listed at the next refresh (ECS keeps it at least an hour) or
 * at once from an EventBridge event (`--events-queue-url`). Bounded by the watched keys (`retain`).
 */
export class StoppedListings {
  private readonly clock: Clock;
  private readonly refreshMs: number;
  private readonly last = new Map<string, { at: number; fingerprint: string }>();

  constructor(options: { clock?: Clock | undefined; refreshMs?: number | undefined } = {}) {
    this.clock = options.clock ?? systemClock;
    this.refreshMs = options.refreshMs ?? STOPPED_REFRESH_MS;
  }

  /** `ReadWatchedOptions.listStopped`: whether to list now; a yes is remembered as this key's last listing. */
  readonly listStopped = (
    key: string,
    running: readonly TaskRecord[],
    description?: ServiceDescription,
  ): boolean => {
    const now = this.clock.now();
    const fingerprint = steadyFingerprint(running, description);
    const prior = this.last.get(key);
    if (
      fingerprint !== undefined &&
      prior !== undefined &&
      prior.fingerprint === fingerprint &&
      now - prior.at < this.refreshMs
    ) {
      return false;
    }
    if (fingerprint === undefined) this.last.delete(key);
    else this.last.set(key, { at: now, fingerprint });
    return true;
  };

  /** Forgets keys no longer watched. */
  retain(keys: Iterable<string>): void {
    const live = new Set(keys);
    for (const key of [...this.last.keys()]) if (!live.has(key)) this.last.delete(key);
  }
}

/** What must stay the same for a key to count as steady; undefined when it is not steady now. */
function steadyFingerprint(
  running: readonly TaskRecord[],
  description?: ServiceDescription,
): string | undefined {
  if (description !== undefined) {
    const { desiredCount, runningCount, pendingCount, deployments } = description;
    const [only, ...more] = deployments;
    if (runningCount !== desiredCount || pendingCount > 0 || more.length > 0) return undefined;
    if (only !== undefined && only.rolloutState !== undefined && only.rolloutState !== "COMPLETED")
      return undefined;
    const counts = `${desiredCount}/${only?.id ?? ""}/${only?.failedTasks ?? 0}`;
    return `${counts} ${running
      .map((t) => t.taskArn)
      .sort()
      .join(" ")}`;
  }
  return running
    .map((t) => t.taskArn)
    .sort()
    .join(" ");
}
