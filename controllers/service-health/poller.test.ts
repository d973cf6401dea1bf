import { describe, expect, it } from "vitest";
import { AwsError } from "../aws/errors.ts";
import { ManualClock } from "../clock.ts";
import { Informer, taskListingLine, type WatchLister } from "../informers.ts";
import { silentLogger } from "../logger.ts";
import type { EcsServiceApi } from "./ecs-service-api.ts";
import type { ServiceDescription, TaskRecord } from "./observation.ts";
import { ServiceHealthPoller } from "./poller.ts";
import { WatchedServices } from "./watched-services.ts";

const ARN = "arn:aws:ecs:ap-northeast-1:111122223333";
const FLUENTD = "ecs:logs/service:fluentd";
const BATCH = "ecs:logs/family:log-batch";
const ASG = "asg:log-asg";

/** ECS in memory, counting the calls: tasks by cluster, services by name. */
class MemoryEcs implements EcsServiceApi {
  readonly calls: string[] = [];
  readonly tasks: TaskRecord[] = [];
  desired = 2;
  denyDescribeServices = false;
  /** Report the service's running count as its running tasks (a steady service), not 0. */
  countRunning = false;

  async describeServices(cluster: string, services: readonly string[]): Promise<ServiceDescription[]> {
    this.calls.push(`DescribeServices ${services.join(",")}`);
    if (this.denyDescribeServices) {
      throw new AwsError("terminal", "ecs", "DescribeServices", "AccessDeniedException", "not authorized");
    }
    return services.map((name) => ({
      cluster,
      name,
      arn: `${ARN}:service/${cluster}/${name}`,
      status: "ACTIVE",
      desiredCount: this.desired,
      runningCount: this.countRunning
        ? this.tasks.filter((t) => t.desiredStatus === "RUNNING" && t.group === `service:${name}`).length
        : 0,
      pendingCount: 0,
      taskDefinition: `${ARN}:task-definition/${name}:1`,
      serviceRegistries: [],
      subnets: [],
      deployments: [],
      events: [],
    }));
  }

  async describeTaskDefinition(): Promise<undefined> {
    return undefined;
  }

  async listTaskArns(
    _cluster: string,
    of: { service?: string | undefined; family?: string | undefined },
    desiredStatus: "RUNNING" | "STOPPED",
  ): Promise<string[]> {
    this.calls.push(`ListTasks ${of.service ?? of.family} ${desiredStatus}`);
    return this.tasks
      .filter((t) => t.desiredStatus === desiredStatus)
      .filter((t) => (of.service !== undefined ? t.group === `service:${of.service}` : true))
      .map((t) => t.taskArn);
  }

  async describeTasks(_cluster: string, arns: readonly string[]): Promise<TaskRecord[]> {
    this.calls.push(`DescribeTasks ${arns.length}`);
    return this.tasks.filter((t) => arns.includes(t.taskArn));
  }

  run(id: string, group = "service:fluentd", family = "fluentd"): void {
    this.tasks.push({
      taskArn: `${ARN}:task/logs/${id}`,
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      group,
      taskDefinitionArn: `${ARN}:task-definition/${family}:1`,
      address: "10.0.1.5",
      containers: [],
    });
  }

  stop(id: string, reason: string): void {
    const i = this.tasks.findIndex((t) => t.taskArn.endsWith(`/${id}`));
    const t = this.tasks[i];
    if (t === undefined) throw new Error(`no task ${id}`);
    this.tasks[i] = { ...t, lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedReason: reason };
  }
}

/** The informer's own lister (a service's running tasks, as the ECS task lister writes them), counting its lists. */
class CountingLister implements WatchLister {
  readonly listed: string[] = [];
  private readonly ecs: MemoryEcs;
  constructor(ecs: MemoryEcs) {
    this.ecs = ecs;
  }
  async list(watchKey: string): Promise<string[]> {
    this.listed.push(watchKey);
    if (watchKey !== FLUENTD) return [];
    return this.ecs.tasks
      .filter((t) => t.desiredStatus === "RUNNING" && t.group === "service:fluentd")
      .map(taskListingLine)
      .sort();
  }
}

function setup() {
  const clock = new ManualClock(Date.parse("2026-12-01T12:00:00Z"));
  const ecs = new MemoryEcs();
  const lister = new CountingLister(ecs);
  const watched = new WatchedServices({ clock });
  const watchers = new Map([
    [FLUENTD, ["CloudMapService/fluentd"]],
    [BATCH, ["SidecarVolume/log-batch"]],
    [ASG, ["WeightedRecordSet/log-asg"]],
  ]);
  watched.setWatches(watchers);
  const poller = new ServiceHealthPoller({
    informer: new Informer({ lister, logger: silentLogger }),
    watched,
    api: ecs,
    logger: silentLogger,
    clock,
  });
  const poll = () => poller.poll([...watchers.keys()].sort(), new AbortController().signal);
  return { ecs, lister, watched, poll, clock };
}

