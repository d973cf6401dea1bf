import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { Controller } from "../../controllers/controller.ts";
import { EventsQueue } from "../../controllers/events-queue.ts";
import { HttpServer } from "../../controllers/http-server.ts";
import { Informer, WatchListers } from "../../controllers/informers.ts";
import { SpecWatcher } from "../../controllers/spec-watcher.ts";
import { ecsTaskWatchLister } from "../../reconcilers/ecs-tasks/ecs-task-watch-lister.ts";
import { autoScalingWatchLister } from "../../reconcilers/weighted-record-set/auto-scaling-watch-lister.ts";
import { JsonLogger } from "../../controllers/logger.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import {
  recordsNamed,
  TargetRecordsKind,
  TargetRecordsReconciler,
  targetRecordsYaml,
} from "./controller-test-kind.ts";
import { startEmulator } from "./harness.ts";

const REGION = "us-east-1";

let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
let zoneId = "";
const dirs: string[] = [];

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  const zone = await clients.route53.send(
    new CreateHostedZoneCommand({ Name: "logs.internal", CallerReference: "controller-test" }),
  );
  zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function specDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "controller-it-"));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

function startController(
  dir: string,
  options: { intervalMs: number; queueUrl?: string; lines?: string[] },
): { controller: Controller; registry: Registry } {
  const registry = new Registry();
  const metrics = new ControllerMetrics(registry);
  const observed = createAwsClients({ endpoint: moto.endpoint, region: REGION, observer: metrics });
  const logger = new JsonLogger({ write: (l) => options.lines?.push(l), level: "debug" });
  // The parts `run` builds (cmd/compose-controller.ts), over the test kind.
  const controller = new Controller({
    specs: new SpecWatcher({ dir, kinds: [TargetRecordsKind], logger, debounceMs: 50 }),
    reconcilers: [new TargetRecordsReconciler(observed)],
    metrics,
    logger,
    ownerId: "it",
    intervalMs: options.intervalMs,
    informer: new Informer({
      lister: new WatchListers([ecsTaskWatchLister(observed), autoScalingWatchLister(observed)]),
      logger,
    }),
    events:
      options.queueUrl !== undefined
        ? new EventsQueue({ sqs: observed.sqs, queueUrl: options.queueUrl, waitSeconds: 1, logger })
        : undefined,
    server: (endpoints) => new HttpServer({ bindAddress: "127.0.0.1:0", registry, ...endpoints }),
  });
  return { controller, registry };
}

async function ids(name: string): Promise<string[]> {
  return (await recordsNamed(clients, zoneId, name)).map((r) => r.SetIdentifier ?? "").sort();
}

/** Waits until `test` holds; returns the seconds it took. */
async function converges(what: string, test: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await test()) return (performance.now() - started) / 1000;
    await delay(50);
  }
  throw new Error(`AWS did not converge within ${ms} ms: ${what}`);
}

function taskIds(arns: readonly string[]): string[] {
  return arns.map((a) => a.split("/").pop() ?? a).sort();
}

