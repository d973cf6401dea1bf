import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import { ServiceHealthMetrics } from "./metrics.ts";
import type { ServiceDescription, TaskRecord } from "./observation.ts";
import { WatchedServices } from "./watched-services.ts";

const T0 = Date.parse("2026-12-01T11:50:00Z");
const KEY = "ecs:logs/service:fluentd";

function description(overrides: Partial<ServiceDescription> = {}): ServiceDescription {
  return {
    cluster: "logs",
    name: "fluentd",
    arn: "arn:aws:ecs:ap-northeast-1:111122223333:service/logs/fluentd",
    status: "ACTIVE",
    desiredCount: 3,
    runningCount: 3,
    pendingCount: 0,
    taskDefinition: "arn:aws:ecs:ap-northeast-1:111122223333:task-definition/fluentd:7",
    serviceRegistries: [],
    subnets: [],
    deployments: [],
    events: [],
    ...overrides,
  };
}

const task = (id: string, fields: Partial<TaskRecord> = {}): TaskRecord => ({
  taskArn: `arn:aws:ecs:ap-northeast-1:111122223333:task/logs/${id}`,
  lastStatus: "RUNNING",
  desiredStatus: "RUNNING",
  group: "service:fluentd",
  address: `10.0.1.${id.length}`,
  containers: [],
  ...fields,
});

const stoppedTask = (id: string, fields: Partial<TaskRecord> = {}): TaskRecord =>
  task(id, { lastStatus: "STOPPED", desiredStatus: "STOPPED", address: undefined, ...fields });

function setup() {
  const clock = new ManualClock(T0);
  const registry = new Registry();
  const services = new WatchedServices({ clock, metrics: new ServiceHealthMetrics(registry) });
  services.setWatches(
    new Map([
      [KEY, ["CloudMapService/fluentd"]],
      [
        "ecs:arn:aws:ecs:ap-northeast-1:111122223333:cluster/logs/service:fluentd",
        ["WeightedRecordSet/fluentd"],
      ],
      ["asg:log-asg", ["WeightedRecordSet/log-asg"]],
    ]),
  );
  return { clock, registry, services };
}

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, "../../test/fixtures/eventbridge", `${name}.json`), "utf8"),
  ) as Record<string, unknown>;

