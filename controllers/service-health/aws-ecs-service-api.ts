import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  paginateListTasks,
  type ECSClient,
  type Service,
  type Task,
} from "@aws-sdk/client-ecs";
import { awsCall, awsCallOrUndefined } from "../aws/errors.ts";
import { clusterName } from "../informers.ts";
import { DESCRIBE_SERVICES_BATCH, DESCRIBE_TASKS_BATCH, type EcsServiceApi } from "./ecs-service-api.ts";
import type { ServiceDescription, TaskDefinitionSummary, TaskRecord } from "./observation.ts";

/** `EcsServiceApi` over the SDK's ECS client (its paginators for the listings); AWS errors are classified here. */
export class AwsEcsServiceApi implements EcsServiceApi {
  protected readonly ecs: ECSClient;
  protected readonly pageSize: number;

  /** `pageSize`: results a page of a listing (ListTasks, ListServices: the API allows at most 100). */
  constructor(clients: { ecs: ECSClient }, options: { pageSize?: number } = {}) {
    this.ecs = clients.ecs;
    this.pageSize = options.pageSize ?? 100;
  }

  async describeServices(
    cluster: string,
    services: readonly string[],
    signal?: AbortSignal,
  ): Promise<ServiceDescription[]> {
    if (services.length === 0) return [];
    if (services.length > DESCRIBE_SERVICES_BATCH) {
      throw new Error(
        `DescribeServices takes at most ${DESCRIBE_SERVICES_BATCH} services, not ${services.length}`,
      );
    }
    const out = await awsCall("ecs", "DescribeServices", () =>
      this.ecs.send(new DescribeServicesCommand({ cluster, services: [...services] }), {
        abortSignal: signal,
      }),
    );
    return (out.services ?? []).map((s) => serviceOf(clusterName(cluster), s));
  }

  async describeTaskDefinition(
    taskDefinition: string,
    signal?: AbortSignal,
  ): Promise<TaskDefinitionSummary | undefined> {
    const out = await awsCallOrUndefined("ecs", "DescribeTaskDefinition", () =>
      this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal }),
    );
    const td = out?.taskDefinition;
    if (td === undefined) return undefined;
    return {
      arn: td.taskDefinitionArn ?? taskDefinition,
      family: td.family ?? "",
      revision: td.revision ?? 0,
      // A task definition without a network mode gets the default: bridge on Linux EC2 instances.
      networkMode: td.networkMode ?? "bridge",
      containers: (td.containerDefinitions ?? []).map((c) => ({ name: c.name ?? "", image: c.image ?? "" })),
    };
  }

  async listTaskArns(
    cluster: string,
    of: { readonly service?: string | undefined; readonly family?: string | undefined },
    desiredStatus: "RUNNING" | "STOPPED",
    signal?: AbortSignal,
  ): Promise<string[]> {
    return awsCall("ecs", "ListTasks", async () => {
      const arns: string[] = [];
      const pages = paginateListTasks(
        { client: this.ecs, pageSize: this.pageSize },
        {
          cluster,
          serviceName: of.service,
          family: of.service === undefined ? of.family : undefined,
          desiredStatus,
        },
        { abortSignal: signal },
      );
      for await (const page of pages) arns.push(...(page.taskArns ?? []));
      return arns;
    });
  }

  async describeTasks(
    cluster: string,
    taskArns: readonly string[],
    signal?: AbortSignal,
  ): Promise<TaskRecord[]> {
    if (taskArns.length === 0) return [];
    if (taskArns.length > DESCRIBE_TASKS_BATCH) {
      throw new Error(`DescribeTasks takes at most ${DESCRIBE_TASKS_BATCH} tasks, not ${taskArns.length}`);
    }
    const out = await awsCall("ecs", "DescribeTasks", () =>
      this.ecs.send(new DescribeTasksCommand({ cluster, tasks: [...taskArns] }), { abortSignal: signal }),
    );
    return (out.tasks ?? []).map(taskOf);
  }
}

const iso = (d: Date | undefined): string | undefined =>
  d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;

function serviceOf(cluster: string, s: Service): ServiceDescription {
  return {
    cluster,
    name: s.serviceName ?? "",
    arn: s.serviceArn ?? "",
    status: s.status ?? "UNKNOWN",
    desiredCount: s.desiredCount ?? 0,
    runningCount: s.runningCount ?? 0,
    pendingCount: s.pendingCount ?? 0,
    launchType:
      s.launchType ?? s.capacityProviderStrategy?.map((c) => c.capacityProvider).join("+") ?? undefined,
    taskDefinition: s.taskDefinition ?? "",
    serviceRegistries: (s.serviceRegistries ?? []).map((r) => ({
      registryArn: r.registryArn ?? "",
      containerName: r.containerName,
      containerPort: r.containerPort,
      port: r.port,
    })),
    subnets: s.networkConfiguration?.awsvpcConfiguration?.subnets ?? [],
    deployments: (s.deployments ?? []).map((d) => ({
      id: d.id ?? "",
      status: d.status ?? "",
      taskDefinition: d.taskDefinition ?? "",
      desiredCount: d.desiredCount ?? 0,
      runningCount: d.runningCount ?? 0,
      pendingCount: d.pendingCount ?? 0,
      failedTasks: d.failedTasks ?? 0,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
    })),
    events: (s.events ?? []).map((e) => ({
      id: e.id ?? "",
      createdAt: iso(e.createdAt) ?? "",
      message: e.message ?? "",
    })),
  };
}

function taskOf(t: Task): TaskRecord {
  let address: string | undefined;
  for (const a of t.attachments ?? []) {
    if (a.type !== "ElasticNetworkInterface") continue;
    address = a.details?.find((d) => d.name === "privateIPv4Address")?.value ?? address;
  }
  return {
    taskArn: t.taskArn ?? "",
    lastStatus: t.lastStatus ?? "UNKNOWN",
    desiredStatus: t.desiredStatus ?? "UNKNOWN",
    healthStatus: t.healthStatus,
    group: t.group,
    taskDefinitionArn: t.taskDefinitionArn,
    address,
    startedAt: iso(t.startedAt),
    stoppedAt: iso(t.stoppedAt),
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    containers: (t.containers ?? []).map((c) => ({
      name: c.name ?? "",
      lastStatus: c.lastStatus,
      exitCode: c.exitCode,
      reason: c.reason,
    })),
  };
}
