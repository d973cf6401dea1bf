import { describe, expect, it } from "vitest";
import type { EcsTask, EcsTaskApi, TaskSelector } from "./ecs-task-api.ts";
import { familyOf, observeRunningTasks, taskAddress } from "./running-tasks.ts";

const eni = (ip: string) => [
  {
    type: "ElasticNetworkInterface",
    details: [
      { name: "networkInterfaceId", value: "eni-1" },
      { name: "privateIPv4Address", value: ip },
    ],
  },
];

function task(id: string, over: Partial<EcsTask> = {}): EcsTask {
  return {
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/logs/${id}`,
    lastStatus: "RUNNING",
    desiredStatus: "RUNNING",
    attachments: [],
    group: "service:fluentd",
    taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/fluentd:3",
    ...over,
  };
}

/** Answers from a fixed list, recording the batch sizes asked for: the pure logic's only collaborator. */
class ListedTasks implements EcsTaskApi {
  readonly describeBatches: number[] = [];
  readonly tasks: EcsTask[];
  constructor(tasks: EcsTask[]) {
    this.tasks = tasks;
  }
  async listRunningTaskArns(_s: TaskSelector): Promise<string[]> {
    return this.tasks.map((t) => t.taskArn);
  }
  async describeTasks(_c: string, arns: readonly string[]): Promise<EcsTask[]> {
    this.describeBatches.push(arns.length);
    return this.tasks.filter((t) => arns.includes(t.taskArn));
  }
  async describeContainerInstances(_c: string, arns: readonly string[]): Promise<Map<string, string>> {
    return new Map(arns.map((a) => [a, `i-${a.slice(-1)}`]));
  }
  async describeInstancePrivateIps(ids: readonly string[]): Promise<Map<string, string>> {
    return new Map(ids.map((id) => [id, `10.0.0.${id.slice(-1)}`]));
  }
}

describe("taskAddress", () => {
  it("is the ENI's private IPv4 for an awsvpc task", () => {
    expect(taskAddress(task("a", { attachments: eni("10.1.2.3") }), new Map())).toBe("10.1.2.3");
  });
  it("is the container instance's private IPv4 for a bridge or host task", () => {
    const t = task("b", { containerInstanceArn: "ci-1" });
    expect(taskAddress(t, new Map([["ci-1", "10.0.0.9"]]))).toBe("10.0.0.9");
  });
  it("is unknown when neither is reported yet", () => {
    expect(taskAddress(task("c"), new Map())).toBeUndefined();
  });
});

describe("familyOf", () => {
  it("reads the family out of a task definition ARN", () => {
    expect(familyOf("arn:aws:ecs:us-east-1:1:task-definition/log-batch:12")).toBe("log-batch");
    expect(familyOf(undefined)).toBeUndefined();
  });
});

describe("observeRunningTasks", () => {
  it("describes in batches of 100 and keeps only serving tasks of the selected service", async () => {
    const tasks = Array.from({ length: 250 }, (_, i) =>
      task(`t${String(i).padStart(3, "0")}`, { attachments: eni(`10.2.0.${i % 250}`) }),
    );
    tasks.push(task("leaving", { desiredStatus: "STOPPED" }));
    tasks.push(task("pending", { lastStatus: "PENDING" }));
    tasks.push(task("other", { group: "service:other" }));
    const api = new ListedTasks(tasks);
    const running = await observeRunningTasks(api, { cluster: "logs", service: "fluentd" });
    expect(api.describeBatches).toEqual([100, 100, 53]);
    expect(running).toHaveLength(250);
    expect(running[0]).toEqual({
      taskId: "t000",
      taskArn: tasks[0]!.taskArn,
      address: "10.2.0.0",
      health: "UNKNOWN",
    });
  });

  it("resolves bridge tasks through their container instance once per instance", async () => {
    const api = new ListedTasks([
      task("a", { containerInstanceArn: "ci-1", healthStatus: "HEALTHY" }),
      task("b", { containerInstanceArn: "ci-1", healthStatus: "UNHEALTHY" }),
    ]);
    const running = await observeRunningTasks(api, { cluster: "logs", family: "fluentd" });
    expect(running.map((r) => [r.taskId, r.address, r.health])).toEqual([
      ["a", "10.0.0.1", "HEALTHY"],
      ["b", "10.0.0.1", "UNHEALTHY"],
    ]);
  });
});

describe("observeRunningTasks when a describe answers with failures", () => {
  it("keeps a listed task DescribeTasks did not return, and a task whose container instance failed, as unaddressed", async () => {
    const api = new ListedTasks([
      task("a", { attachments: eni("10.2.0.1") }),
      task("b", { attachments: eni("10.2.0.2") }),
      task("c", { containerInstanceArn: "ci-1" }),
    ]);
    // ECS: `failures: [{ arn, reason: "MISSING" }]` for b; the container instance of c likewise.
    api.describeTasks = async (_c, arns) =>
      api.tasks.filter((t) => arns.includes(t.taskArn) && !t.taskArn.endsWith("/b"));
    api.describeContainerInstances = async () => new Map();
    const running = await observeRunningTasks(api, { cluster: "logs", service: "fluentd" });
    expect(running.map((r) => [r.taskId, r.address, r.health])).toEqual([
      ["a", "10.2.0.1", "UNKNOWN"],
      ["b", undefined, "UNKNOWN"],
      ["c", undefined, "UNKNOWN"],
    ]);
  });
});

describe("observeRunningTasks on a missing cluster", () => {
  it("says which cluster is missing, as an error retrying cannot fix", async () => {
    const { AwsError } = await import("../../controllers/aws/errors.ts");
    const { TerminalError } = await import("../../controllers/reconciler.ts");
    const api = new ListedTasks([]);
    api.listRunningTaskArns = async () => {
      throw new AwsError("not-found", "ecs", "ListTasks", "ClusterNotFoundException", "Cluster not found.");
    };
    const failure = observeRunningTasks(api, { cluster: "logs", service: "fluentd" });
    await expect(failure).rejects.toBeInstanceOf(TerminalError);
    await expect(failure).rejects.toThrow('ECS cluster "logs" does not exist (ClusterNotFoundException)');
    await expect(failure).rejects.toMatchObject({ field: "cluster" });
  });

  it("names the service, not the cluster, when ListTasks answers ServiceNotFoundException", async () => {
    // ListTasks with a serviceName ECS does not know fails so (the emulator ignores serviceName: no such answer there).
    const { AwsError } = await import("../../controllers/aws/errors.ts");
    const api = new ListedTasks([]);
    api.listRunningTaskArns = async () => {
      throw new AwsError("not-found", "ecs", "ListTasks", "ServiceNotFoundException", "Service not found.");
    };
    const failure = observeRunningTasks(api, { cluster: "logs", service: "fluentd" });
    await expect(failure).rejects.toThrow(
      'ECS service "fluentd" does not exist in cluster "logs" (ServiceNotFoundException): create the service or fix the name',
    );
    await expect(failure).rejects.toMatchObject({ field: "service" });
  });
});
