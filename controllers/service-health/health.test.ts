import { describe, expect, it } from "vitest";
import { explainServiceEvent, explainStop } from "./explain.ts";
import { assessServiceHealth, isStopped, type HealthInput } from "./health.ts";
import type { ServiceDescription, TaskRecord } from "./observation.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const ago = (minutes: number): string => new Date(NOW - minutes * 60_000).toISOString();

function service(overrides: Partial<ServiceDescription> = {}): ServiceDescription {
  return {
    cluster: "logs",
    name: "fluentd",
    arn: "arn:aws:ecs:ap-northeast-1:123456789012:service/logs/fluentd",
    status: "ACTIVE",
    desiredCount: 3,
    runningCount: 3,
    pendingCount: 0,
    taskDefinition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/fluentd:7",
    serviceRegistries: [],
    subnets: [],
    deployments: [],
    events: [],
    ...overrides,
  };
}

function stopped(
  id: string,
  minutesAgo: number,
  fields: Partial<TaskRecord> = {},
): HealthInput["stopped"][number] {
  return {
    task: {
      taskArn: `arn:aws:ecs:ap-northeast-1:123456789012:task/logs/${id}`,
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      group: "service:fluentd",
      stoppedAt: ago(minutesAgo),
      containers: [],
      ...fields,
    },
    seenAt: ago(minutesAgo),
  };
}

// Seed 000: a t2.medium has room for two task ENIs; the third task of the log service could not be placed.
const ENI_EVENT =
  "(service fluentd) was unable to place a task because no container instance met all of its requirements. The " +
  'closest matching (container-instance 5f1c4d3e9a7b4c2d8e6f0a1b2c3d4e5f) encountered error "RESOURCE:ENI". For ' +
  "more information, see the Troubleshooting section.";
const CPU_EVENT =
  "(service fluentd) was unable to place a task because no container instance met all of its requirements. The " +
  "closest matching (container-instance 5f1c4d3e) has insufficient CPU units available. For more information, see " +
  "the Troubleshooting section.";
const MEMORY_EVENT =
  "(service fluentd) was unable to place a task because no container instance met all of its requirements. The " +
  "closest matching (container-instance 5f1c4d3e) has insufficient memory available. For more information, see the " +
  "Troubleshooting section.";
const STEADY = "(service fluentd) has reached a steady state.";

const assess = (input: Partial<HealthInput>, now = NOW) =>
  assessServiceHealth(
    { cluster: "logs", service: "fluentd", description: service(), stopped: [], ...input },
    { now },
  );

describe("explainServiceEvent", () => {
  it.each([
    [ENI_EVENT, "placement-failure", "NoFreeEni", /ENI trunking/],
    [CPU_EVENT, "placement-failure", "InsufficientCpu", /CPU units/],
    [MEMORY_EVENT, "placement-failure", "InsufficientMemory", /free memory/],
    [
      "(service web) was unable to place a task because no container instance met all of its requirements. The " +
        "closest matching (container-instance abc) is already using a port required by your task.",
      "placement-failure",
      "HostPortInUse",
      /dynamic host ports/,
    ],
    [
      "(service web) was unable to place a task because no container instance met all of its requirements. " +
        "Reason: No Container Instances were found in your cluster.",
      "placement-failure",
      "NoContainerInstances",
      /no registered container instances/,
    ],
    [
      '(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance abc) encountered error "AGENT".',
      "placement-failure",
      "AgentDisconnected",
      /agent/,
    ],
    [
      "(service web) is unable to consistently start tasks successfully.",
      "start-impaired",
      "TasksFailingToStart",
      /stopped tasks' reasons/,
    ],
    [
      "(service web) failed to launch a task with (error ECS was unable to assume the role 'arn:aws:iam::1:role/x').",
      "configuration-failure",
      "TaskLaunchFailed",
      /unable to assume the role/,
    ],
    [
      "(service web) (deployment ecs-svc/123) deployment failed: tasks failed to start.",
      "deployment-failed",
      "DeploymentFailed",
      /circuit breaker/,
    ],
  ])("%s", (message, kind, reason, explanation) => {
    const m = explainServiceEvent(message);
    expect([m.kind, m.reason]).toEqual([kind, reason]);
    expect(m.explanation).toMatch(explanation);
  });

  it.each([
    STEADY,
    "(service web) has started 2 tasks: (task a) (task b).",
    "(service web) has stopped 1 running tasks: (task a).",
  ])("%s is not a failure", (message) => {
    expect(explainServiceEvent(message).reason).toBeUndefined();
  });
});

