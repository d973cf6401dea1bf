import { AwsError } from "../../controllers/aws/errors.ts";
import { TerminalError } from "../../controllers/reconciler.ts";
import type { EcsTask, EcsTaskApi, TaskSelector } from "./ecs-task-api.ts";

/** A task that should receive traffic: RUNNING now and meant to stay so. */
export interface RunningTask {
  readonly taskId: string;
  readonly taskArn: string;
  /**
   * Private IPv4 the task is reached at; undefined when it could not be read: ECS has not reported it yet, or a read
   * answered without it (a `failures` entry of DescribeTasks or DescribeContainerInstances, an instance EC2 did not
   * return). Callers leave what they registered for such a task as it is: an unanswered read is never a deletion.
   */
  readonly address: string | undefined;
  /** Container health as ECS reports it. */
  readonly health: "HEALTHY" | "UNHEALTHY" | "UNKNOWN";
}

/** The API's batch limit for DescribeTasks and DescribeContainerInstances. */
export const DESCRIBE_BATCH = 100;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION` -> FAMILY. */
export function familyOf(taskDefinitionArn: string | undefined): string | undefined {
  const m = /:task-definition\/([^:]+):\d+$/.exec(taskDefinitionArn ?? "");
  return m?.[1];
}

export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf("/") + 1);
}

/**
 * A task that is leaving (desired STOPPED while still RUNNING) gets no traffic, so it counts as gone: its
 * registration is removed while it drains.
 */
export function isServing(task: EcsTask): boolean {
  return task.lastStatus === "RUNNING" && task.desiredStatus === "RUNNING";
}

/** The awsvpc address: the private IPv4 of the task's ENI attachment. */
export function eniAddress(task: EcsTask): string | undefined {
  for (const a of task.attachments) {
    if (a.type !== "ElasticNetworkInterface") continue;
    const ip = a.details.find((d) => d.name === "privateIPv4Address")?.value;
    if (ip) return ip;
  }
  return undefined;
}

/**
 * The address of a task: its ENI's private IPv4 in awsvpc mode; in bridge or host mode the private IPv4 of the EC2
 * instance behind its container instance (`instanceIps`: container instance ARN -> IP).
 */
export function taskAddress(task: EcsTask, instanceIps: ReadonlyMap<string, string>): string | undefined {
  return (
    eniAddress(task) ??
    (task.containerInstanceArn !== undefined ? instanceIps.get(task.containerInstanceArn) : undefined)
  );
}

function normaliseHealth(h: string | undefined): RunningTask["health"] {
  return h === "HEALTHY" || h === "UNHEALTHY" ? h : "UNKNOWN";
}

/**
 * The selector's cluster, or its service, does not exist (ListTasks: ClusterNotFoundException,
 * ServiceNotFoundException): a problem of the spec's `cluster` or `service` field (`field`), which callers locate.
 * Nothing is read as gone: the spec fails, what it made stays.
 */
export class EcsSelectorNotFoundError extends TerminalError {
  readonly field: "cluster" | "service";
  constructor(field: "cluster" | "service", message: string, options?: ErrorOptions) {
    super(message, options);
    this.field = field;
  }
}

/**
 * The serving tasks of a service or family: ListTasks pages, DescribeTasks in batches of 100, and for tasks without
 * an ENI one DescribeContainerInstances per 100 container instances plus DescribeInstances for their addresses.
 */
export async function observeRunningTasks(
  api: EcsTaskApi,
  selector: TaskSelector,
  signal?: AbortSignal,
): Promise<RunningTask[]> {
  const arns = await api.listRunningTaskArns(selector, signal).catch((error: unknown) => {
    if (error instanceof AwsError && error.errorClass === "not-found") {
      if (error.code === "ServiceNotFoundException" && selector.service !== undefined) {
        throw new EcsSelectorNotFoundError(
          "service",
          `ECS service "${selector.service}" does not exist in cluster "${selector.cluster}" (${error.code}): ` +
            "create the service or fix the name",
          { cause: error },
        );
      }
      throw new EcsSelectorNotFoundError(
        "cluster",
        `ECS cluster "${selector.cluster}" does not exist (${error.code}): create the cluster or fix the name`,
        { cause: error },
      );
    }
    throw error;
  });
  const batches = await Promise.all(
    chunk(arns, DESCRIBE_BATCH).map((b) => api.describeTasks(selector.cluster, b, signal)),
  );
  // A service's tasks carry `group: service:NAME`; checking it as well costs nothing on AWS and keeps another
  // service's tasks out where ListTasks' serviceName filter is not honoured (the emulator ignores it).
  const described = batches.flat();
  // ListTasks listed these as RUNNING and DescribeTasks answered for them with a `failures` entry (or not at all).
  // They are kept as tasks whose address is unknown, so that what they had stays until a read says they stopped.
  const answered = new Set(described.map((t) => t.taskArn));
  const unanswered = arns.filter((arn) => !answered.has(arn));
  const tasks = described
    .filter(isServing)
    .filter((t) => selector.service === undefined || t.group === `service:${selector.service}`)
    .filter((t) => selector.family === undefined || familyOf(t.taskDefinitionArn) === selector.family);
  const needInstance = [
    ...new Set(
      tasks
        .filter((t) => eniAddress(t) === undefined && t.containerInstanceArn !== undefined)
        .map((t) => t.containerInstanceArn as string),
    ),
  ];
  const instanceIps = new Map<string, string>();
  if (needInstance.length > 0) {
    const ciToEc2 = new Map<string, string>();
    for (const b of chunk(needInstance, DESCRIBE_BATCH)) {
      for (const [k, v] of await api.describeContainerInstances(selector.cluster, b, signal))
        ciToEc2.set(k, v);
    }
    const ips = await api.describeInstancePrivateIps([...new Set(ciToEc2.values())], signal);
    for (const [ci, ec2] of ciToEc2) {
      const ip = ips.get(ec2);
      if (ip !== undefined) instanceIps.set(ci, ip);
    }
  }
  return [
    ...tasks.map((t) => ({
      taskId: taskIdOf(t.taskArn),
      taskArn: t.taskArn,
      address: taskAddress(t, instanceIps),
      health: normaliseHealth(t.healthStatus),
    })),
    ...unanswered.map((arn) => ({
      taskId: taskIdOf(arn),
      taskArn: arn,
      address: undefined,
      health: "UNKNOWN" as const,
    })),
  ].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}
