import type { EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  paginateListTasks,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { describePrivateIps } from "../../controllers/aws/ec2-private-ips.ts";
import { awsCall } from "../../controllers/aws/errors.ts";
import { awsPages } from "../../controllers/aws/pages.ts";
import type { EcsTask, EcsTaskApi, TaskSelector } from "./ecs-task-api.ts";

export class AwsEcsTaskApi implements EcsTaskApi {
  private readonly ecs: ECSClient;
  private readonly ec2: () => Promise<EC2Client>;

  constructor(clients: { ecs: ECSClient; ec2: () => Promise<EC2Client> }) {
    this.ecs = clients.ecs;
    this.ec2 = clients.ec2;
  }

  async listRunningTaskArns(selector: TaskSelector, signal?: AbortSignal): Promise<string[]> {
    const arns: string[] = [];
    const pages = paginateListTasks(
      { client: this.ecs, pageSize: 100 },
      {
        cluster: selector.cluster,
        serviceName: selector.service,
        family: selector.service === undefined ? selector.family : undefined,
        desiredStatus: "RUNNING",
      },
      { abortSignal: signal },
    );
    for await (const page of awsPages("ecs", "ListTasks", pages)) arns.push(...(page.taskArns ?? []));
    return arns;
  }

  async describeTasks(
    cluster: string,
    taskArns: readonly string[],
    signal?: AbortSignal,
  ): Promise<EcsTask[]> {
    if (taskArns.length === 0) return [];
    const out = await awsCall("ecs", "DescribeTasks", () =>
      this.ecs.send(new DescribeTasksCommand({ cluster, tasks: [...taskArns] }), { abortSignal: signal }),
    );
    // `failures` (MISSING, an ARN of another cluster) are not returned: the caller counts what it asked for and did
    // not get (observeRunningTasks keeps those as tasks of unknown address).
    return (out.tasks ?? []).map((t) => ({
      taskArn: t.taskArn ?? "",
      lastStatus: t.lastStatus ?? "UNKNOWN",
      desiredStatus: t.desiredStatus ?? "UNKNOWN",
      healthStatus: t.healthStatus ?? undefined,
      attachments: (t.attachments ?? []).map((a) => ({
        type: a.type ?? "",
        details: (a.details ?? []).map((d) => ({ name: d.name ?? "", value: d.value ?? "" })),
      })),
      containerInstanceArn: t.containerInstanceArn || undefined,
      group: t.group ?? undefined,
      taskDefinitionArn: t.taskDefinitionArn ?? undefined,
    }));
  }

  async describeContainerInstances(
    cluster: string,
    arns: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    if (arns.length === 0) return map;
    const out = await awsCall("ecs", "DescribeContainerInstances", () =>
      this.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [...arns] }), {
        abortSignal: signal,
      }),
    );
    // A container instance in `failures` is left out of the map: its tasks' addresses are unknown, not gone.
    for (const ci of out.containerInstances ?? []) {
      if (ci.containerInstanceArn && ci.ec2InstanceId) map.set(ci.containerInstanceArn, ci.ec2InstanceId);
    }
    return map;
  }

  describeInstancePrivateIps(
    instanceIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    return describePrivateIps(this.ec2, instanceIds, signal);
  }
}
