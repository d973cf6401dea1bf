import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import {
  DescribeTaskDefinitionCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { ListInstancesCommand, ListServicesCommand } from "@aws-sdk/client-servicediscovery";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { fenceParent } from "../../reconcilers/weighted-record-set/route53-fence.ts";
import { OperatorProcess } from "./controller-child.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";
import { leaderElectArgs, logsZone, weightedRecordIds, weightedRecordsSpec } from "./leader-elect-fixture.ts";
import { RecordingProxy } from "./recording-proxy.ts";

// Two `run --leader-elect` processes against the emulator (DynamoDB included), each sending its AWS calls through its
// own recording proxy, so that what each replica wrote is seen from outside it. Short durations (lease 3 s, renew
// deadline 2 s, retry period 0.5 s, interval 3 s); every wait is for a condition. The emulator's DynamoDB does not
// apply conditional writes atomically under concurrency (manifests/deploy/LEADER-ELECTION.md), so the second process
// is always started once the first leads.

const REGION = "us-east-1";
const LEASE_MS = 3_000;
const RENEW_MS = 2_000;
const RETRY_MS = 500;
const INTERVAL_MS = 3_000;
const LEASE_NAME = "ecs-log-operator-ha";
const RECORD = "fluentd.logs.internal";

let moto: Awaited<ReturnType<typeof startEmulator>>["moto"];
let clients: AwsClients;
let scene: AwsScene;
let zoneId = "";
let dir = "";
let running: Replica[] = [];

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await logBatchRevision();
  await scene.autoScalingGroup("log-asg", 6);
  zoneId = await logsZone(clients, scene, REGION);
  await scene.runTasks("logs", "fluentd", 5, "fluentd");
  dir = mkdtempSync(join(tmpdir(), "leader-election-process-"));
  writeFileSync(join(dir, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId));
  writeFileSync(
    join(dir, "records.yaml"),
    `${weightedRecordsSpec(RECORD)}---
apiVersion: ecs-log-operator/v1alpha1
kind: SidecarVolume
metadata: { name: log-batch }
spec:
  family: log-batch
  source: { container: fluentd }
  consumers: [{ container: batch, readOnly: true, dependsOn: START }]
`,
  );
});

