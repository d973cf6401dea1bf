import type { ContainerRecord, ServiceEventRecord, TaskRecord } from "./observation.ts";
import { taskIdOf } from "./observation.ts";

/**
 * What an ECS service event or a stopped task means, in words a person acts on. The message shapes are those of
 * the Amazon ECS Developer Guide ("Service event messages", "API failure reasons", "Checking stopped tasks for
 * errors"): placement failures name the closest container instance's missing resource as `RESOURCE:CPU`,
 * `RESOURCE:MEMORY`, `RESOURCE:PORTS`, `RESOURCE:ENI` or `RESOURCE:GPU`, or `AGENT` / `ATTRIBUTE`.
 */

export type ServiceEventKind =
  | "steady-state"
  | "placement-failure"
  | "configuration-failure"
  | "start-impaired"
  | "deployment-failed"
  | "unhealthy"
  | "throttled"
  | "info";

/** Kinds that say the scheduler cannot keep the service at its desired count. */
export const FAILURE_KINDS: ReadonlySet<ServiceEventKind> = new Set([
  "placement-failure",
  "configuration-failure",
  "start-impaired",
  "deployment-failed",
  "unhealthy",
  "throttled",
]);

export interface EventMeaning {
  readonly kind: ServiceEventKind;
  /** CamelCase, for a condition's `reason`; absent for events that are not failures. */
  readonly reason?: string | undefined;
  /** The cause and what to do, in plain words; absent for events that are not failures. */
  readonly explanation?: string | undefined;
}

const PLACEMENT: Record<string, { reason: string; explanation: string }> = {
  ENI: {
    reason: "NoFreeEni",
    explanation:
      "no container instance has a free network interface (RESOURCE:ENI): every awsvpc task takes an ENI of its " +
      "own and each instance type allows only a few (a t2.medium has room for two task ENIs). Add instances, use " +
      "an instance type with more ENIs, or turn on ENI trunking (the awsvpcTrunking account setting).",
  },
  CPU: {
    reason: "InsufficientCpu",
    explanation:
      "no container instance has enough free CPU units for another task (RESOURCE:CPU; 1,024 units per vCPU). " +
      "Add instances or lower the task definition's cpu.",
  },
  MEMORY: {
    reason: "InsufficientMemory",
    explanation:
      "no container instance has enough free memory for another task (RESOURCE:MEMORY). Add instances or lower " +
      "the task definition's memory.",
  },
  PORTS: {
    reason: "HostPortInUse",
    explanation:
      "the task maps a fixed host port that is already taken on every instance (RESOURCE:PORTS): with fixed " +
      "ports only one task fits per instance. Add instances or use dynamic host ports (hostPort 0).",
  },
  GPU: {
    reason: "InsufficientGpu",
    explanation: "no container instance has the GPUs the task asks for (RESOURCE:GPU). Add GPU instances.",
  },
  FARGATE: {
    reason: "NoFargateCapacity",
    explanation:
      "AWS has no Fargate (Spot) capacity to give right now (RESOURCE:FARGATE). Give the on-demand FARGATE " +
      "capacity provider a weight, or wait.",
  },
  AGENT: {
    reason: "AgentDisconnected",
    explanation:
      "the ECS agent on the closest matching container instance is disconnected (AGENT): check that the agent " +
      "runs on the instance and can reach ECS.",
  },
  ATTRIBUTE: {
    reason: "MissingAttribute",
    explanation:
      "no container instance has an attribute the task needs (ATTRIBUTE), for example an awsvpc task with no " +
      "instance in the service's subnets, or a log driver the agent does not offer.",
  },
  NO_INSTANCES: {
    reason: "NoContainerInstances",
    explanation: "the cluster has no registered container instances: add instances to the cluster.",
  },
  QUOTA: {
    reason: "TaskQuotaReached",
    explanation:
      "the account has reached an ECS quota (concurrent tasks, vCPUs, or the CPU/memory configuration): ask for a " +
      "quota increase in Service Quotas.",
  },
};

function placement(resource: string): { reason: string; explanation: string } {
  return (
    PLACEMENT[resource] ?? {
      reason: "PlacementFailed",
      explanation: `ECS cannot place a task (${resource}).`,
    }
  );
}

