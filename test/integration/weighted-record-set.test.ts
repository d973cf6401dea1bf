import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from "@aws-sdk/client-route-53";
import { DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { planOrApplyCommand } from "../../cmd/commands/plan-apply.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { AwsCallCounter, type AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { runPass, type PassResult } from "../../controllers/pass.ts";
import type { Detach, Reconciler } from "../../controllers/reconciler.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { taskIdOf } from "../../reconcilers/ecs-tasks/running-tasks.ts";
import { weightedRecordSetKind } from "../../reconcilers/weighted-record-set/kind.ts";
import {
  TERMINATING_WAIT,
  type AutoScalingApi,
  type GroupInstances,
  type LifecycleActionInput,
  type LifecycleHook,
} from "../../reconcilers/weighted-record-set/auto-scaling-api.ts";
import { AwsAutoScalingApi } from "../../reconcilers/weighted-record-set/aws-auto-scaling-api.ts";
import { AwsRoute53Api } from "../../reconcilers/weighted-record-set/aws-route53-api.ts";
import {
  recordKey,
  type RecordChange,
  type Route53Api,
} from "../../reconcilers/weighted-record-set/route53-api.ts";
import { DrainCoordinator } from "../../reconcilers/weighted-record-set/drain.ts";
import {
  legacyTwinRecord,
  parseRegistry,
  registrySetIdentifier,
} from "../../reconcilers/weighted-record-set/registry.ts";
import { AwsEcsTaskApi } from "../../reconcilers/ecs-tasks/aws-ecs-task-api.ts";
import {
  createWeightedRecordSetReconciler,
  WeightedRecordSetReconciler,
} from "../../reconcilers/weighted-record-set/reconciler.ts";
import { createForeignRecords } from "./foreign-records.ts";
import { startEmulator } from "./harness.ts";
import { ManualTerm } from "../manual-term.ts";
import { StaleLeaderError } from "../../controllers/leader-election/term.ts";
import { Route53Fence } from "../../reconcilers/weighted-record-set/route53-fence.ts";

let emulator: MotoEmulator;
let clients: AwsClients;
const counter = new AwsCallCounter();

beforeAll(async () => {
  ({ moto: emulator, clients } = await startEmulator({
    region: "us-east-1",
    observer: counter,
    route53RequestsPerSecond: 200,
  }));
});

afterAll(async () => {
  clients?.destroy();
  await emulator?.stop();
});

let scene: AwsScene;
let zoneId: string;
beforeEach(async () => {
  await emulator.reset();
  scene = new AwsScene(clients);
  await scene.network();
  zoneId = await hostedZone("logs.internal", true);
  counter.reset();
});

const NAME = "fluentd.logs.internal";

async function hostedZone(
  name: string,
  privateZone: boolean,
  reference = `${name}-${privateZone}`,
): Promise<string> {
  const out = await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: reference,
      ...(privateZone ? { VPC: { VPCId: scene.vpcId, VPCRegion: "us-east-1" } } : {}),
      HostedZoneConfig: { PrivateZone: privateZone, Comment: "test" },
    }),
  );
  return (out.HostedZone?.Id ?? "").replace("/hostedzone/", "");
}

/** Every record of the zone, exactly as Route 53 lists it (the test's own pagination, independent of the adapter's). */
async function zoneRecords(id = zoneId): Promise<ResourceRecordSet[]> {
  const out: ResourceRecordSet[] = [];
  const seen = new Set<string>();
  let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet["Type"] } = {};
  for (;;) {
    const page = await clients.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: id, ...start }),
    );
    for (const r of page.ResourceRecordSets ?? []) {
      const key = `${r.Name}|${r.Type}|${r.SetIdentifier ?? ""}`;
      if (!seen.has(key)) out.push(r);
      seen.add(key);
    }
    if (!page.IsTruncated) return out;
    start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType };
  }
}

function weighted(records: readonly ResourceRecordSet[], name = NAME, type = "A"): ResourceRecordSet[] {
  return records.filter((r) => r.Name === `${name}.` && r.Type === type && r.SetIdentifier !== "manual");
}

/** A hand-made weighted record at the same name, and an unrelated one: the operator must never change them. */
async function seedForeignRecords(): Promise<string> {
  await createForeignRecords(clients.route53, zoneId, NAME);
  return foreignSnapshot();
}

async function foreignSnapshot(): Promise<string> {
  const records = await zoneRecords();
  return JSON.stringify(
    records.filter((r) => r.SetIdentifier === "manual" || r.Name === "grafana.logs.internal."),
  );
}

function spec(
  targets: string,
  extra: { name?: string; zone?: string; ttl?: number; more?: string } = {},
): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata:
  name: ${extra.name ?? "fluentd"}
spec:
  hostedZone: ${extra.zone ?? "logs.internal"}
  name: ${NAME}
  type: A
  ttl: ${extra.ttl ?? 10}
  weight: 10
  targets:
    ${targets}
