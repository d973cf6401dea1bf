import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ListInstancesCommand, ListServicesCommand } from "@aws-sdk/client-servicediscovery";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { createAwsClients, type AwsClients } from "../controllers/aws/clients.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import type { Controller } from "../controllers/controller.ts";
import { silentLogger } from "../controllers/logger.ts";
import { ControllerMetrics } from "../controllers/metrics.ts";
import { composeController } from "../cmd/compose-controller.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import { median, percentile } from "./measure.ts";
import { cloudMapSpecs } from "./specs.ts";

export interface LatencyFigures {
  /** `events`: an SQS queue fed the EventBridge event right after each change; `interval`: informers and resync only. */
  readonly mode: "events" | "interval";
  readonly intervalMs: number;
  /** Changes made: task starts and stops, alternately. */
  readonly changes: number;
  /** Seconds from the change (RunTask or StopTask answered) to Cloud Map's ListInstances showing it. */
  readonly p50: number;
  readonly p99: number;
  readonly median: number;
  readonly max: number;
  /** Changes not seen in Cloud Map within the timeout (left out of the percentiles). */
  readonly timedOut: number;
}

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const CONVERGE_TIMEOUT_MS = 15_000;

/**
 * The controller, built in process as `ecs-log-operator run` builds it, keeps a CloudMapService in step with an ECS
 * service on the emulator. Tasks are started and stopped one at a time, each after a random pause of up to one
 * interval (so changes do not fall in step with the controller's polling), and the time until Cloud Map shows the
 * change is measured from outside, by listing the service's instances.
 */
export async function benchLatency(
  emulator: MotoEmulator,
  options: { mode: LatencyFigures["mode"]; changes: number; intervalMs: number },
): Promise<LatencyFigures> {
  await emulator.reset();
  const clients = createAwsClients({ endpoint: emulator.endpoint, region: REGION });
  const dir = await mkdtemp(join(tmpdir(), "bench-latency-"));
  let controller: Controller | undefined;
  let operatorClients: AwsClients | undefined;
  try {
    const scene = await new AwsScene(clients).network();
    await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
    await scene.cluster("logs", 1);
    const running = await scene.runTasks("logs", "fluentd", 3, "fluentd-0");
    await writeFile(
      join(dir, "specs.yaml"),
      cloudMapSpecs(scene.vpcId, 1, () => "logs"),
    );
    let queueUrl: string | undefined;
    if (options.mode === "events") {
      const q = await clients.sqs.send(new CreateQueueCommand({ QueueName: "bench-ecs-events" }));
      queueUrl = q.QueueUrl;
    }
    const metrics = new ControllerMetrics(new Registry());
    operatorClients = createAwsClients({ endpoint: emulator.endpoint, region: REGION, observer: metrics });
    controller = composeController({
      specDir: dir,
      clients: operatorClients,
      metrics,
      logger: silentLogger,
      ownerId: "bench",
      intervalMs: options.intervalMs,
      bindAddress: "127.0.0.1:0",
      eventsQueueUrl: queueUrl,
      eventsWaitSeconds: 1,
    });
    await controller.start();

    const services = await clients.serviceDiscovery.send(new ListServicesCommand({}));
    const serviceId = services.Services?.find((s) => s.Name === "fluentd-0")?.Id;
    if (serviceId === undefined) throw new Error("the controller did not create the Cloud Map service");
    const registered = async (): Promise<string[]> => {
      const ids: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await clients.serviceDiscovery.send(
          new ListInstancesCommand({ ServiceId: serviceId, NextToken: nextToken }),
        );
        ids.push(...(page.Instances ?? []).map((i) => i.Id ?? ""));
        nextToken = page.NextToken;
      } while (nextToken);
      return ids.sort();
    };
    const waitFor = async (arns: readonly string[], from: number): Promise<number | undefined> => {
      const want = arns.map(taskId).sort().join(",");
      while (performance.now() - from < CONVERGE_TIMEOUT_MS) {
        if ((await registered()).join(",") === want) return (performance.now() - from) / 1000;
        await delay(20);
      }
      return undefined;
    };
    if ((await waitFor(running, performance.now())) === undefined) {
      throw new Error("the initial tasks never showed in Cloud Map");
    }

    const samples: number[] = [];
    let timedOut = 0;
    for (let i = 0; i < options.changes; i++) {
      await delay(Math.random() * options.intervalMs);
      let changed: string;
      let stopping: boolean;
      if (i % 2 === 0) {
        const [started] = await scene.runTasks("logs", "fluentd", 1, "fluentd-0");
        changed = started ?? "";
        running.push(changed);
        stopping = false;
      } else {
        changed = running.shift() ?? "";
        await scene.stopTasks("logs", [changed]);
        stopping = true;
      }
      const at = performance.now();
      if (queueUrl !== undefined) {
        await clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(taskStateChange(changed, stopping)),
          }),
        );
      }
      const seconds = await waitFor(running, at);
      if (seconds === undefined) timedOut++;
      else samples.push(seconds);
    }
    return {
      mode: options.mode,
      intervalMs: options.intervalMs,
      changes: options.changes,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      median: median(samples),
      max: Math.max(...samples),
      timedOut,
    };
  } finally {
    await controller?.stop();
    operatorClients?.destroy();
    clients.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

function taskId(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

/** An "ECS Task State Change" event as EventBridge delivers it to SQS. */
function taskStateChange(taskArn: string, stopping: boolean): unknown {
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "ECS Task State Change",
    source: "aws.ecs",
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [taskArn],
    detail: {
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/logs`,
      group: "service:fluentd-0",
      startedBy: "ecs-svc/fluentd-0",
      taskArn,
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/fluentd:1`,
      lastStatus: "RUNNING",
      desiredStatus: stopping ? "STOPPED" : "RUNNING",
      ...(stopping ? { stopCode: "UserInitiated", stoppedReason: "Task stopped by user" } : {}),
      updatedAt: new Date().toISOString(),
      version: stopping ? 3 : 2,
    },
  };
}
