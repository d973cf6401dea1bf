/**
 * The narrow view of Auto Scaling and EC2 the WeightedRecordSet reconciler needs. Implemented by `AwsAutoScalingApi`.
 * "Not found" is `undefined`; other failures are classified `AwsError`s.
 */
export interface AutoScalingApi {
  /** The group's instances and their lifecycle states; undefined when the group does not exist. */
  describeGroup(name: string, signal?: AbortSignal): Promise<GroupInstances | undefined>;
  /** Instance id -> private IPv4, for those of these instances of the group that have one. */
  privateIps(
    group: string,
    instanceIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>>;
  /** A lifecycle hook of the group; undefined when there is none of that name. */
  describeLifecycleHook(
    groupName: string,
    hookName: string,
    signal?: AbortSignal,
  ): Promise<LifecycleHook | undefined>;
  /** Lets an instance held by a lifecycle hook go on (`CONTINUE`). False when the action is already gone. */
  completeLifecycleAction(input: LifecycleActionInput, signal?: AbortSignal): Promise<boolean>;
}

export interface GroupInstances {
  readonly name: string;
  readonly instances: readonly GroupInstance[];
}

export interface GroupInstance {
  readonly instanceId: string;
  /** `InService`, `Pending`, `Terminating:Wait`, ... as Auto Scaling reports it. */
  readonly lifecycleState: string;
}

export interface LifecycleHook {
  /** `autoscaling:EC2_INSTANCE_TERMINATING` or `autoscaling:EC2_INSTANCE_LAUNCHING`. */
  readonly transition: string;
  /** Seconds the hook holds an instance before its default result applies. */
  readonly heartbeatTimeout: number;
}

export interface LifecycleActionInput {
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
}

/** The state a lifecycle hook holds a leaving instance in. */
export const TERMINATING_WAIT = "Terminating:Wait";