describe("ServiceHealthPoller", () => {
  it("reads the watched services' health in the poll, and lists their running tasks once for both", async () => {
    const t = setup();
    t.ecs.run("a");
    t.ecs.run("b");
    t.ecs.run("c", "family:log-batch", "log-batch");
    expect(await t.poll()).toEqual([]);
    // The ECS keys were read by the health read; the informer's lister lists only the Auto Scaling group.
    expect(t.lister.listed).toEqual([ASG]);
    expect(t.ecs.calls.filter((c) => c.startsWith("ListTasks")).sort()).toEqual([
      "ListTasks fluentd RUNNING",
      "ListTasks fluentd STOPPED",
      "ListTasks log-batch RUNNING",
      "ListTasks log-batch STOPPED",
    ]);
    expect(t.watched.get(FLUENTD)).toMatchObject({ desired: 2, running: 2 });
    expect(t.watched.get(BATCH)).toMatchObject({ running: 1 });

    // A task stopped with a reason: the next poll shows it and wakes the service's specs.
    t.ecs.stop("a", "Essential container in task exited");
    expect(await t.poll()).toEqual([FLUENTD]);
    expect(t.watched.get(FLUENTD)).toMatchObject({
      running: 1,
      conditions: [{ status: "True", reason: "EssentialContainerExited" }],
      stoppedTasks: [{ taskId: "a", stoppedReason: "Essential container in task exited" }],
    });
    expect(await t.poll()).toEqual([]);
    expect(t.lister.listed).toEqual([ASG, ASG, ASG]);
  });

  it("lets the informer list a key whose health read failed, so that its specs are still woken", async () => {
    const t = setup();
    t.ecs.run("a");
    await t.poll();
    t.ecs.denyDescribeServices = true;
    t.ecs.run("b");
    // The service's health read failed; the informer listed it itself, and saw the new task.
    expect(await t.poll()).toEqual([FLUENTD]);
    expect(t.lister.listed.sort()).toEqual([ASG, ASG, FLUENTD]);
    expect(t.watched.get(FLUENTD)).toMatchObject({
      running: 1,
      error: expect.stringMatching(/not authorized/),
    });
    // The family has no DescribeServices: its health read goes on.
    expect(t.watched.get(BATCH)?.error).toBeNull();
    // Listed either way, an unchanged service is no change.
    t.ecs.denyDescribeServices = false;
    expect(await t.poll()).toEqual([]);
    expect(t.watched.get(FLUENTD)).toMatchObject({ running: 2, error: null });
  });

  it("lists a steady service's stopped tasks once per refresh, and at once when its tasks or counts move", async () => {
    const t = setup();
    t.ecs.countRunning = true;
    t.ecs.run("a");
    t.ecs.run("b");
    const stoppedListings = () => t.ecs.calls.filter((c) => c === "ListTasks fluentd STOPPED").length;
    await t.poll();
    expect(stoppedListings()).toBe(1);
    // Two running of two desired, the same tasks: nothing new has stopped that ECS's scheduler knows of.
    await t.poll();
    await t.clock.advance(60_000);
    await t.poll();
    expect(stoppedListings()).toBe(1);
    // A task replaced between two reads changes the running set: its predecessor's stop is read at once.
    t.ecs.stop("a", "Essential container in task exited");
    t.ecs.run("c");
    await t.poll();
    expect(stoppedListings()).toBe(2);
    expect(t.watched.get(FLUENTD)).toMatchObject({
      stoppedTasks: [{ taskId: "a", stoppedReason: "Essential container in task exited" }],
    });
    // Below desired: listed every interval while it lasts.
    t.ecs.desired = 3;
    await t.poll();
    await t.poll();
    expect(stoppedListings()).toBe(4);
    t.ecs.desired = 2;
    await t.poll();
    await t.poll();
    expect(stoppedListings()).toBe(5);
    // Steady for the refresh period: listed again, so a task that started and stopped unseen still shows.
    await t.clock.advance(5 * 60_000);
    await t.poll();
    expect(stoppedListings()).toBe(6);
    // The family's standalone tasks have no service counts; steady on its running set alone, listed as rarely.
    expect(t.ecs.calls.filter((c) => c === "ListTasks log-batch STOPPED").length).toBe(2);
  });
});
