import { formatWatchKey } from "../../controllers/informers.ts";
/**
 * The narrow view of ECS and EC2 that target discovery needs. Implemented by `AwsEcsTaskApi`; planners never see an
 * SDK type.
 */
export interface EcsTaskApi {
  /** Every page of ListTasks for tasks whose desired status is RUNNING. */
  listRunningTaskArns(selector: TaskSelector, signal?: AbortSignal): Promise<string[]>;
  /** DescribeTasks; at most 100 ARNs a call (the API's limit). An ARN it could not describe is absent from the answer. */
  describeTasks(cluster: string, taskArns: readonly string[], signal?: AbortSignal): Promise<EcsTask[]>;
  /**
   * DescribeContainerInstances; at most 100 ARNs a call. Container instance ARN -> EC2 instance id; one it could not
   * describe is absent.
   */
  describeContainerInstances(
    cluster: string,
    arns: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>>;
  /** EC2 DescribeInstances, every page. Instance id -> private IPv4. */
  describeInstancePrivateIps(
    instanceIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>>;
}

/** The tasks of one ECS service, or of one task definition family, in a cluster. */
export interface TaskSelector {
  readonly cluster: string;
  readonly service?: string | undefined;
  readonly family?: string | undefined;
}

export interface EcsAttachment {
  readonly type: string;
  readonly details: readonly { readonly name: string; readonly value: string }[];
}

/** The fields of a DescribeTasks answer that we use. */
export interface EcsTask {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  readonly healthStatus?: string | undefined;
  readonly attachments: readonly EcsAttachment[];
  readonly containerInstanceArn?: string | undefined;
  readonly group?: string | undefined;
  readonly taskDefinitionArn?: string | undefined;
}

/** The watch key that wakes the specs reading these tasks when they start or stop. */
export function taskWatchKey(s: TaskSelector): string {
  return formatWatchKey(
    s.service !== undefined
      ? { type: "ecs-service", cluster: s.cluster, service: s.service }
      : { type: "ecs-family", cluster: s.cluster, family: s.family ?? "" },
  );
}
