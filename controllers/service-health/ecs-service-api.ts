import type { ServiceDescription, TaskDefinitionSummary, TaskRecord } from "./observation.ts";

/**
 * The narrow view of ECS that service health reads the watched services through (and `inspect` builds on).
 * Implemented by `AwsEcsServiceApi`; nothing past it sees an SDK type. Reads only.
 */
export interface EcsServiceApi {
  /** DescribeServices (at most 10 names a call: the API's limit); services ECS reports MISSING are left out. */
  describeServices(
    cluster: string,
    services: readonly string[],
    signal?: AbortSignal,
  ): Promise<ServiceDescription[]>;
  /** DescribeTaskDefinition of an ARN or `family:revision`; undefined when it does not exist. */
  describeTaskDefinition(
    taskDefinition: string,
    signal?: AbortSignal,
  ): Promise<TaskDefinitionSummary | undefined>;
  /** Every page of ListTasks for a service's (or family's) tasks with this desired status. */
  listTaskArns(
    cluster: string,
    of: { readonly service?: string | undefined; readonly family?: string | undefined },
    desiredStatus: "RUNNING" | "STOPPED",
    signal?: AbortSignal,
  ): Promise<string[]>;
  /** DescribeTasks, at most 100 ARNs a call (the API's limit). */
  describeTasks(cluster: string, taskArns: readonly string[], signal?: AbortSignal): Promise<TaskRecord[]>;
}

/** DescribeServices takes at most 10 services a call; DescribeTasks at most 100 tasks. */
export const DESCRIBE_SERVICES_BATCH = 10;
export const DESCRIBE_TASKS_BATCH = 100;