describe("controller (informers and resync, --interval 1s)", () => {
  it("follows tasks starting and stopping and a group scaling, restores what is deleted by hand, and stops cleanly", async () => {
    const tasks = await scene.runTasks("logs", "fluentd", 2, "fluentd");
    await scene.autoScalingGroup("log-asg", 2);
    const dir = specDir({
      "tasks.yaml": targetRecordsYaml("fluentd", {
        zoneId,
        name: "fluentd.logs.internal",
        ecsTasks: { cluster: "logs", service: "fluentd" },
      }),
      "group.yaml": targetRecordsYaml("log-asg", {
        zoneId,
        name: "asg.logs.internal",
        autoScalingGroup: "log-asg",
      }),
    });
    const lines: string[] = [];
    const { controller } = startController(dir, { intervalMs: 1000, lines });
    await controller.start();
    expect(controller.phase).toBe("ready");
    // Ready means every spec was reconciled once: the records are there already.
    expect(await ids("fluentd.logs.internal")).toEqual(taskIds(tasks));
    expect(await ids("asg.logs.internal")).toEqual((await scene.groupInstanceIds("log-asg")).sort());

    const more = await scene.runTasks("logs", "fluentd", 2, "fluentd");
    const startLatency = await converges("records for the started tasks", async () =>
      sameIds(await ids("fluentd.logs.internal"), taskIds([...tasks, ...more])),
    );
    await scene.stopTasks("logs", [tasks[0] ?? ""]);
    await converges("record of the stopped task removed", async () =>
      sameIds(await ids("fluentd.logs.internal"), taskIds([...tasks.slice(1), ...more])),
    );
    await scene.scaleGroup("log-asg", 3);
    const scaleLatency = await converges("records for the scaled-out group", async () => {
      const want = (await scene.groupInstanceIds("log-asg")).sort();
      return want.length === 3 && sameIds(await ids("asg.logs.internal"), want);
    });

    const [victim] = await recordsNamed(clients, zoneId, "fluentd.logs.internal");
    await clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: "DELETE", ResourceRecordSet: victim }] },
      }),
    );
    const restoreLatency = await converges(
      "record deleted by hand restored within one resync",
      async () => (await ids("fluentd.logs.internal")).includes(victim?.SetIdentifier ?? ""),
      2500,
    );

    const status = (await (await fetch(`http://127.0.0.1:${controller.port}/status`)).json()) as {
      resources: {
        key: string;
        conditions: { type: string; status: string }[];
        observedGeneration?: string;
      }[];
    };
    expect(status.resources.find((r) => r.key === "TargetRecords/fluentd")?.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "True" }),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${controller.port}/metrics`)).text();
    expect(metrics).toMatch(/ecs_log_operator_drift_corrected_total\{kind="TargetRecords"\} [1-9]/);
    expect(metrics).toMatch(
      /ecs_log_operator_aws_requests_total\{service="ecs",operation="ListTasks",outcome="success"\} \d/,
    );
    expect(metrics).toMatch(/ecs_log_operator_convergence_latency_seconds_count\{source="informer"\} [1-9]/);

    await controller.stop();
    expect(controller.phase).toBe("stopped");
    // Every log line is JSON and names the resource it decided about.
    const applied = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "drift corrected");
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.every((l) => typeof l.resource === "string")).toBe(true);
    console.log(
      `convergence (informer, 1s interval): tasks started ${startLatency.toFixed(2)}s, group scaled ${scaleLatency.toFixed(2)}s, ` +
        `record restored ${restoreLatency.toFixed(2)}s`,
    );
  });
});

describe("controller (SQS events, 60s interval)", () => {
  it("wakes the affected spec at once on an EventBridge ECS task event, and deletes the message", async () => {
    const queue = await clients.sqs.send(new CreateQueueCommand({ QueueName: "ecs-events" }));
    const queueUrl = queue.QueueUrl ?? "";
    const tasks = await scene.runTasks("logs", "fluentd", 1, "collector");
    await scene.autoScalingGroup("event-asg", 2);
    const dir = specDir({
      "group.yaml": targetRecordsYaml("event-asg", {
        zoneId,
        name: "event-asg.logs.internal",
        autoScalingGroup: "event-asg",
      }),
      "collector.yaml": targetRecordsYaml("collector", {
        zoneId,
        name: "collector.logs.internal",
        ecsTasks: { cluster: "logs", service: "collector" },
      }),
    });
    const { controller } = startController(dir, { intervalMs: 60_000, queueUrl });
    await controller.start();
    expect(await ids("collector.logs.internal")).toEqual(taskIds(tasks));

    const [started] = await scene.runTasks("logs", "fluentd", 1, "collector");
    const event = {
      version: "0",
      id: "3317b2af-7005-947d-b652-f55e762e571a",
      "detail-type": "ECS Task State Change",
      source: "aws.ecs",
      account: "123456789012",
      time: new Date().toISOString(),
      region: REGION,
      resources: [started],
      detail: {
        clusterArn: `arn:aws:ecs:${REGION}:123456789012:cluster/logs`,
        group: "service:collector",
        taskArn: started,
        taskDefinitionArn: `arn:aws:ecs:${REGION}:123456789012:task-definition/fluentd:1`,
        lastStatus: "RUNNING",
        desiredStatus: "RUNNING",
      },
    };
    const sent = performance.now();
    // Delivered twice, as EventBridge may: the key is woken, never reconciled twice at once.
    for (let i = 0; i < 2; i++) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
      );
    }
    await converges("record for the task the event named", async () =>
      sameIds(await ids("collector.logs.internal"), taskIds([...tasks, started ?? ""])),
    );
    const eventLatency = (performance.now() - sent) / 1000;
    // Far below the 60 s interval: only the event can have woken it.
    expect(eventLatency).toBeLessThan(5);
    await converges("messages deleted", async () => {
      const attrs = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        attrs.Attributes?.ApproximateNumberOfMessages === "0" &&
        attrs.Attributes?.ApproximateNumberOfMessagesNotVisible === "0"
      );
    });

    await scene.scaleGroup("event-asg", 1);
    const [remaining] = await scene.groupInstanceIds("event-asg");
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          version: "0",
          id: "468fe059-f4b7-445f-bb22-3a5f3a5f3a5f",
          "detail-type": "EC2 Instance-terminate Lifecycle Action",
          source: "aws.autoscaling",
          account: "123456789012",
          time: new Date().toISOString(),
          region: REGION,
          resources: [],
          detail: {
            LifecycleActionToken: "71514b9d-6a40-4b26-8523-05e7eEXAMPLE",
            AutoScalingGroupName: "event-asg",
            LifecycleHookName: "drain-dns",
            EC2InstanceId: "i-1234567890abcdef0",
            LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
          },
        }),
      }),
    );
    const scaleInLatency = await converges("record of the scaled-in instance removed", async () =>
      sameIds(await ids("event-asg.logs.internal"), [remaining ?? ""]),
    );
    expect(scaleInLatency).toBeLessThan(5);

    const metrics = await (await fetch(`http://127.0.0.1:${controller.port}/metrics`)).text();
    expect(metrics).toMatch(/ecs_log_operator_convergence_latency_seconds_count\{source="event"\} [1-9]/);
    await controller.stop();
    console.log(
      `convergence (event, 60s interval): task started ${eventLatency.toFixed(2)}s, group scaled in ${scaleInLatency.toFixed(2)}s`,
    );
  });
});

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