describe("WatchedServices", () => {
  it("keeps one entry per ECS watch key, with every resource that watches it", () => {
    const { services } = setup();
    expect(services.watchKeys()).toEqual([KEY]);
    expect(services.get(KEY)).toMatchObject({
      cluster: "logs",
      service: "fluentd",
      family: null,
      resources: ["CloudMapService/fluentd", "WeightedRecordSet/fluentd"],
      desired: null,
      conditions: [{ type: "Degraded", status: "Unknown", reason: "NotObservedYet" }],
    });
  });

  it("a stopped task of a watched service makes it Degraded with its reason, counted once; recovery clears it", async () => {
    const { clock, registry, services } = setup();
    const running = [task("a"), task("bb"), task("ccc")];
    services.observed({ key: KEY, description: description(), tasks: running, stopped: [] });
    expect(services.get(KEY)?.conditions[0]).toMatchObject({ status: "False", reason: "Healthy" });
    await clock.advance(30_000);
    const stop = stoppedTask("ccc", {
      stopCode: "EssentialContainerExited",
      stoppedReason: "Essential container in task exited",
      stoppedAt: new Date(clock.now() - 5000).toISOString(),
      containers: [{ name: "fluentd", exitCode: 1 }],
    });
    services.observed({ key: KEY, description: description(), tasks: running.slice(0, 2), stopped: [stop] });
    const degraded = services.get(KEY);
    expect(degraded).toMatchObject({
      desired: 3,
      running: 2,
      pending: 0,
      conditions: [
        {
          status: "True",
          reason: "EssentialContainerExited",
          message:
            "logs/fluentd runs 2 of 3 tasks. Task ccc stopped: essential container fluentd exited with code 1.",
          lastTransitionTime: "2026-12-01T11:50:30.000Z",
        },
      ],
      stoppedTasks: [{ taskId: "ccc", stopCode: "EssentialContainerExited", failure: true }],
    });
    expect(degraded?.tasks.map((t) => [t.taskId, t.address])).toEqual([
      ["a", "10.0.1.1"],
      ["bb", "10.0.1.2"],
    ]);
    // The same stop read again and delivered by EventBridge is still one stop; the transition time stays.
    await clock.advance(30_000);
    services.observed({ key: KEY, description: description(), tasks: running.slice(0, 2), stopped: [stop] });
    const event = fixture("task-stopped");
    event.detail = {
      ...(event.detail as object),
      taskArn: stop.taskArn,
      clusterArn: "arn:aws:ecs:ap-northeast-1:111122223333:cluster/logs",
    };
    expect(services.handleEvent(event)).toEqual([KEY]);
    expect(services.get(KEY)?.conditions[0]?.lastTransitionTime).toBe("2026-12-01T11:50:30.000Z");
    const text = await registry.metrics();
    expect(text).toContain(
      'ecs_log_operator_watched_task_stops_total{cluster="logs",service="fluentd",stop_code="EssentialContainerExited"} 1',
    );
    expect(text).toContain(
      'ecs_log_operator_watched_service_desired_tasks{cluster="logs",service="fluentd"} 3',
    );
    expect(text).toContain(
      'ecs_log_operator_watched_service_running_tasks{cluster="logs",service="fluentd"} 2',
    );
    expect(text).toContain('ecs_log_operator_watched_service_degraded{cluster="logs",service="fluentd"} 1');
    // Replaced, and the failure ten minutes old: no longer Degraded.
    await clock.advance(11 * 60_000);
    services.observed({
      key: KEY,
      description: description(),
      tasks: [...running.slice(0, 2), task("dddd")],
      stopped: [stop],
    });
    expect(services.get(KEY)?.conditions[0]).toMatchObject({
      status: "False",
      reason: "Healthy",
      lastTransitionTime: "2026-12-01T12:02:00.000Z",
    });
    expect(await registry.metrics()).toContain(
      'ecs_log_operator_watched_service_degraded{cluster="logs",service="fluentd"} 0',
    );
  });

  it("a stop from before the process started is shown but not counted", async () => {
    const { registry, services } = setup();
    const old = stoppedTask("old", {
      stopCode: "UserInitiated",
      stoppedAt: new Date(T0 - 20 * 60_000).toISOString(),
    });
    services.observed({
      key: KEY,
      description: description(),
      tasks: [task("a"), task("b"), task("c")],
      stopped: [old],
    });
    expect(services.get(KEY)?.stoppedTasks.map((s) => s.taskId)).toEqual(["old"]);
    expect(await registry.metrics()).not.toContain("stop_code=");
  });

  it("an EventBridge placement failure marks the service Degraded with its cause, before and after the first read", () => {
    const { services } = setup();
    expect(services.handleEvent(fixture("service-action-placement-failure"))).toEqual([KEY]);
    expect(services.get(KEY)?.conditions[0]).toMatchObject({
      status: "True",
      reason: "NoFreeEni",
      message: expect.stringMatching(
        /^logs\/fluentd: ECS: no container instance has a free network interface/,
      ),
    });
    services.observed({
      key: KEY,
      description: description(),
      tasks: [task("a"), task("b"), task("c")],
      stopped: [],
    });
    expect(services.get(KEY)).toMatchObject({
      conditions: [{ status: "True", reason: "NoFreeEni" }],
      events: [
        {
          kind: "placement-failure",
          source: "eventbridge",
          message: "ERROR SERVICE_TASK_PLACEMENT_FAILURE: RESOURCE:ENI",
        },
      ],
    });
    // A later steady state clears it.
    services.handleEvent(fixture("service-action-steady-state"));
    expect(services.get(KEY)?.conditions[0]).toMatchObject({ status: "False", reason: "Healthy" });
  });

  it("ignores events about services no spec watches", () => {
    const { services } = setup();
    const other = fixture("service-action-placement-failure");
    other.resources = ["arn:aws:ecs:ap-northeast-1:111122223333:service/logs/api"];
    expect(services.handleEvent(other)).toEqual([]);
    expect(services.handleEvent({ hello: "world" })).toEqual([]);
  });

  it("forgets a service no spec watches any more, and its series", async () => {
    const { registry, services } = setup();
    services.observed({
      key: KEY,
      description: description(),
      tasks: [],
      stopped: [stoppedTask("x", { stopCode: "TaskFailedToStart" })],
    });
    expect(await registry.metrics()).toContain('service="fluentd"');
    services.setWatches(new Map());
    expect(services.list()).toEqual([]);
    expect(await registry.metrics()).not.toContain('service="fluentd"');
  });

  it("keeps a bounded number of stops and tasks", () => {
    const { services } = setup();
    const stops = Array.from({ length: 60 }, (_, i) =>
      stoppedTask(`s${String(i).padStart(2, "0")}`, { stoppedAt: new Date(T0 - i * 1000).toISOString() }),
    );
    const tasks = Array.from({ length: 150 }, (_, i) => task(`t${String(i).padStart(3, "0")}`));
    services.observed({ key: KEY, description: description({ desiredCount: 150 }), tasks, stopped: stops });
    const s = services.get(KEY);
    expect(s?.stoppedTasks.map((t) => t.taskId)).toEqual(Array.from({ length: 10 }, (_, i) => `s0${i}`));
    expect(s?.tasks).toHaveLength(100);
    expect(s?.running).toBe(150);
  });

  it("reports a failed read beside the last health", () => {
    const { services } = setup();
    services.readFailed(KEY, new Error("ecs DescribeServices: ThrottlingException: Rate exceeded"));
    expect(services.get(KEY)).toMatchObject({
      error: "ecs DescribeServices: ThrottlingException: Rate exceeded",
      conditions: [{ status: "Unknown", reason: "ReadFailed" }],
    });
    services.observed({
      key: KEY,
      description: description(),
      tasks: [task("a"), task("b"), task("c")],
      stopped: [],
    });
    services.readFailed(KEY, new Error("timeout"));
    expect(services.get(KEY)).toMatchObject({
      error: "timeout",
      conditions: [{ status: "False", reason: "Healthy" }],
    });
  });

  it("a family's failed task makes it Degraded; a family has no desired count", () => {
    const { services } = setup();
    const family = "ecs:batch/family:log-batch";
    services.setWatches(new Map([[family, ["SidecarVolume/log-batch"]]]));
    services.observed({
      key: family,
      tasks: [],
      stopped: [
        stoppedTask("b1", {
          stopCode: "TaskFailedToStart",
          stoppedReason: "CannotPullContainerError: not found",
          stoppedAt: new Date(T0).toISOString(),
        }),
      ],
    });
    expect(services.get(family)).toMatchObject({
      family: "log-batch",
      service: null,
      desired: null,
      running: 0,
      conditions: [{ status: "True", reason: "ImagePullFailed" }],
    });
  });
});
