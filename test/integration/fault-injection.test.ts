import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from "@aws-sdk/client-route-53";
import {
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
} from "@aws-sdk/client-servicediscovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { parseRegistry, registrySetIdentifier } from "../../reconcilers/weighted-record-set/registry.ts";
import { seededRandom } from "../seeded-random.ts";
import { FaultProxy } from "./fault-proxy.ts";
import { createForeignRecords } from "./foreign-records.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

/**
 * The operator under about 20% injected faults (throttling, 5xx and connection resets, some after the emulator made
 * the change) and killed with SIGKILL at random moments: repeated `apply`, and then a `run` killed and restarted,
 * must each end exactly converged: one namespace, one service, one instance per running task, one weighted record
 * per running task and one registry record listing exactly them, nothing left of stopped tasks, and the records it does not own untouched.
 * The randomness is seeded; what is asserted is only the end state, which must hold whatever the faults hit.
 */
const REGION = "us-east-1";
const NAME = "fluentd.logs.internal";
const random = seededRandom(20261124);
let moto: MotoEmulator;
let clients: AwsClients;
let proxy: FaultProxy;
let scene: AwsScene;
let dir = "";
let zoneId = "";
let foreign = "";
const children = new Set<ChildProcess>();

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  proxy = await FaultProxy.start(moto.endpoint, 7, { throttle: 0.07, serverError: 0.07, reset: 0.06 });
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  const zone = await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: "logs.internal",
      CallerReference: "faults",
      VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
      HostedZoneConfig: { PrivateZone: true },
    }),
  );
  zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
  await createForeignRecords(clients.route53, zoneId, NAME);
  foreign = JSON.stringify((await records()).filter(isForeign));
  dir = mkdtempSync(join(tmpdir(), "fault-injection-"));
  writeFileSync(join(dir, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId, { port: 24224 }));
  writeFileSync(
    join(dir, "records.yaml"),
    `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: fluentd }
spec:
  hostedZone: logs.internal
  name: ${NAME}
  type: A
  ttl: 10
  weight: 10
  targets: { ecsTasks: { cluster: logs, service: fluentd } }
  prune: true
`,
  );
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await proxy?.stop();
  clients?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function isForeign(r: ResourceRecordSet): boolean {
  return r.SetIdentifier === "manual" || r.Name === "grafana.logs.internal.";
}

async function records(): Promise<ResourceRecordSet[]> {
  const out = await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return out.ResourceRecordSets ?? [];
}

/** The operator as a child process through the faulty proxy; `onLine` sees its log lines (stdout and stderr). */
function operator(
  args: string[],
  onLine?: (line: string) => void,
): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["cmd/ecs-log-operator.ts", ...args, "--owner-id", "faults"], {
    env: { ...process.env, ...moto.env(REGION), AWS_ENDPOINT_URL: proxy.endpoint },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.on("data", (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) onLine?.(l);
    });
  }
  const exit = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      children.delete(child);
      r(code);
    }),
  );
  return { child, exit };
}

/** Starts the operator and SIGKILLs it a random moment after its first decision (or first log line). */
async function killMidway(args: string[], firstLine: (line: string) => boolean): Promise<void> {
  let started!: () => void;
  const working = new Promise<void>((r) => (started = r));
  const { child, exit } = operator(args, (l) => {
    if (firstLine(l)) started();
  });
  await Promise.race([working, exit]);
  await delay(Math.floor(random() * 1500));
  child.kill("SIGKILL");
  await exit;
}

async function runningTaskIds(): Promise<string[]> {
  const { ListTasksCommand } = await import("@aws-sdk/client-ecs");
  const out = await clients.ecs.send(new ListTasksCommand({ cluster: "logs", desiredStatus: "RUNNING" }));
  return (out.taskArns ?? []).map((a) => a.split("/").pop() ?? "").sort();
}