describe("explainStop", () => {
  const task = (fields: Partial<TaskRecord>): TaskRecord => ({
    taskArn: "arn:aws:ecs:r:1:task/logs/t1",
    lastStatus: "STOPPED",
    desiredStatus: "STOPPED",
    containers: [],
    ...fields,
  });
  it.each([
    // Seed 002: a failed deploy's tasks "go PENDING and vanish": they stop before they run.
    [
      task({
        stopCode: "TaskFailedToStart",
        stoppedReason:
          "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref " +
          "docker.io/library/fluentd:v9: not found",
      }),
      true,
      "ImagePullFailed",
      /could not be pulled: CannotPullContainerError.*fluentd:v9.*image name and tag/,
    ],
    [
      task({
        stopCode: "TaskFailedToStart",
        stoppedReason:
          "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed",
      }),
      true,
      "ResourceInitializationFailed",
      /task execution role/,
    ],
    [
      task({
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        containers: [
          { name: "log_router", exitCode: 0 },
          { name: "fluentd", exitCode: 1 },
        ],
      }),
      true,
      "EssentialContainerExited",
      /essential container fluentd exited with code 1/,
    ],
    [
      task({
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        containers: [
          {
            name: "fluentd",
            exitCode: 137,
            reason: "OutOfMemoryError: Container killed due to memory usage",
          },
        ],
      }),
      true,
      "OutOfMemory",
      /fluentd ran out of memory/,
    ],
    [
      task({
        stopCode: "ServiceSchedulerInitiated",
        stoppedReason: "Task failed ELB health checks in (target-group arn:...)",
      }),
      true,
      "HealthChecksFailed",
      /health checks/,
    ],
    [
      task({
        stopCode: "ServiceSchedulerInitiated",
        stoppedReason: "Scaling activity initiated by (deployment ecs-svc/1)",
      }),
      false,
      "StoppedByScheduler",
      /Scaling activity/,
    ],
    [
      task({ stopCode: "UserInitiated", stoppedReason: "draining node for kernel patch" }),
      false,
      "StoppedByUser",
      /draining node/,
    ],
    [task({ stopCode: "SpotInterruption" }), false, "Interrupted", /SpotInterruption/],
    [
      task({
        stopCode: "ServiceSchedulerInitiated",
        stoppedReason: "Host EC2 (instance i-0d4c5e6f) terminated.",
      }),
      false,
      "HostStopped",
      /EC2 instance was stopped or terminated.*i-0d4c5e6f\) terminated\. ECS places a new task elsewhere\.$/,
    ],
    // The emulator sets no stop code: the reason is read alone.
    [
      task({ stoppedReason: "Essential container in task exited" }),
      true,
      "EssentialContainerExited",
      /exited/,
    ],
    [task({ stoppedReason: "rebalancing" }), false, "Stopped", /rebalancing/],
  ])("%#: %o", (t, failure, reason, explanation) => {
    const m = explainStop(t);
    expect([m.failure, m.reason]).toEqual([failure, reason]);
    expect(m.explanation).toMatch(explanation);
  });
});

