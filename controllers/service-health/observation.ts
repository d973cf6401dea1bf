/**
 * What is observed about a watched ECS service, in our own terms: the fields of DescribeServices, DescribeTasks and
 * DescribeTaskDefinition that health, `/status` and `inspect` read. Adapters fill these; nothing past them sees an
 * SDK type. Times are ISO 8601 strings (DescribeTasks gives Dates, EventBridge gives strings: both end up here).
 */

/** One entry of a service's event log. DescribeServices returns the latest 100, newest first. */
export interface ServiceEventRecord {
  readonly id: string;
  readonly createdAt: string;
  readonly message: string;
}

export interface DeploymentRecord {
  readonly id: string;
  /** PRIMARY (the newest), ACTIVE (being replaced) or INACTIVE. */
  readonly status: string;
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
  /** Tasks of this deployment that failed to reach RUNNING. */
  readonly failedTasks: number;
  /** COMPLETED, FAILED or IN_PROGRESS (with the deployment circuit breaker or ECS deployments). */
  readonly rolloutState?: string | undefined;
  readonly rolloutStateReason?: string | undefined;
}

export interface ServiceRegistryRecord {
  readonly registryArn: string;
  readonly containerName?: string | undefined;
  readonly containerPort?: number | undefined;
  readonly port?: number | undefined;
}

/** One service as DescribeServices describes it. */
export interface ServiceDescription {
  readonly cluster: string;
  readonly name: string;
  readonly arn: string;
  /** ACTIVE, DRAINING or INACTIVE. */
  readonly status: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
  readonly launchType?: string | undefined;
  readonly taskDefinition: string;
  readonly serviceRegistries: readonly ServiceRegistryRecord[];
  /** Set for awsvpc services. */
  readonly subnets: readonly string[];
  readonly deployments: readonly DeploymentRecord[];
  /** Newest first. */
  readonly events: readonly ServiceEventRecord[];
}

export interface ContainerRecord {
  readonly name: string;
  readonly lastStatus?: string | undefined;
  readonly exitCode?: number | undefined;
  /** Why the container stopped, e.g. `OutOfMemoryError: Container killed due to memory usage`. */
  readonly reason?: string | undefined;
}

/** A task as DescribeTasks, or an ECS Task State Change event, describes it. */
export interface TaskRecord {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  readonly healthStatus?: string | undefined;
  /** `service:NAME` for a service's task, `family:NAME` for a standalone one. */
  readonly group?: string | undefined;
  readonly taskDefinitionArn?: string | undefined;
  /** The awsvpc ENI's private IPv4, when the task has one. */
  readonly address?: string | undefined;
  readonly startedAt?: string | undefined;
  readonly stoppedAt?: string | undefined;
  /** TaskFailedToStart, EssentialContainerExited, UserInitiated, ServiceSchedulerInitiated, ... */
  readonly stopCode?: string | undefined;
  readonly stoppedReason?: string | undefined;
  readonly containers: readonly ContainerRecord[];
}

/** A task definition revision, as far as `inspect` shows it. */
export interface TaskDefinitionSummary {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly networkMode: string;
  readonly containers: readonly { readonly name: string; readonly image: string }[];
}

export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf("/") + 1);
}

/** `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME` (or the old `service/NAME`) -> { cluster, name }. */
export function parseServiceArn(arn: string): { cluster: string | undefined; name: string } | undefined {
  const m = /^arn:[^:]+:ecs:[^:]*:[^:]*:service\/(?:([^/]+)\/)?([^/]+)$/.exec(arn);
  if (m?.[2] === undefined) return undefined;
  return { cluster: m[1], name: m[2] };
}
