import type { TaskDefinitionJson } from "./task-definition.ts";

/** One registered revision, as the reconciler needs it. */
export interface ObservedTaskDefinition {
  readonly arn: string;
  readonly revision: number;
  /** ACTIVE, INACTIVE or DELETE_IN_PROGRESS. */
  readonly status?: string | undefined;
  /** RegisterTaskDefinition input form (see `toRegisterInput`). */
  readonly definition: TaskDefinitionJson;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
}

export interface ObservedService {
  readonly cluster: string;
  readonly service: string;
  /** The revision the service's primary deployment runs. */
  readonly taskDefinitionArn: string;
}

/** The narrow view of ECS task definitions and services that the task definition reconciler uses. */
export interface TaskDefinitionApi {
  /** The family's latest ACTIVE revision, or undefined when it has none. */
  describeLatest(family: string, signal?: AbortSignal): Promise<ObservedTaskDefinition | undefined>;
  /** One revision by ARN or `family:revision`, or undefined when it does not exist. */
  describe(taskDefinition: string, signal?: AbortSignal): Promise<ObservedTaskDefinition | undefined>;
  register(
    definition: TaskDefinitionJson,
    tags: readonly { key: string; value: string }[],
    signal?: AbortSignal,
  ): Promise<{ arn: string; revision: number }>;
  /** Undefined when the service does not exist (or is INACTIVE). */
  describeService(
    cluster: string,
    service: string,
    signal?: AbortSignal,
  ): Promise<ObservedService | undefined>;
  /** UpdateService with a new task definition: ECS starts a deployment to it. */
  updateServiceTaskDefinition(
    cluster: string,
    service: string,
    taskDefinitionArn: string,
    signal?: AbortSignal,
  ): Promise<void>;
}
