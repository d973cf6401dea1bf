import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { allKinds, buildReconcilers, buildWatchLister, kindParts } from "../../cmd/kinds.ts";
import { AwsCallCounter, createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { TickReadCache } from "../../controllers/aws/read-cache.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { Controller } from "../../controllers/controller.ts";
import { Informer } from "../../controllers/informers.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import { SpecWatcher } from "../../controllers/spec-watcher.ts";
import { AwsRoute53Api } from "../../reconcilers/weighted-record-set/aws-route53-api.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { startEmulator } from "./harness.ts";
import { ResyncCounter } from "../../bench/run.ts";
import { cloudMapSpecs, weightedSpec } from "../../bench/specs.ts";

// The controller as `run` composes it (every kind, the informers, the tick's read cache in the SDK clients), its
// intervals driven by a ManualClock so a test says exactly when a tick starts, against moto: what one converged
// tick asks AWS, with the shared reads and without.

const REGION = "us-east-1";
const SERVICES = 3;
const RECORD_SETS = 4;
const INTERVAL_MS = 30_000;

let moto: MotoEmulator;
let clients: AwsClients;
let zoneId = "";
let specsYaml = "";
const dirs: string[] = [];

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  const scene = await new AwsScene(clients).network();
  await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
  // One cluster per service: the emulator ignores ListTasks' serviceName filter.
  for (let s = 0; s < SERVICES; s++) {
    await scene.cluster(`logs-${s}`, 1);
    await scene.runTasks(`logs-${s}`, "fluentd", 2, `fluentd-${s}`);
  }
  const zone = await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: "logs.internal",
      CallerReference: "read-cache-test",
      HostedZoneConfig: { PrivateZone: true },
      VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
    }),
  );
  zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
  // One instance: moto refuses a CREATE of a weighted record beside another of its name and type.
  await scene.autoScalingGroup("log-asg", 1);
  specsYaml = [
    cloudMapSpecs(scene.vpcId, SERVICES, (s) => `logs-${s}`),
    ...Array.from({ length: RECORD_SETS }, (_, i) =>
      weightedSpec(`records-${i}`, "logs.internal", `r${i}.logs.internal`, "log-asg"),
    ),
  ].join("---\n");
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function started(shared: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "read-cache-it-"));
  dirs.push(dir);
  writeFileSync(join(dir, "specs.yaml"), specsYaml);
  const counter = new AwsCallCounter();
  const reads = shared ? new TickReadCache({ maxAgeMs: INTERVAL_MS }) : undefined;
  const operator = createAwsClients({
    endpoint: moto.endpoint,
    region: REGION,
    observer: counter,
    readCache: reads,
    route53RequestsPerSecond: 1000,
  });
  const clock = new ManualClock(Date.now());
  const logger = new ResyncCounter();
  const parts = kindParts(operator);
  const controller = new Controller({
    specs: new SpecWatcher({ dir, kinds: allKinds(), logger: silentLogger }),
    reconcilers: await buildReconcilers(parts),
    metrics: new ControllerMetrics(new Registry()),
    logger,
    ownerId: "it",
    intervalMs: INTERVAL_MS,
    informer: new Informer({ lister: await buildWatchLister(parts), logger }),
    reads,
    clock,
  });
  await controller.start();
  /** One interval passes: the tick's poll, its resync and every reconcile it enqueued, until the queue is idle. */
  const tick = async (): Promise<Map<string, number>> => {
    counter.reset();
    const before = logger.resyncs;
    await clock.advance(INTERVAL_MS);
    while (logger.resyncs === before) await delay(10);
    while (controller.queue.length > 0 || controller.queue.inFlight > 0) await delay(10);
    return counter.byOperation();
  };
  const stop = async () => {
    await controller.stop();
    operator.destroy();
  };
  return { tick, stop, counter };
}

