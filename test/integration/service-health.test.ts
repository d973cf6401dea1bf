import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeCommand } from "../../cmd/commands/describe.ts";
import { getCommand } from "../../cmd/commands/get.ts";
import { composeController } from "../../cmd/compose-controller.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { ManualClock } from "../../controllers/clock.ts";
import type { Controller } from "../../controllers/controller.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import { readStatusDocument, type StatusDocument } from "../../controllers/status-model.ts";
import { captureOutput } from "../captured-output.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

// The watched services' health through the controller as `run` composes it (cmd/compose-controller.ts), against the
// emulator, on a manual clock: the interval passes only when the test moves it, so "within one interval" is what is
// asserted, not a timing. The emulator's DescribeServices counts no task started by RunTask (the scene's stand-in for
// the service's scheduler), so the running count comes from the task listing, as it does for real ECS too.

const REGION = "us-east-1";
const INTERVAL_MS = 30_000;
const KEY = "ecs:logs/service:fluentd";
const REASON = "Essential container in task exited";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
let tasks: string[] = [];
let queueUrl = "";
let dir = "";
const clock = new ManualClock(Date.now());
const registry = new Registry();
let controller: Controller;
let base = "";
/** How far the test moved the clock to get the controller ready (a dependency's retry backoff). */
let advancedToReady = 0;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await scene.createEcsService("logs", "fluentd", "fluentd", { desiredCount: 3, awsvpc: true });
  tasks = await scene.runTasks("logs", "fluentd", 3, "fluentd");
  queueUrl =
    (await clients.sqs.send(new CreateQueueCommand({ QueueName: "service-health-events" }))).QueueUrl ?? "";
  dir = mkdtempSync(join(tmpdir(), "service-health-"));
  writeFileSync(join(dir, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId, { port: 24224 }));

  const metrics = new ControllerMetrics(registry);
  controller = await composeController({
    specDir: dir,
    clients: createAwsClients({ endpoint: moto.endpoint, region: REGION, observer: metrics }),
    metrics,
    logger: silentLogger,
    ownerId: "service-health",
    intervalMs: INTERVAL_MS,
    bindAddress: "127.0.0.1:0",
    eventsQueueUrl: queueUrl,
    eventsWaitSeconds: 1,
    clock,
  });
  const started = controller.start();
  // A Cloud Map service waits for its namespace with a backoff on the controller's clock: moved in small steps,
  // far from an interval.
  while (controller.phase !== "ready" && controller.phase !== "failed" && advancedToReady < 5_000) {
    await clock.advance(10);
    advancedToReady += 10;
    await delay(20);
  }
  await started;
  base = `http://127.0.0.1:${controller.port}`;
  // Ready is every key reconciled once, and the informers' first listing runs beside it: its answer may wake the
  // Cloud Map service again after ready. The tests below need the controller idle, or a task stopped meanwhile is
  // seen by a reconcile that started before the stop's interval (counted as drift) instead of the one the stop wakes.
  await statusShows("the first read", (d) => d.services[0]?.observedAt !== null);
  const idle = () => {
    const { processing, waiting } = controller.keysHeld().queue;
    return processing.length === 0 && waiting.length === 0;
  };
  let advancedToIdle = advancedToReady;
  while (!idle() && advancedToIdle < 5_000) {
    await clock.advance(10);
    advancedToIdle += 10;
    await delay(20);
  }
  // Short of an interval: the tests below count intervals from here.
  expect(idle()).toBe(true);
  expect(advancedToIdle).toBeLessThan(INTERVAL_MS);
});

afterAll(async () => {
  if (controller !== undefined) {
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    for (let i = 0; i < 600 && !stopped; i++) {
      await clock.advance(100);
      await delay(10);
    }
    await stopping;
  }
  clients?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function status(): Promise<StatusDocument> {
  return readStatusDocument(await (await fetch(`${base}/status`)).json());
}

/** Waits, in real time and without moving the controller's clock, until the controller's /status shows `test`. */
async function statusShows(what: string, test: (doc: StatusDocument) => boolean): Promise<StatusDocument> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const doc = await status();
    if (test(doc)) return doc;
    if (performance.now() > deadline) {
      throw new Error(`/status did not show ${what}: ${JSON.stringify(doc.services, null, 2)}`);
    }
    await delay(50);
  }
}

const degradedOf = (doc: StatusDocument, key: string) =>
  doc.resources.find((r) => r.key === key)?.conditions.find((c) => c.type === "Degraded");

