import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateServiceCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { Output } from "../../cmd/cli-support.ts";
import { describeCommand } from "../../cmd/commands/describe.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { EventsQueue } from "../../controllers/events-queue.ts";
import { HttpServer } from "../../controllers/http-server.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { AwsEcsServiceApi } from "../../controllers/service-health/aws-ecs-service-api.ts";
import { ServiceHealthMetrics } from "../../controllers/service-health/metrics.ts";
import { readWatched } from "../../controllers/service-health/read.ts";
import { WatchedServices } from "../../controllers/service-health/watched-services.ts";
import { buildStatusDocument } from "../../controllers/status-model.ts";
import { StatusStore } from "../../controllers/status.ts";
import { startEmulator } from "./harness.ts";

// The service-health parts the controller will be wired with (issue 19's wiring waits for issue 13): one interval's
// reads of a watched service through the real ECS client, EventBridge events through a real SQS queue and the events
// queue's onEvent hook, the watched-services store, the status document and `describe` over HTTP. The emulator's
// DescribeServices counts no task started by RunTask, so the running count comes from the task listing, as it does
// for real ECS too.

const REGION = "us-east-1";
const KEY = "ecs:logs/service:fluentd";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await clients.ecs.send(
    new CreateServiceCommand({
      cluster: "logs",
      serviceName: "fluentd",
      taskDefinition: "fluentd",
      desiredCount: 3,
      launchType: "EC2",
      networkConfiguration: {
        awsvpcConfiguration: { subnets: [scene.subnetId], securityGroups: [scene.securityGroupId] },
      },
    }),
  );
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

function capture(): Output & { stdout: string } {
  const io = { stdout: "", color: false, out: (t: string) => void (io.stdout += t), err: () => undefined };
  return io;
}

describe("watched service health against the emulator", () => {
  it("a task stopped with a reason shows in the status, describe and the stop counter within one read", async () => {
    const tasks = await scene.runTasks("logs", "fluentd", 3, "fluentd");
    const registry = new Registry();
    const clock = new ManualClock(Date.now());
    const services = new WatchedServices({ clock, metrics: new ServiceHealthMetrics(registry) });
    services.setWatches(new Map([[KEY, ["CloudMapService/fluentd"]]]));
    const api = new AwsEcsServiceApi(clients);
    const signal = AbortSignal.timeout(30_000);

    const first = await readWatched(api, services.watchKeys(), signal);
    expect(first.failures).toEqual([]);
    for (const r of first.reads) services.observed(r);
    expect(services.get(KEY)).toMatchObject({
      desired: 3,
      running: 3,
      conditions: [{ status: "False", reason: "Healthy" }],
    });
    expect(services.get(KEY)?.tasks.every((t) => /^10\.\d+\.\d+\.\d+$/.test(t.address ?? ""))).toBe(true);

    await scene.stopTasks("logs", [tasks[0] ?? ""]);
    // StopTask with a reason, as an operator would: the emulator records it as the task's stoppedReason.
    await clients.ecs.send(
      new StopTaskCommand({
        cluster: "logs",
        task: tasks[1] ?? "",
        reason: "Essential container in task exited",
      }),
    );
    const second = await readWatched(api, services.watchKeys(), signal);
    for (const r of second.reads) services.observed(r);
    const status = services.get(KEY);
    expect(status).toMatchObject({
      desired: 3,
      running: 1,
      conditions: [{ status: "True", reason: "EssentialContainerExited" }],
    });
    expect(status?.stoppedTasks.map((t) => t.taskArn).sort()).toEqual([tasks[0], tasks[1]].sort());
    expect(status?.stoppedTasks.find((t) => t.taskArn === tasks[1])?.stoppedReason).toBe(
      "Essential container in task exited",
    );
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      'ecs_log_operator_watched_service_running_tasks{cluster="logs",service="fluentd"} 1',
    );
    // The emulator sets no stop code.
    expect(metrics).toContain(
      'ecs_log_operator_watched_task_stops_total{cluster="logs",service="fluentd",stop_code="None"} 2',
    );

    // The same reads again count nothing twice.
    for (const r of (await readWatched(api, services.watchKeys(), signal)).reads) services.observed(r);
    expect(await registry.metrics()).toContain('stop_code="None"} 2');

    // /status and describe, over HTTP.
    const store = new StatusStore(() => new Date(clock.now()));
    store.track("CloudMapService/fluentd", "g1");
    store.record("CloudMapService/fluentd", { result: "success", generation: "g1", changes: 0 });
    const server = new HttpServer({
      bindAddress: "127.0.0.1:0",
      registry,
      alive: () => true,
      ready: () => ({ ready: true, phase: "ready" }),
      status: () =>
        buildStatusDocument({
          phase: "ready",
          now: new Date(clock.now()),
          resources: store.list(),
          services: services.list(),
          watches: () => [KEY],
        }),
    });
    await server.listen();
    try {
      const io = capture();
      expect(
        await describeCommand(["CloudMapService/fluentd", "--server", `127.0.0.1:${server.port}`], io),
      ).toBe(0);
      expect(io.stdout).toMatch(
        /^ {2}Degraded\s+True\s+EssentialContainerExited\s+0s\s+logs\/fluentd runs 1 of 3 tasks\./m,
      );
      expect(io.stdout).toContain("Essential container in task exited");
      const page = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();
      expect(page).toContain('data-condition="Degraded" data-status="True"');
      expect(page).toContain("Essential container in task exited");
    } finally {
      await server.close();
    }
  });

  it("an ECS Service Action placement failure on the events queue, as EventBridge delivers it, marks the service Degraded", async () => {
    const queue = await clients.sqs.send(new CreateQueueCommand({ QueueName: "service-health-events" }));
    const queueUrl = queue.QueueUrl ?? "";
    const event = readFileSync(
      join(import.meta.dirname, "../fixtures/eventbridge/service-action-placement-failure.json"),
      "utf8",
    );
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: event }));
    const services = new WatchedServices({ clock: new ManualClock(Date.parse("2026-12-01T12:00:00Z")) });
    services.setWatches(new Map([[KEY, ["CloudMapService/fluentd"]]]));
    const woken: string[] = [];
    const events = new EventsQueue({
      sqs: clients.sqs,
      queueUrl,
      waitSeconds: 1,
      logger: silentLogger,
      onKeys: (keys) => woken.push(...keys),
      onEvent: (e) => services.handleEvent(e),
    });
    expect(await events.receiveOnce(AbortSignal.timeout(10_000))).toBe(1);
    expect(woken).toEqual([KEY]);
    expect(services.get(KEY)?.conditions[0]).toMatchObject({
      status: "True",
      reason: "NoFreeEni",
      message: expect.stringMatching(/RESOURCE:ENI/),
    });
  });
});