describe("assessServiceHealth", () => {
  it("is healthy at the desired count with no failure since the last steady state", () => {
    const h = assess({
      description: service({
        events: [
          { id: "e2", createdAt: ago(5), message: STEADY },
          { id: "e1", createdAt: ago(30), message: ENI_EVENT },
        ],
      }),
    });
    expect([h.degraded, h.reason, h.message]).toEqual([false, "Healthy", "logs/fluentd runs 3 of 3 tasks."]);
    expect(h.events.map((e) => [e.id, e.kind])).toEqual([
      ["e2", "steady-state"],
      ["e1", "placement-failure"],
    ]);
  });

  it("seed 000: two of three tasks and an ENI placement failure is Degraded NoFreeEni, with the cause", () => {
    const h = assess({
      description: service({
        runningCount: 2,
        events: [
          { id: "e3", createdAt: ago(50), message: ENI_EVENT },
          { id: "e2", createdAt: ago(55), message: "(service fluentd) has started 1 tasks: (task abc)." },
          { id: "e1", createdAt: ago(60), message: STEADY },
        ],
      }),
    });
    expect([h.degraded, h.reason]).toEqual([true, "NoFreeEni"]);
    // Fifty minutes old, but the service is still short: ECS repeats the event only every six hours.
    expect(h.message).toMatch(
      /^logs\/fluentd runs 2 of 3 tasks\. ECS: no container instance has a free network interface/,
    );
    expect(h.message).toMatch(/t2\.medium has room for two task ENIs/);
  });

  it.each([
    [CPU_EVENT, "InsufficientCpu"],
    [MEMORY_EVENT, "InsufficientMemory"],
  ])("a %s placement failure while short of tasks names the resource", (message, reason) => {
    const h = assess({
      description: service({ runningCount: 1, events: [{ id: "e1", createdAt: ago(2), message }] }),
    });
    expect([h.degraded, h.reason]).toEqual([true, reason]);
  });

  it("seed 002: tasks that go PENDING and vanish are Degraded with their stop reason", () => {
    const pull = {
      stopCode: "TaskFailedToStart",
      stoppedReason:
        "CannotPullContainerError: failed to resolve ref docker.io/library/fluentd:v9: not found",
    };
    const h = assess({
      description: service({ runningCount: 0, pendingCount: 1 }),
      stopped: [stopped("t1", 3, { ...pull, lastStatus: "PENDING" }), stopped("t2", 1, pull)],
    });
    expect([h.degraded, h.reason]).toEqual([true, "ImagePullFailed"]);
    expect(h.message).toBe(
      "logs/fluentd runs 0 of 3 tasks (1 pending). Task t2 stopped: the image could not be pulled: " +
        "CannotPullContainerError: failed to resolve ref docker.io/library/fluentd:v9: not found. Check the image " +
        "name and tag, the registry's permissions and the route to the registry (NAT gateway or VPC endpoints). " +
        "(2 tasks failed in the last 10 min)",
    );
    expect(h.stops.map((s) => s.taskId)).toEqual(["t2", "t1"]);
  });

  it("a crash loop at the desired count is Degraded while its failures are recent, then not", () => {
    const input = {
      stopped: [
        stopped("t1", 4, {
          stopCode: "EssentialContainerExited",
          containers: [{ name: "fluentd", exitCode: 1 }],
        }),
      ],
    };
    expect(assess(input).reason).toBe("EssentialContainerExited");
    const later = assess(input, NOW + 7 * 60_000);
    expect([later.degraded, later.reason]).toEqual([false, "Healthy"]);
    expect(later.stops).toHaveLength(1);
  });

  it("a stop by hand while short of tasks is BelowDesiredCount with the stop's reason", () => {
    const h = assess({
      description: service({ runningCount: 2 }),
      stopped: [stopped("t1", 1, { stopCode: "UserInitiated", stoppedReason: "testing the page" })],
    });
    expect([h.degraded, h.reason, h.message]).toEqual([
      true,
      "BelowDesiredCount",
      "logs/fluentd runs 2 of 3 tasks. Task t1 stopped: someone stopped the task: testing the page.",
    ]);
  });

  it("counts from the task listing win over the description's", () => {
    // The emulator's DescribeServices counts no task started by RunTask.
    const h = assess({
      description: service({ runningCount: 0, pendingCount: 3 }),
      counts: { running: 3, pending: 0 },
    });
    expect([h.running, h.pending, h.degraded]).toEqual([3, 0, false]);
  });

  it("tasks starting with no failure reported is TasksStarting", () => {
    const h = assess({ description: service({ runningCount: 1, pendingCount: 2 }) });
    expect([h.reason, h.message]).toEqual([
      "TasksStarting",
      "logs/fluentd runs 1 of 3 tasks (2 pending): ECS is starting tasks.",
    ]);
  });

  it("a failed primary deployment is DeploymentFailed", () => {
    const h = assess({
      description: service({
        deployments: [
          {
            id: "ecs-svc/9",
            status: "PRIMARY",
            taskDefinition: "td:8",
            desiredCount: 3,
            runningCount: 0,
            pendingCount: 0,
            failedTasks: 6,
            rolloutState: "FAILED",
            rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
          },
        ],
      }),
    });
    expect([h.reason, h.message]).toEqual([
      "DeploymentFailed",
      "logs/fluentd runs 3 of 3 tasks. Its deployment ecs-svc/9 failed: ECS deployment circuit breaker: tasks failed to start.",
    ]);
  });

  it("an EventBridge placement failure marks a service at its desired count Degraded for a while", () => {
    const signal = {
      id: "eb-1",
      createdAt: ago(1),
      message: "SERVICE_TASK_PLACEMENT_FAILURE: RESOURCE:MEMORY",
      source: "eventbridge" as const,
      kind: "placement-failure" as const,
      reason: "InsufficientMemory",
      explanation: "no container instance has enough free memory",
    };
    expect(assess({ signals: [signal] }).reason).toBe("InsufficientMemory");
    expect(assess({ signals: [signal] }, NOW + 30 * 60_000).degraded).toBe(false);
    // A later steady state clears it at once.
    const steady = {
      ...signal,
      id: "eb-2",
      createdAt: ago(0),
      kind: "steady-state" as const,
      reason: undefined,
    };
    expect(assess({ signals: [signal, steady] }).degraded).toBe(false);
  });

  it("a missing or inactive service is Degraded", () => {
    expect(assess({ description: undefined }).reason).toBe("ServiceNotFound");
    expect(assess({ description: service({ status: "DRAINING" }) }).reason).toBe("ServiceInactive");
  });

  it("keeps only the latest events and stops", () => {
    const events = Array.from({ length: 100 }, (_, i) => ({
      id: `e${i}`,
      createdAt: ago(i),
      message: STEADY,
    }));
    const stops = Array.from({ length: 40 }, (_, i) => stopped(`t${i}`, 100 + i));
    const h = assess({ description: service({ events }), stopped: stops });
    expect(h.events.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
    expect(h.stops.map((s) => s.taskId)).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
  });

  it("a task being drained is not a stop yet; one that never ran is", () => {
    const base = { taskArn: "a", containers: [] };
    expect(isStopped({ ...base, lastStatus: "RUNNING", desiredStatus: "STOPPED" })).toBe(false);
    expect(isStopped({ ...base, lastStatus: "PENDING", desiredStatus: "STOPPED" })).toBe(true);
    expect(isStopped({ ...base, lastStatus: "STOPPED", desiredStatus: "STOPPED" })).toBe(true);
  });
});