describe("watched service health, through the controller as run composes it", () => {
  it("reads the watched service's counts and tasks at start", async () => {
    expect(controller.phase).toBe("ready");
    expect(advancedToReady).toBeLessThan(INTERVAL_MS);
    const doc = await statusShows("the first read", (d) => d.services[0]?.observedAt !== null);
    expect(doc.services).toMatchObject([
      { key: KEY, desired: 3, running: 3, resources: ["CloudMapService/fluentd"] },
    ]);
    expect(doc.services[0]?.tasks.every((t) => /^10\.\d+\.\d+\.\d+$/.test(t.address ?? ""))).toBe(true);
    expect(degradedOf(doc, "CloudMapService/fluentd")).toMatchObject({ status: "False", reason: "Healthy" });
    // The sweeps are reported apart from the resources.
    expect(doc.resources.map((r) => r.key)).toEqual([
      "CloudMapNamespace/logs-namespace",
      "CloudMapService/fluentd",
    ]);
    expect(doc.sweeps.map((s) => s.key)).toEqual(expect.arrayContaining(["CloudMapService/*"]));
    expect(doc.resources.find((r) => r.key === "CloudMapService/fluentd")?.targets?.count).toBe(3);
  });

  it("shows a task stopped with a reason in /status, describe, the page and the stop counter within one interval", async () => {
    await scene.stopTask("logs", tasks[1] ?? "", REASON);
    // One interval, and no more: the controller's poll runs once.
    await clock.advance(INTERVAL_MS);
    const doc = await statusShows("the stop", (d) =>
      (d.services[0]?.stoppedTasks ?? []).some((t) => t.taskArn === tasks[1]),
    );
    expect(doc.services[0]).toMatchObject({
      desired: 3,
      running: 2,
      conditions: [{ type: "Degraded", status: "True", reason: "EssentialContainerExited" }],
    });
    expect(doc.services[0]?.stoppedTasks.find((t) => t.taskArn === tasks[1])?.stoppedReason).toBe(REASON);
    expect(degradedOf(doc, "CloudMapService/fluentd")).toMatchObject({
      status: "True",
      reason: "EssentialContainerExited",
      message: expect.stringContaining("logs/fluentd runs 2 of 3 tasks."),
    });

    const described = captureOutput();
    expect(await describeCommand(["CloudMapService/fluentd", "--server", base], described)).toBe(0);
    expect(described.stdout).toMatch(/^ {2}Degraded\s+True\s+EssentialContainerExited\s/m);
    expect(described.stdout).toContain(REASON);

    const page = await (await fetch(`${base}/`)).text();
    expect(page).toMatch(
      /<tr data-resource="CloudMapService\/fluentd">[\s\S]*?data-condition="Degraded" data-status="True"[\s\S]*?<td class="reason">EssentialContainerExited<\/td>/,
    );
    expect(page).toContain(REASON);

    // The emulator sets no stop code; the stop is counted once however often it is read.
    const stops =
      'ecs_log_operator_watched_task_stops_total{cluster="logs",service="fluentd",stop_code="None"} 1';
    expect(await registry.metrics()).toContain(stops);
    expect(await registry.metrics()).toContain(
      'ecs_log_operator_watched_service_running_tasks{cluster="logs",service="fluentd"} 2',
    );

    // The stop woke the Cloud Map service, which took the task's instance out: its change and decision are shown.
    const fluentdOf = (d: StatusDocument) => d.resources.find((r) => r.key === "CloudMapService/fluentd");
    const after = await statusShows(
      "the instance removed",
      (d) => fluentdOf(d)?.changes[0]?.action === "delete",
    );
    expect(fluentdOf(after)?.targets?.count).toBe(2);
    expect(after.decisions[0]).toMatchObject({
      resource: "CloudMapService/fluentd",
      decision: "applied",
      message: expect.stringMatching(/^delete instance /),
    });

    await clock.advance(INTERVAL_MS);
    await statusShows("a second read", (d) => Date.parse(d.services[0]?.observedAt ?? "") >= clock.now());
    expect(await registry.metrics()).toContain(stops);
  });

  it("marks the resource Degraded with the reason of an ECS Service Action placement failure on the events queue", async () => {
    // As EventBridge delivers it to SQS (the rule's target): the event itself is the message body.
    const fixture = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../fixtures/eventbridge/service-action-placement-failure.json"),
        "utf8",
      ),
    ) as { detail: Record<string, unknown> } & Record<string, unknown>;
    const account = "123456789012";
    const now = new Date(clock.now()).toISOString();
    const event = {
      ...fixture,
      time: now,
      region: REGION,
      account,
      resources: [`arn:aws:ecs:${REGION}:${account}:service/logs/fluentd`],
      detail: {
        ...fixture.detail,
        clusterArn: `arn:aws:ecs:${REGION}:${account}:cluster/logs`,
        createdAt: now,
      },
    };
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
    );
    // No interval passes: the events queue delivers it.
    const doc = await statusShows(
      "the placement failure",
      (d) => degradedOf(d, "CloudMapService/fluentd")?.reason === "NoFreeEni",
    );
    expect(degradedOf(doc, "CloudMapService/fluentd")).toMatchObject({
      status: "True",
      message: expect.stringMatching(/RESOURCE:ENI/),
    });
    expect(doc.services[0]?.events[0]).toMatchObject({ source: "eventbridge", reason: "NoFreeEni" });
    const got = captureOutput();
    expect(await getCommand(["CloudMapService/fluentd", "--server", base], got)).toBe(0);
    expect(got.stdout).toMatch(/^fluentd\s+True\s+True\s+NoFreeEni\s/m);
  });
});
