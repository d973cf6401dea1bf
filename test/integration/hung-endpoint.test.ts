import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { ListInstancesCommand, ListServicesCommand } from "@aws-sdk/client-servicediscovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { OperatorProcess } from "./controller-child.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

/**
 * `run` with one AWS endpoint hung: Auto Scaling is sent to a TCP server that accepts every connection and never
 * answers a byte to an AWS call, everything else to the emulator. The WeightedRecordSet that follows an Auto Scaling group is stuck
 * on it; the Cloud Map specs and a WeightedRecordSet following ECS tasks must converge all the same, and the stuck one
 * must say in /status that it timed out.
 */
const REGION = "us-east-1";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
let dir = "";
let operator: OperatorProcess | undefined;
const sockets: Socket[] = [];
/**
 * Answers only `run`'s start-up probe of a hand-set endpoint (an unsigned `GET /`: any HTTP answer proves the
 * endpoint is there, cmd/aws-preflight.ts), and never a byte to a signed AWS call: an endpoint that hangs once the
 * operator runs.
 */
const hung = createServer((s) => {
  sockets.push(s);
  let head = "";
  s.on("data", (chunk: Buffer) => {
    head += chunk.toString("latin1");
    if (!head.includes("\r\n\r\n")) return;
    if (head.startsWith("GET / ") && !/^authorization:/im.test(head)) {
      s.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    }
    head = "";
  });
});

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
  dir = mkdtempSync(join(tmpdir(), "hung-endpoint-"));
});

afterAll(async () => {
  await operator?.terminate();
  for (const s of sockets) s.destroy();
  hung.close();
  clients?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function records(name: string, zone: string, group: string): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: ${name} }
spec:
  hostedZone: ${zone}
  name: ${name}.logs.internal
  type: A
  ttl: 10
  weight: 10
  targets: ${group}
`;
}

async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await delay(200);
  }
  throw new Error(
    `timed out waiting for ${what}${last ? `: ${String(last)}` : ""}\n${operator?.stderr ?? ""}`,
  );
}

interface Status {
  resources: {
    key: string;
    conditions: { type: string; status: string; reason: string; message: string }[];
  }[];
}

describe("run with a hung AWS endpoint", () => {
  it("stalls only the keys that need it; every other key converges; the stuck one shows a timeout", async () => {
    const zone = await clients.route53.send(
      new CreateHostedZoneCommand({
        Name: "logs.internal",
        CallerReference: "hung",
        VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
        HostedZoneConfig: { PrivateZone: true },
      }),
    );
    const zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
    const tasks = await scene.runTasks("logs", "fluentd", 2, "fluentd");
    writeFileSync(join(dir, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId));
    writeFileSync(
      join(dir, "by-tasks.yaml"),
      records("tasks", zoneId, "{ ecsTasks: { cluster: logs, service: fluentd } }"),
    );
    writeFileSync(join(dir, "by-group.yaml"), records("nodes", zoneId, "{ autoScalingGroup: log-asg }"));
    const address = hung.address();
    const hungUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    operator = new OperatorProcess(
      [
        dir,
        "--interval",
        "1s",
        "--workers",
        "2",
        "--metrics-bind-address",
        "127.0.0.1:0",
        "--owner-id",
        "hung",
        "--aws-request-timeout",
        "1s",
        "--reconcile-timeout",
        "20s",
      ],
      { ...moto.env(REGION), AWS_ENDPOINT_URL_AUTO_SCALING: hungUrl },
    );
    const port = await operator.port();
    const status = async (): Promise<Status> =>
      (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Status;

    // The stuck key: its Auto Scaling call got no answer within the request timeout.
    const stuck = await until("the stuck key to show a timeout", async () => {
      const r = (await status()).resources.find((x) => x.key === "WeightedRecordSet/nodes");
      const ready = r?.conditions.find((c) => c.type === "Ready");
      return ready?.status === "False" && ready.reason === "AwsTimeout" ? ready : undefined;
    });
    expect(stuck.message).toMatch(
      /autoscaling DescribeAutoScalingGroups: TimeoutError: .*--aws-request-timeout/,
    );

    // Every other key converged: the tasks are in Cloud Map and in Route 53.
    const taskIds = tasks.map((t) => t.split("/").pop() ?? "").sort();
    await until("Cloud Map instances of the tasks", async () => {
      const services = (await clients.serviceDiscovery.send(new ListServicesCommand({}))).Services ?? [];
      const id = services.find((s) => s.Name === "fluentd")?.Id;
      if (id === undefined) return undefined;
      const out = await clients.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: id }));
      const ids = (out.Instances ?? []).map((i) => i.Id ?? "").sort();
      return JSON.stringify(ids) === JSON.stringify(taskIds) ? ids : undefined;
    });
    await until("weighted records of the tasks", async () => {
      const out = await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
      const ids = (out.ResourceRecordSets ?? [])
        .filter((r) => r.Name === "tasks.logs.internal." && r.Type === "A")
        .map((r) => r.SetIdentifier ?? "")
        .sort();
      return JSON.stringify(ids) === JSON.stringify(taskIds) ? ids : undefined;
    });
    // The instances show in Cloud Map as soon as they are registered, while the reconcile that registered them still
    // awaits their operations (250 ms at least, instance-operations.ts); /status reports the last reconcile that
    // finished, so each key is waited for until it says it converged.
    for (const key of [
      "CloudMapNamespace/logs-namespace",
      "CloudMapService/fluentd",
      "WeightedRecordSet/tasks",
    ]) {
      const ready = await until(`${key} to be Ready`, async () => {
        const c = (await status()).resources
          .find((r) => r.key === key)
          ?.conditions.find((x) => x.type === "Ready");
        return c?.status === "True" ? c : undefined;
      });
      expect(ready, key).toMatchObject({ status: "True", reason: "Converged" });
    }
    // Still stuck, still saying why; the process stays healthy and stops cleanly.
    const again = (await status()).resources.find((x) => x.key === "WeightedRecordSet/nodes");
    expect(again?.conditions.find((c) => c.type === "Ready")?.reason).toBe("AwsTimeout");
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await operator.terminate()).toEqual({ code: 0, signal: null });
  });
});