${extra.more ?? ""}`;
}

function documents(text: string) {
  const parsed = parseSpecText("specs/records.yaml", text, [weightedRecordSetKind]);
  expect(parsed.diagnostics).toEqual([]);
  return parsed.documents;
}

async function pass(
  text: string,
  options: {
    apply?: boolean;
    ownerId?: string;
    reconciler?: Reconciler;
    complete?: boolean;
    detach?: Detach;
  } = {},
): Promise<PassResult> {
  return runPass(
    {
      detach: options.detach,
      reconcilers: [options.reconciler ?? strictReconciler()],
      documents: text === "" ? [] : documents(text),
      complete: options.complete ?? true,
      ownerId: options.ownerId ?? "test-owner",
      logger: silentLogger,
      signal: AbortSignal.timeout(60_000),
      // The kind's own removal rule, apart from the prune guard (which has its tests in prune-guard.test.ts).
      pruneGuard: { allowEmpty: true, maxCount: 1, maxFraction: 1 },
    },
    options.apply ?? true,
  );
}

async function converged(text: string, options: { ownerId?: string } = {}): Promise<void> {
  counter.reset();
  const again = await pass(text, options);
  expect(again.failures).toEqual([]);
  expect(again.plans.flatMap((p) => p.changes)).toEqual([]);
  expect(counter.writes()).toEqual([]);
}

async function groupIps(name: string): Promise<Map<string, string>> {
  const ids = await scene.groupInstanceIds(name);
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const out = await (await clients.ec2()).send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return new Map(
    (out.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .map((i) => [i.InstanceId ?? "", i.PrivateIpAddress ?? ""]),
  );
}

describe("WeightedRecordSet against the emulator", () => {
  it("gives 3 instances 3 records, leaves foreign records alone, and writes nothing when converged", async () => {
    await scene.autoScalingGroup("log-asg", 3);
    const foreign = await seedForeignRecords();
    const text = spec("autoScalingGroup: log-asg");
    counter.reset();
    const planned = await pass(text, { apply: false });
    expect(planned.failures).toEqual([]);
    // Each record, and the registry record (the `_elo-` TXT that says who owns them): four writes, four lines.
    expect(planned.plans[0]!.changes.map((c) => c.action)).toEqual(Array(4).fill("create"));
    expect(planned.plans[0]!.changes.filter((c) => c.target.startsWith("registry _elo-"))).toHaveLength(1);
    expect(planned.plans[0]!.notes?.join("\n")).toContain("layout: 3 weighted record(s)");
    expect(counter.writes()).toEqual([]);

    counter.reset();
    const result = await pass(text);
    expect(result.failures).toEqual([]);
    expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(1);

    const records = await zoneRecords();
    const ips = await groupIps("log-asg");
    expect(
      weighted(records)
        .map((r) => [r.SetIdentifier, r.Weight, r.TTL, r.ResourceRecords?.map((v) => v.Value)])
        .sort(),
    ).toEqual([...ips].map(([id, ip]) => [id, 10, 10, [ip]]).sort());
    expect(
      weighted(records, `_elo-a.${NAME}`, "TXT").map((r) => r.ResourceRecords?.map((v) => v.Value)),
    ).toEqual([
      [
        '"heritage=ecs-log-operator,owner=test-owner,resource=WeightedRecordSet/fluentd"',
        `"${[...ips.keys()].sort().join(" ")}"`,
      ],
    ]);
    expect(await foreignSnapshot()).toBe(foreign);
    await converged(text);
  });

  it("converges scaling to 12 and back to 2 in one ChangeResourceRecordSets call each", async () => {
    await scene.autoScalingGroup("log-asg", 2);
    const foreign = await seedForeignRecords();
    const text = spec("autoScalingGroup: log-asg");
    await pass(text);
    for (const size of [12, 2]) {
      await scene.scaleGroup("log-asg", size);
      counter.reset();
      const result = await pass(text);
      expect(result.failures).toEqual([]);
      expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(1);
      const ids = await scene.groupInstanceIds("log-asg");
      expect(
        weighted(await zoneRecords())
          .map((r) => r.SetIdentifier)
          .sort(),
      ).toEqual([...ids].sort());
      expect(await foreignSnapshot()).toBe(foreign);
      await converged(text);
    }
  });

  it("spreads 250 instances over shards of at most 100 weighted records, each address reachable from the top name", async () => {
    await scene.autoScalingGroup("big-asg", 250);
    const foreign = await seedForeignRecords();
    const text = spec("autoScalingGroup: big-asg");
    const planned = await pass(text, { apply: false });
    expect(planned.plans[0]!.notes?.join("\n")).toContain(
      `layout: 3 shards behind weighted alias records at ${NAME} (s0: 84, s1: 83, s2: 83)`,
    );
    counter.reset();
    expect((await pass(text)).failures).toEqual([]);
    expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(1);

    const records = await zoneRecords();
    const byName = new Map<string, ResourceRecordSet[]>();
    for (const r of records.filter((x) => x.Type === "A"))
      byName.set(r.Name ?? "", [...(byName.get(r.Name ?? "") ?? []), r]);
    for (const group of byName.values()) expect(group.length).toBeLessThanOrEqual(100);
    const aliases = weighted(records).filter((r) => r.AliasTarget !== undefined);
    expect(aliases.map((a) => a.AliasTarget?.DNSName?.replace(/\.$/, "")).sort()).toEqual(
      [0, 1, 2].map((k) => `s${k}.${NAME}`),
    );
    const reachable = aliases.flatMap((a) =>
      (byName.get(`${a.AliasTarget?.DNSName?.replace(/\.$/, "")}.`) ?? []).flatMap(
        (r) => r.ResourceRecords?.map((v) => v.Value) ?? [],
      ),
    );
    expect(new Set(reachable)).toEqual(new Set((await groupIps("big-asg")).values()));
    expect(reachable).toHaveLength(250);
    expect(await foreignSnapshot()).toBe(foreign);
    await converged(text);

    // Scale in to 150: still sharded (2 shards of 75), one batch, nothing lost.
    await scene.scaleGroup("big-asg", 150);
    counter.reset();
    expect((await pass(text)).failures).toEqual([]);
    expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(1);
    const after = await zoneRecords();
    expect(weighted(after).map((a) => [a.SetIdentifier, a.Weight])).toEqual([
      ["shard-s0", 75],
      ["shard-s1", 75],
    ]);
    expect(after.filter((r) => r.Name === `s2.${NAME}.`)).toEqual([]);
    expect(await foreignSnapshot()).toBe(foreign);
    await converged(text);
  });

  it("proves ownership from AWS: a restarted operator goes on, another owner id changes nothing of ours", async () => {
    await scene.autoScalingGroup("log-asg", 3);
    const text = spec("autoScalingGroup: log-asg");
    await pass(text, { ownerId: "blue" });
    const blue = JSON.stringify(await zoneRecords());

    // Another operator, same spec, another owner id: the set identifiers are taken, so it refuses and writes nothing.
    counter.reset();
    const green = await pass(text, { ownerId: "green" });
    expect(green.failures[0]?.error.message).toMatch(
      /^specs\/records\.yaml:7:9: WeightedRecordSet\/fluentd: not writing to zone logs\.internal .*owned by operator owner id "blue"/,
    );
    expect(counter.writes()).toEqual([]);
    // The same operator with an empty group under another owner id deletes nothing either.
    await scene.scaleGroup("log-asg", 0);
    counter.reset();
    expect((await pass(text, { ownerId: "green" })).failures).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(JSON.stringify(await zoneRecords())).toBe(blue);

    // "Restarted": a new reconciler with no memory (the production composition), same owner id, removes its records.
    await pass(text, { ownerId: "blue", reconciler: createWeightedRecordSetReconciler(clients) });
    expect(weighted(await zoneRecords())).toEqual([]);
    expect(weighted(await zoneRecords(), `_elo-a.${NAME}`, "TXT")).toEqual([]);
  });

  it("two spec sets on the default owner id: the scratch one removes nothing of the real one's, and says why", async () => {
    await scene.autoScalingGroup("log-asg", 2);
    // The real directory, applied with no --owner-id; its spec asks for prune, so only the owner id keeps the
    // scratch directory from removing its records.
    await pass(spec("autoScalingGroup: log-asg", { more: "  prune: true\n" }), { ownerId: "default" });
    const before = await zoneRecords();
    expect(weighted(before)).toHaveLength(2);

    // A scratch directory with none of its specs, same account, same default id: before, this planned to delete
    // every record the real directory made ("no spec manages fluentd.logs.internal A any more").
    counter.reset();
    const scratch = await pass("", { ownerId: "default" });
    expect(scratch.failures).toEqual([]);
    expect(scratch.plans.flatMap((p) => p.changes)).toEqual([]);
    expect(scratch.plans.flatMap((p) => p.notes ?? []).join("\n")).toMatch(
      /left as it is: delete fluentd\.logs\.internal A .*owner id is "default".*--owner-id/,
    );
    expect(counter.writes()).toEqual([]);
    expect(await zoneRecords()).toEqual(before);

    // A spec set with its own owner id removes its own orphans as before (the next test).
  });

  it("leaves the records of a removed spec that did not say prune: true, and plan says so", async () => {
    await scene.autoScalingGroup("log-asg", 2);
    await pass(spec("autoScalingGroup: log-asg"), { ownerId: "blue" });
    const before = await zoneRecords();
    counter.reset();
    const result = await pass("", { ownerId: "blue" });
    expect(counter.writes()).toEqual([]);
    expect(result.plans.map((p) => [p.key, p.changes.length, p.notes])).toEqual([
      [
        `WeightedRecordSet/fluentd (${NAME}: no spec manages it)`,
        0,
        [
          `the records at ${NAME} A in zone logs.internal (${zoneId}) is left as it is, no longer managed: ` +
            "WeightedRecordSet/fluentd was removed and did not say prune: true",
        ],
      ],
    ]);
    expect(await zoneRecords()).toEqual(before);
  });

  it("deletes its records when a spec that said prune: true is gone, only when every spec loaded, and never someone else's", async () => {
    await scene.autoScalingGroup("log-asg", 3);
    // Another group for the other owner: moto's DELETE removes every record of the zone with the set identifier given,
    // whatever its name (Route 53 removes only the one named), so two owners must not share instance ids here.
    await scene.autoScalingGroup("green-asg", 3);
    const foreign = await seedForeignRecords();
    // Applied first without prune, then with: the marker is written into the registry record.
    await pass(spec("autoScalingGroup: log-asg"), { ownerId: "blue" });
    const marked = await pass(spec("autoScalingGroup: log-asg", { more: "  prune: true\n" }), {
      ownerId: "blue",
    });
    expect(marked.plans[0]?.changes.map((c) => c.detail)).toEqual(["prune false -> true"]);
    await pass(
      spec("autoScalingGroup: green-asg", { more: "  prune: true\n" }).replace(NAME, `green.logs.internal`),
      {
        ownerId: "green",
      },
    );
    const before = await zoneRecords();

    // A spec set with an invalid file is incomplete: nothing is planned for deletion.
    counter.reset();
    const incomplete = await pass("", { ownerId: "blue", complete: false });
    expect(incomplete.plans).toEqual([]);
    expect(counter.writes()).toEqual([]);

    const planned = await pass("", { ownerId: "blue", apply: false });
    expect(planned.plans.map((p) => [p.key, p.changes.length])).toEqual([
      // Three records and their registry record.
      [`WeightedRecordSet/fluentd (${NAME}: no spec manages it)`, 4],
    ]);
    counter.reset();
    expect((await pass("", { ownerId: "blue" })).failures).toEqual([]);
    expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(1);
    const after = await zoneRecords();
    expect(weighted(after)).toEqual([]);
    expect(weighted(after, "green.logs.internal")).toEqual(weighted(before, "green.logs.internal"));
    expect(after.filter((r) => r.Type === "TXT" && r.Name?.endsWith(`${NAME}.`))).toEqual([]);
    expect(await foreignSnapshot()).toBe(foreign);
    await converged("", { ownerId: "blue" });

    // A scan that found nothing is not repeated while the specs stay the same (a new spec set scans again).
    const running = strictReconciler();
    await pass("", { ownerId: "blue", reconciler: running });
    counter.reset();
    await pass("", { ownerId: "blue", reconciler: running });
    expect(counter.count("route53", "ListHostedZones")).toBe(0);
    await pass(spec("autoScalingGroup: log-asg"), { ownerId: "blue", reconciler: running });
    expect(counter.count("route53", "ListHostedZones")).toBe(1);
  });

  it("migrates registry twins of the format before in place: same records, proven after every batch, twins gone", async () => {
    await scene.autoScalingGroup("log-asg", 3);
    await scene.autoScalingGroup("green-asg", 2);
    const foreign = await seedForeignRecords();
    const blueIps = await groupIps("log-asg");
    const greenIps = await groupIps("green-asg");
    // The zone as the operator before issue 16 left it, written through the real SDK: owner blue's records at NAME
    // (prune: true), owner green's at the same name, and blue's at a name no spec names any more (prune: true).
    const legacy = (
      name: string,
      id: string,
      ip: string,
      owner: string,
      resource: string,
      prune: boolean,
    ) => [
      { name, type: "A", setIdentifier: id, weight: 10, ttl: 10, values: [ip] },
      legacyTwinRecord(name, "A", id, owner, resource, prune),
    ];
    const old = [
      ...[...blueIps].flatMap(([id, ip]) => legacy(NAME, id, ip, "blue", "WeightedRecordSet/fluentd", true)),
      ...[...greenIps].flatMap(([id, ip]) => legacy(NAME, id, ip, "green", "WeightedRecordSet/green", false)),
      ...legacy("gone.logs.internal", "i-0gone0", "10.0.9.1", "blue", "WeightedRecordSet/gone", true),
    ];
    await new AwsRoute53Api(clients).changeRecordSets(
      zoneId,
      old.map((record) => ({ action: "CREATE", record })),
    );
    const before = await zoneRecords();
    const records = (all: readonly ResourceRecordSet[], name: string) =>
      JSON.stringify(
        weighted(all, name).sort((a, b) => ((a.SetIdentifier ?? "") < (b.SetIdentifier ?? "") ? -1 : 1)),
      );
    const text = spec("autoScalingGroup: log-asg", { more: "  prune: true\n" });

    // plan lists what apply will send: each twin deleted, each record restated beside it, the registry record.
    const route53 = new ProvingRoute53(new AwsRoute53Api(clients), async () => zoneRecords());
    const reconciler = new WeightedRecordSetReconciler({
      route53,
      autoScaling: new AwsAutoScalingApi(clients),
      ecsTasks: new AwsEcsTaskApi(clients),
    });
    const planned = await pass(text, { ownerId: "blue", apply: false, reconciler });
    expect(planned.failures).toEqual([]);
    const lines = planned.plans.flatMap((p) => p.changes);
    expect(lines.filter((c) => c.target.startsWith("registry ") && c.action === "delete")).toHaveLength(4);
    expect(
      lines.filter((c) => c.detail === "unchanged; sent again beside the removal of its registry twin"),
    ).toHaveLength(3);
    expect(planned.plans.flatMap((p) => p.notes ?? []).join("\n")).toContain(
      "3 registry twin(s) of the format before replaced",
    );
    expect(route53.batches).toEqual([]);

    counter.reset();
    const applied = await pass(text, { ownerId: "blue", reconciler });
    expect(applied.failures).toEqual([]);
    // One batch per zone for both plans (the spec's, and the sweep's for the name no spec names); what was sent is
    // what plan listed.
    expect(route53.batches.flat()).toHaveLength(lines.length);
    expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(route53.batches.length);
    const after = await zoneRecords();
    // Nothing a resolver sees changed: blue's and green's records are as they were, green's twins too.
    expect(records(after, NAME)).toBe(records(before, NAME));
    const txt = weighted(after, `_elo-a.${NAME}`, "TXT");
    expect(txt.map((r) => [r.SetIdentifier, r.ResourceRecords?.map((v) => v.Value)])).toEqual(
      expect.arrayContaining([
        [
          registrySetIdentifier("blue", "WeightedRecordSet/fluentd", NAME),
          [
            '"heritage=ecs-log-operator,owner=blue,resource=WeightedRecordSet/fluentd,prune=true"',
            `"${[...blueIps.keys()].sort().join(" ")}"`,
          ],
        ],
      ]),
    );
    expect(
      txt
        .filter((r) => !r.SetIdentifier?.startsWith("_elo-registry-"))
        .map((r) => r.SetIdentifier)
        .sort(),
    ).toEqual([...greenIps.keys()].sort());
    // The removed spec's records, proven by twins with its prune marker, are gone with them.
    expect(after.filter((r) => r.Name?.endsWith("gone.logs.internal."))).toEqual([]);
    expect(await foreignSnapshot()).toBe(foreign);

    // Converged, for this operator restarted, and another owner id finds nothing of its own to change.
    await converged(text, { ownerId: "blue" });
    counter.reset();
    expect((await pass("", { ownerId: "green" })).failures).toEqual([]);
    expect(counter.writes()).toEqual([]);
    // Scaling goes on from the new format.
    await scene.scaleGroup("log-asg", 4);
    expect((await pass(text, { ownerId: "blue" })).failures).toEqual([]);
    expect(weighted(await zoneRecords()).length).toBe(4 + 2);
    await converged(text, { ownerId: "blue" });
  });

  it("plans with exit code 2, applies, then plans 0 through the command line", async () => {
    await scene.autoScalingGroup("log-asg", 3);
    const dir = await mkdtemp(join(tmpdir(), "wrs-"));
    await writeFile(join(dir, "records.yaml"), spec("autoScalingGroup: log-asg"));
    const run = async (mode: "plan" | "apply") => {
      let out = "";
      const code = await planOrApplyCommand(
        mode,
        [dir, "--endpoint-url", emulator.endpoint, "--region", "us-east-1"],
        {
          out: (t) => (out += t),
          err: (t) => (out += t),
          color: false,
        },
      );
      return { code, out };
    };
    try {
      const planned = await run("plan");
      expect(planned.code).toBe(2);
      expect(planned.out).toContain("layout: 3 weighted record(s) at fluentd.logs.internal");
      expect(planned.out).toContain("Plan: 4 to create, 0 to update, 0 to delete.");
      const applied = await run("apply");
      expect(applied.code).toBe(0);
      // What it did, in the past tense, the same four changes plan listed: before, apply's summary began "Plan:".
      expect(applied.out).toContain("Applied: 4 created, 0 updated, 0 deleted.");
      expect(applied.out).not.toContain("Plan:");
      expect(applied.out).toContain("+ created registry _elo-a.fluentd.logs.internal TXT");
      expect(weighted(await zoneRecords())).toHaveLength(3);
      const again = await run("apply");
      expect(again).toMatchObject({ code: 0 });
      expect(again.out).toContain("0 write(s)");
      expect(again.out).toContain("No changes: AWS already matched the specs.");
      expect((await run("plan")).code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("follows ECS tasks, with the task id as set identifier", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    const tasks = await scene.runTasks("logs", "fluentd", 3, "fluentd");
    const text = spec("ecsTasks: { cluster: logs, service: fluentd }");
    expect((await pass(text)).failures).toEqual([]);
    const records = weighted(await zoneRecords());
    expect(records.map((r) => r.SetIdentifier).sort()).toEqual(tasks.map(taskIdOf).sort());
    const described = await clients.ecs.send(new DescribeTasksCommand({ cluster: "logs", tasks }));
    const eni = new Map(
      (described.tasks ?? []).map((t) => [
        taskIdOf(t.taskArn ?? ""),
        t.attachments?.[0]?.details?.find((d) => d.name === "privateIPv4Address")?.value,
      ]),
    );
    expect(records.map((r) => [r.SetIdentifier, r.ResourceRecords?.[0]?.Value]).sort()).toEqual(
      [...eni].sort(),
    );
    await converged(text);
  });

  it("keeps the record of a running task DescribeTasks answered with a failure for, until ListTasks drops it", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    const tasks = await scene.runTasks("logs", "fluentd", 3, "fluentd");
    const text = spec("ecsTasks: { cluster: logs, service: fluentd }");
    expect((await pass(text)).failures).toEqual([]);
    const before = weighted(await zoneRecords());
    expect(before).toHaveLength(3);
    // moto describes every task it lists; ECS can answer `failures: [{ arn, reason: "MISSING" }]` for one (eventual
    // consistency). This in-process stand-in drops one task from the real DescribeTasks answer, as that failure does.
    const doubtful = tasks[0]!;
    const ecsTasks = new AwsEcsTaskApi(clients);
    const describe = ecsTasks.describeTasks.bind(ecsTasks);
    ecsTasks.describeTasks = async (cluster, arns, signal) =>
      (await describe(cluster, arns, signal)).filter((t) => t.taskArn !== doubtful);
    const reconciler = new WeightedRecordSetReconciler({
      route53: new StrictRoute53(new AwsRoute53Api(clients)),
      autoScaling: new AwsAutoScalingApi(clients),
      ecsTasks,
    });
    counter.reset();
    const again = await pass(text, { reconciler });
    expect(again.failures).toEqual([]);
    expect(again.plans.flatMap((p) => p.changes)).toEqual([]);
    expect(again.plans.flatMap((p) => p.notes).join("\n")).toContain(
      `record kept as it is: ${taskIdOf(doubtful)}`,
    );
    expect(counter.writes()).toEqual([]);
    expect(weighted(await zoneRecords())).toEqual(before);
    // Once it has stopped, ListTasks no longer lists it and its record goes.
    await scene.stopTasks("logs", [doubtful]);
    expect((await pass(text, { reconciler })).failures).toEqual([]);
    expect(
      weighted(await zoneRecords())
        .map((r) => r.SetIdentifier)
        .sort(),
    ).toEqual(tasks.slice(1).map(taskIdOf).sort());
  });

  it("under leader election a new term takes the fence of a zone it has nothing to change in: a late batch of the old leader is refused", async () => {
    await scene.autoScalingGroup("log-asg", 3);
    const text = spec("autoScalingGroup: log-asg");
    const leader = (epoch: number) => {
      const term = new ManualTerm(epoch, `replica-${epoch}`);
      const fence = new Route53Fence({ resourceName: "default", term: () => term });
      const reconciler = new WeightedRecordSetReconciler({
        route53: new StrictRoute53(new AwsRoute53Api(clients)),
        autoScaling: new AwsAutoScalingApi(clients),
        ecsTasks: new AwsEcsTaskApi(clients),
        fence,
      });
      return { term, fence, reconciler };
    };
    const old = leader(1);
    expect((await pass(text, { reconciler: old.reconciler })).failures).toEqual([]);
    const records = weighted(await zoneRecords());
    expect(records).toHaveLength(3);

    // A new leader, with the records already converged: its plan's one write takes the zone's fence.
    const next = leader(2);
    const first = await pass(text, { reconciler: next.reconciler });
    expect(first.failures).toEqual([]);
    expect(first.plans.flatMap((p) => p.changes)).toEqual([
      expect.objectContaining({
        target: `Route 53 fence of zone logs.internal (${zoneId})`,
        bookkeeping: true,
      }),
    ]);
    expect(next.fence.needsTakeOver(zoneId)).toBe(false);
    expect((await pass(text, { reconciler: next.reconciler })).plans.flatMap((p) => p.changes)).toEqual([]);

    // The old leader, paused before the handover, sends the batch it had built: it would delete a record.
    const api = new AwsRoute53Api(clients);
    const target = (await api.listRecordSets(zoneId, NAME)).find((r) => r.type === "A" && r.name === NAME)!;
    const stale = old.fence.changeRecordSets(
      api,
      zoneId,
      [{ action: "DELETE", record: target }],
      AbortSignal.timeout(10_000),
    );
    await expect(stale).rejects.toBeInstanceOf(StaleLeaderError);
    expect(weighted(await zoneRecords())).toEqual(records);
  });

  it("names the file and line of a zone it cannot resolve, and changes nothing", async () => {
    await scene.autoScalingGroup("log-asg", 1);
    const cases: [string, RegExp][] = [
      [
        "nothere.internal",
        /^specs\/records\.yaml:6:15: WeightedRecordSet\/fluentd: hosted zone "nothere\.internal" not found: create it first \(the operator manages records, not zones\)$/,
      ],
      ["ZNOTAZONE123", /^specs\/records\.yaml:6:15: .*hosted zone "ZNOTAZONE123" not found/],
    ];
    await hostedZone("twice.internal", true, "a");
    await hostedZone("twice.internal", true, "b");
    cases.push([
      "twice.internal",
      /^specs\/records\.yaml:6:15: .*hosted zone name "twice\.internal" is ambiguous: 2 private zones/,
    ]);
    for (const [zone, message] of cases) {
      counter.reset();
      const text = spec("autoScalingGroup: log-asg", { zone }).replace(
        `name: ${NAME}`,
        `name: fluentd.${zone.toLowerCase()}`,
      );
      const result = await pass(text.replace(`name: fluentd.znotazone123`, `name: ${NAME}`));
      expect(result.failures.map((f) => f.error.message)).toEqual([expect.stringMatching(message)]);
      expect(counter.writes()).toEqual([]);
    }
  });

  it("prefers the private zone of a name, uses the public one alone, and takes a zone id", async () => {
    await scene.autoScalingGroup("log-asg", 1);
    const publicId = await hostedZone("logs.internal", false);
    await pass(spec("autoScalingGroup: log-asg"));
    expect(weighted(await zoneRecords(zoneId))).toHaveLength(1);
    expect(weighted(await zoneRecords(publicId))).toHaveLength(0);
    await pass(
      spec("autoScalingGroup: log-asg", { zone: publicId, name: "by-id" }).replace(
        NAME,
        `public.logs.internal`,
      ),
    );
    expect(weighted(await zoneRecords(publicId), "public.logs.internal")).toHaveLength(1);

    const onlyPublic = await hostedZone("public.example", false);
    await pass(
      spec("autoScalingGroup: log-asg", { zone: "public.example" }).replace(NAME, "fluentd.public.example"),
    );
    expect(weighted(await zoneRecords(onlyPublic), "fluentd.public.example")).toHaveLength(1);
  });
});

/**
 * Route 53 rejects a DELETE whose values differ from the current record, and a CREATE of a record that exists; moto is
 * laxer. This wrapper checks both against the emulator's state before every batch, so the tests are as strict as AWS.
 */
class StrictRoute53 implements Route53Api {
  readonly inner: AwsRoute53Api;
  constructor(inner: AwsRoute53Api) {
    this.inner = inner;
  }
  zonesByName(name: string, signal?: AbortSignal) {
    return this.inner.zonesByName(name, signal);
  }
  zoneById(id: string, signal?: AbortSignal) {
    return this.inner.zoneById(id, signal);
  }
  listZones(signal?: AbortSignal) {
    return this.inner.listZones(signal);
  }
  listRecordSets(zone: string, name?: string, signal?: AbortSignal) {
    return this.inner.listRecordSets(zone, name, signal);
  }
  async changeRecordSets(
    zone: string,
    changes: readonly RecordChange[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const current = new Map(
      (await this.inner.listRecordSets(zone, undefined, signal)).map((r) => [recordKey(r), r]),
    );
    for (const c of changes) {
      const key = recordKey(c.record);
      if (c.action === "DELETE")
        expect(c.record, `DELETE ${key} must match the record`).toEqual(current.get(key));
      if (c.action === "CREATE") expect(current.has(key), `CREATE ${key} of an existing record`).toBe(false);
    }
    return this.inner.changeRecordSets(zone, changes, signal);
  }
  getChange(id: string, signal?: AbortSignal) {
    return this.inner.getChange(id, signal);
  }
}

/**
 * StrictRoute53 that also keeps every batch it sent and, after each, reads the zone back: every weighted record at
 * NAME but the hand-made one must be listed by a registry record, of either format, at that moment.
 */
class ProvingRoute53 extends StrictRoute53 {
  readonly batches: RecordChange[][] = [];
  private readonly zone: () => Promise<ResourceRecordSet[]>;
  constructor(inner: AwsRoute53Api, zone: () => Promise<ResourceRecordSet[]>) {
    super(inner);
    this.zone = zone;
  }
  override async changeRecordSets(
    zone: string,
    changes: readonly RecordChange[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const id = await super.changeRecordSets(zone, changes, signal);
    this.batches.push([...changes]);
    const now = await this.zone();
    const proven = new Set(
      now.flatMap((r) => {
        const entry = parseRegistry({
          name: (r.Name ?? "").replace(/\.$/, ""),
          type: r.Type ?? "",
          setIdentifier: r.SetIdentifier,
          values: r.ResourceRecords?.map((v) => v.Value ?? ""),
        });
        return entry === undefined ? [] : entry.setIdentifiers.map((s) => `${entry.recordName}.|${s}`);
      }),
    );
    for (const r of weighted(now))
      expect(proven, `${r.SetIdentifier} proven`).toContain(`${r.Name}|${r.SetIdentifier}`);
    return id;
  }
}

function strictReconciler(autoScaling?: AutoScalingApi, drains = false): WeightedRecordSetReconciler {
  const asg = autoScaling ?? new AwsAutoScalingApi(clients);
  return new WeightedRecordSetReconciler({
    route53: new StrictRoute53(new AwsRoute53Api(clients)),
    autoScaling: asg,
    ecsTasks: new AwsEcsTaskApi(clients),
    drains: drains ? new DrainCoordinator({ autoScaling: asg }) : undefined,
  });
}

/**
 * moto has no lifecycle actions: it never holds an instance in Terminating:Wait and has no CompleteLifecycleAction.
 * This in-process fake of the reconciler's narrow AutoScalingApi covers exactly those two; everything else (the
 * group, its instances and their private IPs, Route 53) is the emulator's, through the real adapters.
 */
class LifecycleHookFake implements AutoScalingApi {
  readonly real: AwsAutoScalingApi;
  readonly held = new Set<string>();
  readonly completed: { input: LifecycleActionInput; at: number; recordGone: boolean }[] = [];

  constructor(real: AwsAutoScalingApi) {
    this.real = real;
  }

  async describeGroup(name: string, signal?: AbortSignal): Promise<GroupInstances | undefined> {
    const group = await this.real.describeGroup(name, signal);
    if (group === undefined) return undefined;
    return {
      name,
      instances: group.instances.map((i) =>
        this.held.has(i.instanceId) ? { ...i, lifecycleState: TERMINATING_WAIT } : i,
      ),
    };
  }

  privateIps(group: string, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, string>> {
    return this.real.privateIps(group, ids, signal);
  }

  describeLifecycleHook(
    group: string,
    hook: string,
    signal?: AbortSignal,
  ): Promise<LifecycleHook | undefined> {
    return this.real.describeLifecycleHook(group, hook, signal);
  }

  async completeLifecycleAction(input: LifecycleActionInput): Promise<boolean> {
    if (!this.held.has(input.instanceId)) return false;
    const recordGone = weighted(await zoneRecords()).every((r) => r.SetIdentifier !== input.instanceId);
    this.completed.push({ input, at: Date.now(), recordGone });
    this.held.delete(input.instanceId);
    await scene.detach(input.groupName, [input.instanceId]);
    return true;
  }
}

describe("WeightedRecordSet drain on scale-in", () => {
  const drainSpec = () =>
    spec("autoScalingGroup: log-asg", {
      ttl: 1,
      more: "  drain: { lifecycleHook: drain-dns, seconds: 0 }\n",
    });

  const reconcilerWith = (fake: AutoScalingApi, drains: boolean) => strictReconciler(fake, drains);

  it("removes the record first, waits for INSYNC, then TTL + seconds, then completes the lifecycle action", async () => {
    await scene.autoScalingGroup("log-asg", 3, { lifecycleHook: "drain-dns" });
    const fake = new LifecycleHookFake(new AwsAutoScalingApi(clients));
    const reconciler = reconcilerWith(fake, true);
    await pass(drainSpec(), { reconciler });
    const [leaving] = await scene.groupInstanceIds("log-asg");
    fake.held.add(leaving!);

    const planned = await pass(drainSpec(), { reconciler, apply: false });
    expect(planned.plans[0]!.changes).toContainEqual({
      action: "update",
      target: `lifecycle action log-asg/${leaving} (drain-dns)`,
      detail: "CONTINUE 1s after its record is removed",
      write: "autoscaling:CompleteLifecycleAction",
    });
    const started = Date.now();
    counter.reset();
    const applied = await pass(drainSpec(), { reconciler });
    expect(applied.failures).toEqual([]);
    // The change that removed the record was followed to INSYNC (the emulator answers INSYNC at once).
    expect(counter.count("route53", "GetChange")).toBe(1);
    expect(fake.completed).toHaveLength(1);
    expect(fake.completed[0]).toMatchObject({
      input: { groupName: "log-asg", hookName: "drain-dns", instanceId: leaving },
      recordGone: true,
    });
    expect(fake.completed[0]!.at - started).toBeGreaterThanOrEqual(1000);
    expect(weighted(await zoneRecords())).toHaveLength(2);
    await converged(drainSpec());
  });

  it("under run, detaches the wait: a scale-out during a drain is published at once, and the drain completes", async () => {
    await scene.autoScalingGroup("log-asg", 2, { lifecycleHook: "drain-dns" });
    const fake = new LifecycleHookFake(new AwsAutoScalingApi(clients));
    const reconciler = reconcilerWith(fake, true);
    await pass(drainSpec(), { reconciler });
    const [leaving] = await scene.groupInstanceIds("log-asg");
    fake.held.add(leaving!);
    // What the controller does with detached work, here: run it, keep its promise.
    const detached: { what: string; done: Promise<void> }[] = [];
    const detach: Detach = (what, work) => detached.push({ what, done: work(AbortSignal.timeout(60_000)) });

    expect((await pass(drainSpec(), { reconciler, detach })).failures).toEqual([]);
    expect(detached.map((d) => d.what)).toEqual([`drain log-asg/${leaving}`]);
    // The pass is over, its record is gone, and the action waits its TTL (1 s) beside it.
    expect(fake.completed).toEqual([]);
    expect(weighted(await zoneRecords()).map((r) => r.SetIdentifier)).not.toContain(leaving);

    await scene.scaleGroup("log-asg", 3);
    const during = await pass(drainSpec(), { reconciler, detach });
    expect(during.failures).toEqual([]);
    expect(fake.completed).toEqual([]);
    // One new record and the registry record listing it, and the drain already running is not started twice.
    expect(during.plans[0]!.changes.map((c) => c.action)).toEqual(["update", "create"]);
    expect(during.plans[0]!.changes.filter((c) => c.target.startsWith("registry _elo-"))).toHaveLength(1);
    expect(detached).toHaveLength(1);
    expect(weighted(await zoneRecords())).toHaveLength(2);

    await detached[0]!.done;
    expect(fake.completed.map((c) => [c.input.instanceId, c.recordGone])).toEqual([[leaving, true]]);
    await converged(drainSpec());
  });

  it("names a missing lifecycle hook with file and line, and changes nothing", async () => {
    await scene.autoScalingGroup("log-asg", 2);
    counter.reset();
    const result = await pass(drainSpec());
    expect(result.failures.map((f) => f.error.message)).toEqual([
      'specs/records.yaml:13:27: WeightedRecordSet/fluentd: Auto Scaling group log-asg has no lifecycle hook "drain-dns"',
    ]);
    expect(counter.writes()).toEqual([]);
  });

  it("recovers a drain from AWS state after a restart: record already gone, it waits and completes", async () => {
    await scene.autoScalingGroup("log-asg", 2, { lifecycleHook: "drain-dns" });
    const fake = new LifecycleHookFake(new AwsAutoScalingApi(clients));
    await pass(drainSpec(), { reconciler: reconcilerWith(fake, true) });
    const [leaving] = await scene.groupInstanceIds("log-asg");
    fake.held.add(leaving!);
    // An operator that dies after removing the record: nothing completes the action.
    await pass(drainSpec(), { reconciler: reconcilerWith(fake, false) });
    expect(weighted(await zoneRecords()).map((r) => r.SetIdentifier)).not.toContain(leaving);
    expect(fake.completed).toEqual([]);

    const restarted = reconcilerWith(fake, true);
    const planned = await pass(drainSpec(), { reconciler: restarted, apply: false });
    expect(planned.plans[0]!.changes).toEqual([
      {
        action: "update",
        target: `lifecycle action log-asg/${leaving} (drain-dns)`,
        detail: "CONTINUE in 1s (record already gone)",
        write: "autoscaling:CompleteLifecycleAction",
      },
    ]);
    counter.reset();
    expect((await pass(drainSpec(), { reconciler: restarted })).failures).toEqual([]);
    expect(counter.count("route53", "ChangeResourceRecordSets")).toBe(0);
    expect(fake.completed.map((c) => c.input.instanceId)).toEqual([leaving]);
  });
});
