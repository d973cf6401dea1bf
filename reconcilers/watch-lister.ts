import type { AwsClients } from "../controllers/aws/clients.ts";
import { parseWatchKey, type WatchLister } from "../controllers/informers.ts";
import { AwsEcsTaskApi } from "./ecs-tasks/aws-ecs-task-api.ts";
import type { EcsTaskApi } from "./ecs-tasks/ecs-task-api.ts";
import { chunk, DESCRIBE_BATCH } from "./ecs-tasks/running-tasks.ts";
import type { AutoScalingApi } from "./weighted-record-set/auto-scaling-api.ts";
import { AwsAutoScalingApi } from "./weighted-record-set/aws-auto-scaling-api.ts";

/**
 * What the informers list for each watch key, through the same adapters the reconcilers read with: an ECS service's
 * or family's running tasks with their states, an Auto Scaling group's instances with their lifecycle states.
 */
export class AwsWatchLister implements WatchLister {
  private readonly tasks: EcsTaskApi;
  private readonly autoScaling: Pick<AutoScalingApi, "describeGroup">;

  constructor(clients: Pick<AwsClients, "ecs" | "autoScaling" | "ec2">) {
    this.tasks = new AwsEcsTaskApi(clients);
    this.autoScaling = new AwsAutoScalingApi(clients);
  }

  async list(watchKey: string, signal: AbortSignal): Promise<string[] | undefined> {
    const t = parseWatchKey(watchKey);
    if (t === undefined) return undefined;
    if (t.type === "asg") {
      const group = await this.autoScaling.describeGroup(t.group, signal);
      // An instance's move from Pending to InService (or to Terminating:Wait) matters as much as its arrival.
      return (group?.instances ?? []).map((i) => `${i.instanceId}:${i.lifecycleState}`).sort();
    }
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
