import type { AwsClients } from "../../controllers/aws/clients.ts";
import { parseWatchKey, type WatchLister } from "../../controllers/informers.ts";
import { AwsEcsTaskApi } from "./aws-ecs-task-api.ts";
import type { EcsTaskApi } from "./ecs-task-api.ts";
import { chunk, DESCRIBE_BATCH } from "./running-tasks.ts";

/**
 * What the informers list for an ECS watch key (`ecs:CLUSTER/service:NAME`, `ecs:CLUSTER/family:FAMILY`), through
 * the adapter the reconcilers read with: the running tasks with their states.
 */
export class EcsTaskWatchLister implements WatchLister {
  private readonly tasks: EcsTaskApi;

  constructor(tasks: EcsTaskApi) {
    this.tasks = tasks;
  }

  async list(watchKey: string, signal: AbortSignal): Promise<string[] | undefined> {
    const t = parseWatchKey(watchKey);
    if (t === undefined || t.type === "asg") return undefined;
    const selector =
      t.type === "ecs-service"
        ? { cluster: t.cluster, service: t.service }
        : { cluster: t.cluster, family: t.family };
    const arns = await this.tasks.listRunningTaskArns(selector, signal);
    // A task's move from PENDING to RUNNING, or its being told to stop, keeps its ARN but changes what is served.
    // DescribeTasks also gives `group` (`service:NAME`), which the serviceName filter may not have applied (the
    // emulator ignores it).
    const listing: string[] = [];
    for (const batch of chunk(arns, DESCRIBE_BATCH)) {
      for (const task of await this.tasks.describeTasks(t.cluster, batch, signal)) {
        if (t.type === "ecs-service" && task.group !== `service:${t.service}`) continue;
        listing.push(`${task.taskArn}:${task.lastStatus}:${task.desiredStatus}`);
      }
    }
    return listing.sort();
  }
}

/** The process's ECS task lister, shared by every kind that follows ECS tasks (`KindParts.shared`). */
export function ecsTaskWatchLister(clients: Pick<AwsClients, "ecs" | "ec2">): EcsTaskWatchLister {
  return new EcsTaskWatchLister(new AwsEcsTaskApi(clients));
}