/** What AWS holds of ours, read straight from the emulator (not through the proxy). */
async function state() {
  const namespaces = (await clients.serviceDiscovery.send(new ListNamespacesCommand({}))).Namespaces ?? [];
  const services = (await clients.serviceDiscovery.send(new ListServicesCommand({}))).Services ?? [];
  const instances = await Promise.all(
    services.map(
      async (s) =>
        (await clients.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: s.Id }))).Instances ?? [],
    ),
  );
  const all = await records();
  const mine = all.filter((r) => !isForeign(r) && r.Type !== "NS" && r.Type !== "SOA");
  return {
    namespaces: namespaces.map((n) => n.Name).sort(),
    services: services.map((s) => s.Name).sort(),
    instances: instances
      .flat()
      .map((i) => `${i.Id} ${i.Attributes?.AWS_INSTANCE_PORT}`)
      .sort(),
    weighted: mine
      .filter((r) => r.Type === "A")
      .map((r) => `${r.Name} ${r.SetIdentifier}`)
      .sort(),
    // Each registry record with the set identifiers it lists.
    registry: mine
      .filter((r) => r.Type === "TXT")
      .flatMap((r) => {
        const entry = parseRegistry({
          name: (r.Name ?? "").replace(/\.$/, ""),
          type: "TXT",
          setIdentifier: r.SetIdentifier,
          values: r.ResourceRecords?.map((v) => v.Value ?? ""),
        });
        return (entry?.setIdentifiers ?? ["?"]).map((id) => `${r.Name} ${r.SetIdentifier} ${id}`);
      })
      .sort(),
    other: mine.filter((r) => r.Type !== "A" && r.Type !== "TXT").map((r) => `${r.Name} ${r.Type}`),
    foreign: JSON.stringify(all.filter(isForeign)),
  };
}

function converged(tasks: readonly string[]) {
  return {
    namespaces: ["fluentd.local"],
    services: ["fluentd"],
    instances: tasks.map((t) => `${t} 24224`),
    weighted: tasks.map((t) => `${NAME}. ${t}`),
    registry: [...tasks]
      .sort()
      .map(
        (t) => `_elo-a.${NAME}. ${registrySetIdentifier("faults", "WeightedRecordSet/fluentd", NAME)} ${t}`,
      ),
    other: [],
    foreign,
  };
}

describe("under injected faults and SIGKILL", () => {
  it("repeated apply ends exactly converged: nothing duplicated, nothing orphaned, foreign records untouched", async () => {
    await scene.runTasks("logs", "fluentd", 3, "fluentd");
    // Killed three times at random moments of its work, the emulator's state changing in between.
    for (let round = 0; round < 3; round++) {
      await killMidway(["apply", dir, "--verbose"], (l) => l.includes('"msg"'));
      if (round === 1) {
        const [victim] = await runningTaskIds();
        await scene.stopTasks("logs", [victim ?? ""]);
        await scene.runTasks("logs", "fluentd", 1, "fluentd");
      }
    }
    // Then applied until one pass converges, the faults still on.
    let code: number | null = 1;
    let passes = 0;
    for (; passes < 6 && code !== 0; passes++) code = await operator(["apply", dir]).exit;
    expect(code).toBe(0);
    const c = proxy.counts;
    console.log(
      `faults: ${c.throttle} throttled, ${c.serverError} 5xx, ${c.reset} resets of ${c.requests} requests ` +
        `(${c.replayed} token replays); ${passes} apply pass(es) after the kills`,
    );
    expect(await state()).toEqual(converged(await runningTaskIds()));
    expect(proxy.counts.throttle + proxy.counts.serverError + proxy.counts.reset).toBeGreaterThan(5);
  });

  it("a running controller, killed and restarted, ends exactly converged", async () => {
    const args = ["run", dir, "--interval", "1s", "--metrics-bind-address", "127.0.0.1:0"];
    const serving = (l: string) => l.includes('"msg":"serving"');
    // The workload moves while the controller is killed and restarted twice.
    const stopped = (await runningTaskIds()).slice(0, 2);
    await scene.stopTasks("logs", stopped);
    await scene.runTasks("logs", "fluentd", 2, "fluentd");
    await killMidway(args, serving);
    await scene.runTasks("logs", "fluentd", 1, "fluentd");
    await killMidway(args, serving);
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const { child, exit } = operator(args, (l) => {
      if (l.includes('"msg":"ready"')) ready();
    });
    // The last controller has started and made its first pass over every key, whatever the others left.
    await Promise.race([isReady, exit]);
    const want = await runningTaskIds();
    const deadline = Date.now() + 90_000;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await state();
      if (JSON.stringify(last) === JSON.stringify(converged(want))) break;
      await delay(500);
    }
    expect(last).toEqual(converged(want));
    const c = proxy.counts;
    console.log(
      `faults so far: ${c.throttle} throttled, ${c.serverError} 5xx, ${c.reset} resets of ${c.requests}`,
    );
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });
});