/** Reads one event message of DescribeServices. */
export function explainServiceEvent(message: string): EventMeaning {
  if (/has reached a steady state/i.test(message)) return { kind: "steady-state" };
  if (/was unable to place a task/i.test(message)) {
    const resource = placementResource(message);
    return { kind: "placement-failure", ...placement(resource) };
  }
  if (/is unable to consistently start tasks successfully/i.test(message)) {
    return {
      kind: "start-impaired",
      reason: "TasksFailingToStart",
      explanation:
        "tasks fail to start again and again, so ECS waits longer between attempts: the stopped tasks' reasons " +
        "say why.",
    };
  }
  const launch = /failed to launch a task with \(error (.+)\)\.?$/i.exec(message);
  if (launch !== null) {
    return {
      kind: "configuration-failure",
      reason: "TaskLaunchFailed",
      explanation: sentence(`ECS could not launch a task: ${launch[1] ?? ""}`),
    };
  }
  if (/deployment failed|rolling back/i.test(message)) {
    return {
      kind: "deployment-failed",
      reason: "DeploymentFailed",
      explanation:
        "the deployment circuit breaker stopped the deployment because its tasks kept failing: the stopped tasks' " +
        "reasons say why.",
    };
  }
  if (/is unhealthy in/i.test(message)) {
    return {
      kind: "unhealthy",
      reason: "HealthChecksFailing",
      explanation: "a load balancer's health checks of the service's tasks fail.",
    };
  }
  if (/operations are being throttled/i.test(message)) {
    return {
      kind: "throttled",
      reason: "SchedulerThrottled",
      explanation:
        "the ECS service scheduler is being throttled by the ECS API's rate limits and will retry.",
    };
  }
  return { kind: "info" };
}

function placementResource(message: string): string {
  const err = /encountered error "([A-Z_]+)(?::([A-Z_]+))?"/.exec(message);
  if (err !== null) return err[1] === "RESOURCE" ? (err[2] ?? "RESOURCE") : (err[1] ?? "UNKNOWN");
  if (/insufficient CPU/i.test(message)) return "CPU";
  if (/insufficient memory/i.test(message)) return "MEMORY";
  if (/already using a port/i.test(message)) return "PORTS";
  if (/missing an attribute/i.test(message)) return "ATTRIBUTE";
  if (/no container instances were found/i.test(message)) return "NO_INSTANCES";
  if (/reached the limit|above your limit/i.test(message)) return "QUOTA";
  return "UNKNOWN";
}

/**
 * Reads an EventBridge "ECS Service Action" (or "ECS Deployment State Change") event name and its `reason`, as the
 * Amazon ECS Developer Guide lists them.
 */
export function explainServiceAction(eventName: string, reason: string | undefined): EventMeaning {
  switch (eventName) {
    case "SERVICE_STEADY_STATE":
    case "SERVICE_DEPLOYMENT_COMPLETED":
      return { kind: "steady-state" };
    case "SERVICE_TASK_PLACEMENT_FAILURE": {
      const m = /^RESOURCE:([A-Z_]+)$/.exec(reason ?? "");
      return { kind: "placement-failure", ...placement(m?.[1] ?? reason ?? "UNKNOWN") };
    }
    case "SERVICE_TASK_CONFIGURATION_FAILURE":
      return {
        kind: "configuration-failure",
        reason: "TaskConfigurationFailed",
        explanation:
          `ECS cannot place a task because of a configuration error${reason ? `: ${reason}` : ""} (for example ` +
          "a task role ECS cannot assume, or tags without the new ARN format).",
      };
    case "SERVICE_TASK_START_IMPAIRED":
      return explainServiceEvent("is unable to consistently start tasks successfully");
    case "SERVICE_DEPLOYMENT_FAILED":
      return explainServiceEvent("deployment failed");
    case "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY":
      return {
        kind: "unhealthy",
        reason: "ServiceDiscoveryUnhealthy",
        explanation: "a task registered in Cloud Map is unhealthy.",
      };
    case "ECS_OPERATION_THROTTLED":
    case "SERVICE_DISCOVERY_OPERATION_THROTTLED":
      return {
        kind: "throttled",
        reason: "SchedulerThrottled",
        explanation: `the ECS service scheduler is being throttled (${eventName}) and will retry.`,
      };
    default:
      return { kind: "info" };
  }
}

export interface StopMeaning {
  /** A stop that says something is wrong (as opposed to a scale-in, a deployment or a user's stop). */
  readonly failure: boolean;
  readonly reason: string;
  readonly explanation: string;
}

const SCHEDULER_ROUTINE = /Scaling activity initiated by|deployment|Service .* is being (deleted|stopped)/i;

/**
 * Why a task stopped. The stop codes are the ECS API's `TaskStopCode` values; the reasons' prefixes are those of
 * the Developer Guide's stopped task errors. Without a stop code (the emulator sets none) the reason is read alone.
 */