afterEach(async () => {
  for (const r of running) await r.stop();
  running = [];
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** One `run --leader-elect` process behind its own recording proxy. */
class Replica {
  readonly name: string;
  readonly proxy: RecordingProxy;
  readonly process: OperatorProcess;
  port = 0;

  private constructor(name: string, proxy: RecordingProxy, process: OperatorProcess) {
    this.name = name;
    this.proxy = proxy;
    this.process = process;
  }

  static async start(name: string): Promise<Replica> {
    const proxy = await RecordingProxy.start(moto.endpoint);
    const process = new OperatorProcess(
      [
        dir,
        ...leaderElectArgs({
          leaseDurationMs: LEASE_MS,
          renewDeadlineMs: RENEW_MS,
          retryPeriodMs: RETRY_MS,
          intervalMs: INTERVAL_MS,
        }),
        ...["--owner-id", "ha", "--leader-elect-resource-name", LEASE_NAME],
      ],
      { ...moto.env(REGION), AWS_ENDPOINT_URL: proxy.endpoint },
    );
    const replica = new Replica(name, proxy, process);
    running.push(replica);
    replica.port = await process.port(60_000);
    return replica;
  }

  async get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`);
  }

  /** `ecs_log_operator_leader` as this process's /metrics reports it. */
  async leader(): Promise<number> {
    const text = await (await this.get("/metrics")).text();
    return Number(/^ecs_log_operator_leader (\d+)$/m.exec(text)?.[1]);
  }

  async election(): Promise<{
    identity: string;
    role: string;
    epoch?: number;
    leader?: { holder: string; epoch: number; since: string };
  }> {
    const status = (await (await this.get("/status")).json()) as { leaderElection: never };
    return status.leaderElection;
  }

  /** The log lines logged after `from` lines. */
  linesAfter(from: number): Record<string, unknown>[] {
    return this.process.lines.slice(from);
  }

  async stop(): Promise<void> {
    if (this.process.child.exitCode === null && this.process.child.signalCode === null) {
      this.process.child.kill("SIGCONT");
      await this.process.terminate(20_000);
    }
    await this.proxy.stop();
  }
}

async function until<T>(what: string, test: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const value = await test().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await delay(100); // each poll of converged() is five emulator calls: poll gently, the replicas share it
  }
}

/** Set identifiers of the weighted records at RECORD, sorted. */
async function recordIds(): Promise<string[]> {
  return weightedRecordIds(clients, zoneId, RECORD);
}

async function fenceTerm(): Promise<string | undefined> {
  const name = `term.${fenceParent(LEASE_NAME, "logs.internal")}`;
  const out = await clients.route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      StartRecordName: name,
      StartRecordType: "TXT",
    }),
  );
  return out.ResourceRecordSets?.find((r) => r.Name === `${name}.`)?.ResourceRecords?.[0]?.Value;
}

async function inService(): Promise<string[]> {
  return (await scene.groupInstanceIds("log-asg")).sort();
}

async function cloudMapInstances(): Promise<string[]> {
  const services = (await clients.serviceDiscovery.send(new ListServicesCommand({}))).Services ?? [];
  const id = services.find((s) => s.Name === "fluentd")?.Id;
  if (id === undefined) return [];
  const out = await clients.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: id }));
  return (out.Instances ?? []).map((i) => i.Id ?? "").sort();
}

async function runningTasks(): Promise<string[]> {
  const out = await clients.ecs.send(new ListTasksCommand({ cluster: "logs", desiredStatus: "RUNNING" }));
  return (out.taskArns ?? []).map((a) => a.split("/").pop() ?? "").sort();
}

/** A revision of log-batch as a deploy registers it: without the operator's patch. */
async function logBatchRevision(): Promise<void> {
  await clients.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "log-batch",
      networkMode: "bridge",
      containerDefinitions: [
        { name: "fluentd", image: "fluent/fluentd:v1.16", memory: 256 },
        { name: "batch", image: "batch:latest", memory: 256 },
      ],
    }),
  );
}

async function logBatchPatched(): Promise<boolean> {
  const out = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "log-batch" }));
  const batch = out.taskDefinition?.containerDefinitions?.find((c) => c.name === "batch");
  return batch?.volumesFrom?.some((v) => v.sourceContainer === "fluentd") === true;
}

const same = (a: readonly string[], b: readonly string[]) => a.join(",") === b.join(",");

/** Route 53, Cloud Map and the task definition all match AWS's current state. */
async function converged(): Promise<boolean> {
  return (
    same(await recordIds(), await inService()) &&
    same(await cloudMapInstances(), await runningTasks()) &&
    (await logBatchPatched())
  );
}

/** A leader started, converged, then a standby started once the leader leads; both ready. */
async function pair(): Promise<{ leader: Replica; standby: Replica }> {
  const leader = await Replica.start("a");
  await until("a leads", async () => (await leader.leader()) === 1);
  await until("a converges", converged);
  const standby = await Replica.start("b");
  await until("b is ready", async () => (await standby.get("/readyz")).status === 200);
  await until("b sees a lead", async () => (await standby.election()).leader !== undefined);
  return { leader, standby };
}

/** What the process itself and the services it writes to: Route 53, Cloud Map, ECS and the rest. */
const AWS_SERVICES = ["route53", "servicediscovery", "ecs", "autoscaling", "ec2", "s3", "logs", "monitoring"];

describe("two run --leader-elect processes", () => {
  it("exactly one leads, and only it writes to Route 53, Cloud Map and ECS; the standby is healthy, ready and says who leads", async () => {
    const { leader: a, standby: b } = await pair();
    // Changes while both run: a task stops and another starts, an instance leaves the group, a deploy registers an
    // unpatched revision of the sidecar's family.
    const tasks = await runningTasks();
    await scene.stopTasks("logs", [tasks[0] ?? ""]);
    await scene.runTasks("logs", "fluentd", 1, "fluentd");
    await scene.scaleGroup("log-asg", 5);
    await logBatchRevision();
    await until("a converges the changes", converged);

    expect([await a.leader(), await b.leader()]).toEqual([1, 0]);
    expect((await b.get("/healthz")).status).toBe(200);
    expect((await b.get("/readyz")).status).toBe(200);
    const aElection = await a.election();
    const bElection = await b.election();
    expect(aElection).toMatchObject({ role: "leader", leader: { holder: aElection.identity } });
    expect(bElection).toMatchObject({
      role: "standby",
      leader: { holder: aElection.identity, epoch: aElection.epoch },
    });
    expect(Date.parse(bElection.leader?.since ?? "")).toBeGreaterThan(0);

    // Per process, from outside it: a wrote to all three; b wrote nothing at all, the lease included.
    const aWrites = new Set(a.proxy.writes(0, AWS_SERVICES));
    expect([...aWrites]).toEqual(
      expect.arrayContaining([
        "route53:ChangeResourceRecordSets",
        "servicediscovery:RegisterInstance",
        "servicediscovery:DeregisterInstance",
        "ecs:RegisterTaskDefinition",
      ]),
    );
    expect(b.proxy.writes()).toEqual([]);
    expect(b.proxy.requests.some((r) => r.service === "dynamodb" && r.operation === "GetItem")).toBe(true);
    // Every batch a sent carried the fence: its term record holds a's epoch.
    expect(await fenceTerm()).toContain(`epoch=${aElection.epoch} `);
  });

  it("SIGKILL of the leader: the standby converges a scale-in made meanwhile within lease duration + retry period + one interval", async () => {
    const { leader: a, standby: b } = await pair();
    const epoch = (await a.election()).epoch ?? 0;
    const killedAt = performance.now();
    a.process.child.kill("SIGKILL");
    await scene.scaleGroup("log-asg", (await inService()).length - 1);
    const [task] = await runningTasks();
    await scene.stopTasks("logs", [task ?? ""]);
    await logBatchRevision();
    // The changes exist from here: under load, making them can outlast the takeover itself.
    const changedAt = performance.now();
    await until("b converges", converged, 30_000);
    // Converged when AWS answered the last of b's writes that got it there (b's proxy saw it), not when the test's
    // poll happened to notice: the poll's own latency under load is not the operator's.
    const convergedAt = b.proxy.lastWriteAnswered(killedAt, performance.now(), AWS_SERVICES) ?? Infinity;
    const seconds = (convergedAt - killedAt) / 1000;
    console.log(
      `SIGKILL of the leader: the standby converged a scale-in in ${seconds.toFixed(2)} s ` +
        `(changes made by ${((changedAt - killedAt) / 1000).toFixed(2)} s)`,
    );
    // Lease duration + retry period for the takeover (or until the changes exist, if later), + one interval.
    expect(convergedAt).toBeLessThanOrEqual(
      Math.max(killedAt + LEASE_MS + RETRY_MS, changedAt) + INTERVAL_MS,
    );
    expect(await b.leader()).toBe(1);
    expect((await b.election()).epoch).toBeGreaterThan(epoch);
    expect(b.proxy.writes(killedAt, AWS_SERVICES)).toEqual(
      expect.arrayContaining([
        "route53:ChangeResourceRecordSets",
        "servicediscovery:DeregisterInstance",
        "ecs:RegisterTaskDefinition",
      ]),
    );
  });

  it("SIGTERM of the leader: it finishes, releases the lease, and the other takes over and converges within a few seconds", async () => {
    const { leader: a, standby: b } = await pair();
    const linesBefore = a.process.lines.length;
    const terminatedAt = performance.now();
    const exit = a.process.terminate();
    await scene.scaleGroup("log-asg", (await inService()).length - 1);
    const changedAt = performance.now();
    await until("b leads", async () => (await b.leader()) === 1, 10_000);
    await until("b converges", converged, 10_000);
    // Timed by b's proxy: its lease write that succeeded (the acquisition), and AWS's answer to its last write.
    const takeover =
      b.proxy.firstSuccess(terminatedAt, (r) => r.service === "dynamodb" && r.operation === "PutItem") ??
      Infinity;
    const convergedAt = b.proxy.lastWriteAnswered(terminatedAt, performance.now(), AWS_SERVICES) ?? Infinity;
    const convergedIn = (convergedAt - terminatedAt) / 1000;
    const tookOverIn = (takeover - terminatedAt) / 1000;
    console.log(
      `SIGTERM of the leader: the other led after ${tookOverIn.toFixed(2)} s and converged after ` +
        `${convergedIn.toFixed(2)} s (the scale-in made by ${((changedAt - terminatedAt) / 1000).toFixed(2)} s)`,
    );
    expect(await exit).toEqual({ code: 0, signal: null });
    const messages = a.linesAfter(linesBefore).map((l) => l.msg);
    // The writes finished, then the lease was released, then the process exited.
    expect(messages.indexOf("lease released")).toBeGreaterThan(messages.lastIndexOf("lifecycle"));
    expect(messages.at(-1)).toBe("stopped");
    // Faster than any takeover by expiry, which needs a whole lease duration after a's last renewal (at most one
    // retry period before the signal).
    expect(tookOverIn).toBeLessThan((LEASE_MS - RETRY_MS) / 1000);
    // Converged within the lease duration + one interval of the scale-in existing (made right after the signal).
    expect(convergedAt - Math.max(terminatedAt, changedAt)).toBeLessThan(LEASE_MS + INTERVAL_MS);
  });

  it("a leader frozen (SIGSTOP) past its lease with a stale view in hand, resumed after the other took over and wrote: no record flips back, and it steps down", async () => {
    const { leader: a, standby: b } = await pair();
    // a's next WeightedRecordSet reconcile reads the group's addresses (EC2 DescribeInstances): it gets its answer,
    // from before the scale-in below, only once it is resumed.
    const hold = a.proxy.holdNext((r) => r.service === "ec2" && r.operation === "DescribeInstances");
    await hold.arrived;
    a.process.child.kill("SIGSTOP");
    const frozenEpoch = (await b.election()).leader?.epoch ?? 0;

    const before = await inService();
    await scene.scaleGroup("log-asg", before.length - 1);
    const after = await inService();
    const gone = before.filter((id) => !after.includes(id));
    expect(gone).toHaveLength(1);
    const [task] = await runningTasks();
    await scene.stopTasks("logs", [task ?? ""]);

    // Poll the records and Cloud Map's instances throughout: once gone, never back.
    const flips: string[] = [];
    const seenGone = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const [records, instances] = await Promise.all([recordIds(), cloudMapInstances()]);
        for (const id of [...gone, task ?? ""]) {
          const present = records.includes(id) || instances.includes(id);
          if (!present) seenGone.add(id);
          else if (seenGone.has(id)) flips.push(id);
        }
        await delay(100);
      }
    })();

    await until("b takes over", async () => (await b.leader()) === 1, 15_000);
    await until("b converges", converged, 15_000);
    await until("the poll sees them gone", async () => seenGone.size === gone.length + 1, 5_000);
    const bEpoch = (await b.election()).epoch ?? 0;
    expect(bEpoch).toBeGreaterThan(frozenEpoch);

    // a resumes with its stale answer, long past its renew deadline.
    const linesBefore = a.process.lines.length;
    hold.release();
    const resumedAt = performance.now();
    a.process.child.kill("SIGCONT");
    const stepped = await until(
      "a steps down",
      async () => a.linesAfter(linesBefore).find((l) => l.msg === "stopped leading"),
      15_000,
    );
    expect(["renew-deadline", "fenced-out"]).toContain(stepped.reason);
    await until("a reports standby", async () => (await a.leader()) === 0, 10_000);
    // a is following again (it reads the lease), and b has gone over every key since a resumed.
    await until(
      "a reads the lease again, twice",
      async () =>
        a.proxy.requests.filter(
          (r) => r.at > resumedAt && r.service === "dynamodb" && r.operation === "GetItem",
        ).length >= 2,
      10_000,
    );
    const bListedSince = b.proxy.requests.filter(
      (r) => r.at > resumedAt && r.service === "route53" && r.operation === "ListResourceRecordSets",
    ).length;
    await until(
      "b resyncs once more",
      async () =>
        b.proxy.requests.filter(
          (r) => r.at > resumedAt && r.service === "route53" && r.operation === "ListResourceRecordSets",
        ).length > bListedSince,
      10_000,
    );
    polling = false;
    await poller;

    expect(flips).toEqual([]);
    // a sends nothing after it resumes but, at most, the lease renewal it had started before it froze (frozen on its
    // way out): conditional on the version b has replaced since, DynamoDB refuses it, and it changes nothing.
    const sent = a.proxy.requests.filter((r) => r.write && r.at >= resumedAt);
    const refusedRenewal = (r: (typeof sent)[number]) =>
      r.service === "dynamodb" && r.operation === "PutItem" && r.status === 400;
    expect(
      sent.filter((r) => !refusedRenewal(r)).map((r) => `${r.service}:${r.operation} ${r.status}`),
    ).toEqual([]);
    expect(sent.filter(refusedRenewal).length).toBeLessThanOrEqual(1);
    expect(await converged()).toBe(true);
    expect([await a.leader(), await b.leader()]).toEqual([0, 1]);
    expect(await fenceTerm()).toContain(`epoch=${bEpoch} `);
  });
});
