import { parseWatchKey } from "../informers.ts";
import { pool } from "../pool.ts";
import { DESCRIBE_SERVICES_BATCH, DESCRIBE_TASKS_BATCH, type EcsServiceApi } from "./ecs-service-api.ts";
import type { ServiceDescription, TaskRecord } from "./observation.ts";
import type { ServiceRead } from "./watched-services.ts";

export interface ReadWatchedOptions {
  /** Stopped tasks described per key (ECS keeps them at least an hour; a crash loop leaves many). Default 100. */
  readonly maxStopped?: number;
  /** Keys read at once. Default 4. */
  readonly concurrency?: number;
}

/**
 * One interval's read of the watched ECS services and families: DescribeServices for ten services of a cluster a
 * call, then each key's RUNNING and STOPPED tasks (ListTasks, DescribeTasks by 100). A key whose read fails is
 * reported beside the others, which are still read.
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
        for (const d of await api.describeServices(
          cluster,
          unique.slice(i, i + DESCRIBE_SERVICES_BATCH),
          signal,
        )) {
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
      const [running, stopped] = await Promise.all([
        describeAll(
          api,
          target.cluster,
          await api.listTaskArns(target.cluster, of, "RUNNING", signal),
          signal,
        ),
        describeAll(
          api,
          target.cluster,
          (await api.listTaskArns(target.cluster, of, "STOPPED", signal)).slice(0, options.maxStopped ?? 100),
          signal,
        ),
      ]);
      reads.push({
        key,
        ...(target.type === "ecs-service"
          ? { description: descriptions.get(`${target.cluster}/${target.service}`) }
          : {}),
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