describe("the tick's shared reads under run", () => {
  it("reads each piece of watched state once a tick: one zone listing for every spec in the zone, no writes", async () => {
    const run = await started(true);
    try {
      await run.tick(); // settles what the first sync left (a namespace's services created in its own tick)
      const calls = await run.tick();
      const n = (op: string) => calls.get(op) ?? 0;
      expect(n("route53:ListResourceRecordSets")).toBe(1);
      expect(n("route53:ListHostedZonesByName")).toBe(1);
      expect(n("autoscaling:DescribeAutoScalingGroups")).toBe(1);
      expect(n("ec2:DescribeInstances")).toBe(1);
      expect(n("ecs:ListTasks")).toBe(SERVICES);
      expect(n("ecs:DescribeTasks")).toBe(SERVICES);
      expect(n("servicediscovery:ListInstances")).toBe(SERVICES);
      expect(n("servicediscovery:ListNamespaces")).toBe(1);
      expect(run.counter.writes()).toEqual([]);
    } finally {
      await run.stop();
    }
  });

  it("costs far fewer calls a tick than reconciles that each read for themselves", async () => {
    const total = (calls: Map<string, number>) => [...calls.values()].reduce((a, b) => a + b, 0);
    const perReconcile = await started(false);
    let without: Map<string, number>;
    try {
      await perReconcile.tick();
      without = await perReconcile.tick();
    } finally {
      await perReconcile.stop();
    }
    const shared = await started(true);
    let withCache: Map<string, number>;
    try {
      await shared.tick();
      withCache = await shared.tick();
    } finally {
      await shared.stop();
    }
    // Without the cache every WeightedRecordSet lists its own name and every reconcile re-lists its tasks.
    expect(without.get("route53:ListResourceRecordSets")).toBe(RECORD_SETS);
    expect(without.get("ecs:DescribeTasks")).toBeGreaterThan(SERVICES);
    expect(total(withCache)).toBeLessThan(total(without) / 2);
  });

  it("heals drift within one interval: from live reads where Route 53 would not check the write, else from the tick's", async () => {
    const run = await started(true);
    try {
      await run.tick();
      const route53 = new AwsRoute53Api(clients);
      const recordOf = async (name: string) => {
        const found = (await route53.listRecordSets(zoneId, name)).find((r) => r.type === "A");
        expect(found).toBeDefined();
        return found!;
      };
      const change = (
        action: "DELETE" | "UPSERT",
        r: Awaited<ReturnType<typeof recordOf>>,
        weight?: number,
      ) =>
        clients.route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: {
              Changes: [
                {
                  Action: action,
                  ResourceRecordSet: {
                    Name: r.name,
                    Type: "A",
                    SetIdentifier: r.setIdentifier,
                    Weight: weight ?? r.weight,
                    TTL: r.ttl,
                    ResourceRecords: (r.values ?? []).map((Value) => ({ Value })),
                  },
                },
              ],
            },
          }),
        );
      // Someone changes a record's weight: Route 53 does not check an UPSERT against what is there, so the write back
      // is planned again from a live listing of the spec's name first.
      const reweighted = await recordOf("r1.logs.internal");
      await change("UPSERT", reweighted, 99);
      let calls = await run.tick();
      expect(calls.get("route53:ChangeResourceRecordSets")).toBe(1);
      expect(calls.get("route53:ListResourceRecordSets")).toBe(2);
      expect((await recordOf("r1.logs.internal")).weight).toBe(reweighted.weight);
      expect(run.counter.writes().every((c) => c.outcome === "success")).toBe(true);
      // Someone deletes a record (moto's DELETE takes every record of its set identifier with it, in every name): the
      // CREATEs that restore them are checked by Route 53 itself and go out from the tick's one listing, within the
      // interval, without a live one.
      await change("DELETE", await recordOf("r0.logs.internal"));
      calls = await run.tick();
      expect(calls.get("route53:ListResourceRecordSets")).toBe(1);
      expect(calls.get("route53:ChangeResourceRecordSets")).toBeGreaterThan(0);
      // moto refuses a CREATE equal to one in its zone's change journal while any record sorts after that name (the
      // registry records here; moto/route53/models.py, change_resource_record_sets), which Route 53 does not: where
      // moto takes the batch, the records must be back; where it refuses, only with that refusal.
      const restores = run.counter.writes();
      if (restores.every((c) => c.outcome === "success")) {
        for (let i = 0; i < RECORD_SETS; i++) await recordOf(`r${i}.logs.internal`);
      } else {
        expect(restores.map((c) => c.outcome)).toEqual(restores.map(() => "conflict"));
      }
    } finally {
      await run.stop();
    }
  });
});