export function explainStop(task: TaskRecord): StopMeaning {
  const reason = task.stoppedReason ?? "";
  const said = reason !== "" ? `: ${reason}` : "";
  const container = failedContainer(task.containers);
  if (/^CannotPullContainerError/i.test(reason)) {
    return {
      failure: true,
      reason: "ImagePullFailed",
      explanation:
        `${sentence(`the image could not be pulled${said}`)} Check the image name and tag, the registry's permissions and the ` +
        "route to the registry (NAT gateway or VPC endpoints).",
    };
  }
  if (/^ResourceInitializationError/i.test(reason)) {
    return {
      failure: true,
      reason: "ResourceInitializationFailed",
      explanation:
        `${sentence(`ECS could not prepare the task${said}`)} Usually secrets, registry credentials or the log group cannot be ` +
        "read by the task execution role, or the network path to them is missing.",
    };
  }
  if (/^(CannotStartContainerError|CannotCreateContainerError|CannotInspectContainerError)/i.test(reason)) {
    return {
      failure: true,
      reason: "ContainerStartFailed",
      explanation: sentence(`a container did not start${said}`),
    };
  }
  if (/failed (ELB|container) health checks/i.test(reason)) {
    return {
      failure: true,
      reason: "HealthChecksFailed",
      explanation: sentence(`the task failed its health checks${said}`),
    };
  }
  if (container !== undefined && /OutOfMemory/i.test(container.reason ?? "")) {
    return {
      failure: true,
      reason: "OutOfMemory",
      explanation: `container ${container.name} ran out of memory (${container.reason ?? ""}): raise its memory.`,
    };
  }
  if (/^Host EC2 \(instance [^)]*\) (stopped|terminated)/i.test(reason)) {
    return {
      failure: false,
      reason: "HostStopped",
      explanation: `${sentence(`its EC2 instance was stopped or terminated (a scale-in or a replacement)${said}`)} ECS places a new task elsewhere.`,
    };
  }
  switch (task.stopCode) {
    case "TaskFailedToStart":
      return {
        failure: true,
        reason: "TaskFailedToStart",
        explanation: sentence(`the task failed to start${said}`),
      };
    case "EssentialContainerExited":
      return essentialExited(container, said);
    case "UserInitiated":
      return {
        failure: false,
        reason: "StoppedByUser",
        explanation: sentence(`someone stopped the task${said}`),
      };
    case "ServiceSchedulerInitiated":
      return SCHEDULER_ROUTINE.test(reason) || reason === ""
        ? {
            failure: false,
            reason: "StoppedByScheduler",
            explanation: sentence(`ECS stopped the task${said}`),
          }
        : {
            failure: true,
            reason: "StoppedByScheduler",
            explanation: sentence(`ECS stopped the task${said}`),
          };
    case "SpotInterruption":
    case "TerminationNotice":
      return {
        failure: false,
        reason: "Interrupted",
        explanation: sentence(`the task's capacity was reclaimed (${task.stopCode})${said}`),
      };
    case "InfrastructureHealth":
      return {
        failure: true,
        reason: "InfrastructureUnhealthy",
        explanation: sentence(`ECS stopped the task because its host was unhealthy${said}`),
      };
    default:
      break;
  }
  if (/Essential container in task exited/i.test(reason)) return essentialExited(container, said);
  if (/Task stopped by user|stopped by user/i.test(reason)) {
    return {
      failure: false,
      reason: "StoppedByUser",
      explanation: sentence(`someone stopped the task${said}`),
    };
  }
  if (SCHEDULER_ROUTINE.test(reason)) {
    return {
      failure: false,
      reason: "StoppedByScheduler",
      explanation: sentence(`ECS stopped the task${said}`),
    };
  }
  return { failure: false, reason: "Stopped", explanation: sentence(`the task stopped${said}`) };
}

/** Ends a sentence with one full stop, whatever the AWS text it quotes ends with. */
export function sentence(text: string): string {
  return text.replace(/[\s.]*$/, ".");
}

function essentialExited(container: ContainerRecord | undefined, said: string): StopMeaning {
  if (container === undefined) {
    return {
      failure: true,
      reason: "EssentialContainerExited",
      explanation: sentence(`an essential container exited${said}`),
    };
  }
  const code = container.exitCode !== undefined ? ` with code ${container.exitCode}` : "";
  const why = container.reason ? ` (${container.reason})` : "";
  return {
    failure: true,
    reason: "EssentialContainerExited",
    explanation: sentence(`essential container ${container.name} exited${code}${why}`),
  };
}

/** The container that explains a stop: one with a reason, else one that exited non-zero. */
function failedContainer(containers: readonly ContainerRecord[]): ContainerRecord | undefined {
  return (
    containers.find((c) => c.reason !== undefined && c.reason !== "") ??
    containers.find((c) => c.exitCode !== undefined && c.exitCode !== 0)
  );
}

/** A service event with what it means; what `/status` lists under a service's events. */
export interface ExplainedEvent extends ServiceEventRecord, EventMeaning {
  /** `service-events` (DescribeServices) or `eventbridge` (ECS Service Action). */
  readonly source: "service-events" | "eventbridge";
}

/** A stopped task with what its stop means. */
export interface ExplainedStop extends StopMeaning {
  readonly taskArn: string;
  readonly taskId: string;
  readonly stoppedAt: string | undefined;
  readonly stopCode: string | undefined;
  readonly stoppedReason: string | undefined;
  readonly containers: readonly ContainerRecord[];
}

export function explainedStop(task: TaskRecord, stoppedAt: string | undefined): ExplainedStop {
  return {
    taskArn: task.taskArn,
    taskId: taskIdOf(task.taskArn),
    stoppedAt,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    containers: task.containers.map((c) => ({
      name: c.name,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
    })),
    ...explainStop(task),
  };
}
