import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  DeregisterInstanceCommand,
  ListInstancesCommand,
  ListServicesCommand,
} from "@aws-sdk/client-servicediscovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { allKinds } from "../../cmd/kinds.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { OperatorProcess } from "./controller-child.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

const REGION = "us-east-1";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
let dir = "";
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  dir = mkdtempSync(join(tmpdir(), "controller-process-"));
});

afterAll(async () => {
  await operator?.terminate();
  clients?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function instanceIds(): Promise<string[]> {
  const services = (await clients.serviceDiscovery.send(new ListServicesCommand({}))).Services ?? [];
  const svc = services.find((s) => s.Name === "fluentd");
  if (svc?.Id === undefined) return [];
  const out = await clients.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: svc.Id }));
  return (out.Instances ?? []).map((i) => i.Id ?? "").sort();
}

async function converges(what: string, test: () => Promise<boolean>, ms = 15_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await test()) return (performance.now() - started) / 1000;
    await delay(100);
  }
  throw new Error(`AWS did not converge within ${ms} ms: ${what}`);
}

const taskIds = (arns: readonly string[]): string[] => arns.map((a) => a.split("/").pop() ?? "").sort();

describe("ecs-log-operator run, as a child process", () => {
  it("registers the tasks of a Cloud Map service as they start and stop, restores an instance deregistered by hand, and exits 0 on SIGTERM", async () => {
    const kinds = allKinds().map((k) => k.kind);
    expect(kinds, "the Cloud Map kinds are registered in cmd/kinds.ts").toEqual(
      expect.arrayContaining(["CloudMapNamespace", "CloudMapService"]),
    );
    writeFileSync(join(dir, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId, { port: 24224 }));
    const tasks = await scene.runTasks("logs", "fluentd", 2, "fluentd");
    operator = new OperatorProcess(
      [dir, "--interval", "1s", "--metrics-bind-address", "127.0.0.1:0", "--owner-id", "it"],
      moto.env(REGION),
    );
    const port = await operator.port();
    await converges(
      "readyz",
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      30_000,
    );
    await converges("instances of the running tasks", async () => same(await instanceIds(), taskIds(tasks)));

    const more = await scene.runTasks("logs", "fluentd", 1, "fluentd");
    await scene.stopTasks("logs", [tasks[0] ?? ""]);
    const followed = await converges("instances follow the tasks", async () =>
      same(await instanceIds(), taskIds([...tasks.slice(1), ...more])),
    );

    const services = (await clients.serviceDiscovery.send(new ListServicesCommand({}))).Services ?? [];
    const serviceId = services.find((s) => s.Name === "fluentd")?.Id ?? "";
    const victim = taskIds(more)[0] ?? "";
    await clients.serviceDiscovery.send(
      new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: victim }),
    );
    const restored = await converges(
      "instance deregistered by hand restored within one resync",
      async () => (await instanceIds()).includes(victim),
      3000,
    );

    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      phase: string;
      resources: {
        key: string;
        generation: string;
        observedGeneration: string;
        conditions: { type: string; status: string }[];
      }[];
    };
    expect(status.phase).toBe("ready");
    const svc = status.resources.find((r) => r.key === "CloudMapService/fluentd");
    expect(svc?.observedGeneration).toBe(svc?.generation);
    expect(svc?.conditions).toContainEqual(expect.objectContaining({ type: "Ready", status: "True" }));

    const exit = await operator.terminate();
    expect(exit).toEqual({ code: 0, signal: null });
    const decisions = operator.lines.filter((l) => l.msg === "applied" || l.msg === "drift corrected");
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions.every((l) => typeof l.resource === "string")).toBe(true);
    expect(operator.lines.at(-1)?.msg).toBe("stopped");
    console.log(
      `child process, --interval 1s: tasks followed in ${followed.toFixed(2)}s, instance restored in ${restored.toFixed(2)}s`,
    );
  });
});

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}
