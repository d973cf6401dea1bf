import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { createAwsClients, type AwsClients } from "../controllers/aws/clients.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import { AwsRoute53Api } from "../reconcilers/weighted-record-set/aws-route53-api.ts";
import { benchCloudMap } from "./cloud-map.ts";
import { FakeAws } from "./fake-aws.ts";
import { measuredApply, measuredFakeApply, type PassFigures } from "./measure.ts";
import { cloudMapSpecs, weightedSpec } from "./specs.ts";

export type Backend = "moto" | "in-process fake";

/** The fewest calls the AWS APIs allow, from their page sizes and batch limits. */
export interface Floor {
  /** A converged pass: every list page and describe batch, nothing else. */
  readonly convergedReads: number;
  /** A cold pass: the creates the API needs (Cloud Map registers one instance a call; Route 53 takes 1,000 changes). */
  readonly coldWrites: number;
  /** Route 53 only: `ceil(N / 1000)`, the target for a cold apply of N weighted records. */
  readonly coldChangeBatches?: number;
}

export interface EfficiencyRow {
  readonly kind: "CloudMapService" | "WeightedRecordSet";
  /** Running tasks (CloudMapService, over 10 ECS services) or Auto Scaling instances (WeightedRecordSet). */
  readonly targets: number;
  readonly backend: Backend;
  readonly cold: PassFigures;
  readonly converged: PassFigures;
  readonly floor: Floor;
  /** WeightedRecordSet: the record sets the operator keeps at the name and below (weighted, shard aliases, registry). */
  readonly records?: number;
}

const SERVICES = 10;

/** Per ECS service: ListTasks, DescribeTasks and ListInstances, one call per 100; per pass one ListNamespaces and ListServices page. */
function cloudMapFloor(tasks: number, services: number): Floor {
  const pages = Math.ceil(tasks / services / 100);
  return { convergedReads: services * pages * 3 + 2, coldWrites: 1 + services + tasks };
}

/**
 * One DescribeAutoScalingGroups, DescribeInstances at 1,000 a page, one zone lookup, ListResourceRecordSets at 300 a
 * page over what is kept at the name; cold, `records` changes at 1,000 a ChangeResourceRecordSets.
 */
function weightedFloor(instances: number, records: number): Floor {
  return {
    convergedReads: 1 + Math.ceil(instances / 1000) + 1 + Math.ceil(records / 300),
    coldWrites: Math.ceil(records / 1000),
    coldChangeBatches: Math.ceil(instances / 1000),
  };
}

export async function cloudMapOnMoto(emulator: MotoEmulator, tasks: number): Promise<EfficiencyRow> {
  const f = await benchCloudMap(emulator, tasks, SERVICES);
  return {
    kind: "CloudMapService",
    targets: f.tasks,
    backend: "moto",
    cold: f.cold,
    converged: f.converged,
    floor: cloudMapFloor(f.tasks, SERVICES),
  };
}

export async function cloudMapOnFake(tasks: number): Promise<EfficiencyRow> {
  const fake = new FakeAws();
  for (let s = 0; s < SERVICES; s++) fake.addTasks(`logs-${s}`, `fluentd-${s}`, Math.ceil(tasks / SERVICES));
  const specs = cloudMapSpecs("vpc-0abc1234", SERVICES, (s) => `logs-${s}`);
  const cold = await measuredFakeApply(fake, specs);
  const converged = await measuredFakeApply(fake, specs);
  return {
    kind: "CloudMapService",
    targets: tasks,
    backend: "in-process fake",
    cold,
    converged,
    floor: cloudMapFloor(tasks, SERVICES),
  };
}

/** An Auto Scaling group of `instances` and one WeightedRecordSet over it, in a private zone of the emulator. */
export async function weightedOnMoto(emulator: MotoEmulator, instances: number): Promise<EfficiencyRow> {
  await emulator.reset();
  const clients = createAwsClients({ endpoint: emulator.endpoint, region: "us-east-1" });
  try {
    const { zoneId } = await weightedScene(clients, "bench.internal", instances, "asg");
    const specs = weightedSpec("nodes", "bench.internal", "nodes.bench.internal", "asg");
    const cold = await measuredApply(emulator, specs);
    const converged = await measuredApply(emulator, specs);
    const records = await countRecords(clients, zoneId, "nodes.bench.internal");
    return {
      kind: "WeightedRecordSet",
      targets: instances,
      backend: "moto",
      cold,
      converged,
      floor: weightedFloor(instances, records),
      records,
    };
  } finally {
    clients.destroy();
  }
}

export async function weightedOnFake(instances: number): Promise<EfficiencyRow> {
  const fake = new FakeAws();
  const zoneId = fake.addZone("bench.internal");
  fake.addGroup("asg", instances);
  const specs = weightedSpec("nodes", "bench.internal", "nodes.bench.internal", "asg");
  const cold = await measuredFakeApply(fake, specs);
  const converged = await measuredFakeApply(fake, specs);
  const records = (fake.state.records[zoneId] ?? []).filter(
    (r) => r.name === "nodes.bench.internal" || r.name.endsWith(".nodes.bench.internal"),
  ).length;
  return {
    kind: "WeightedRecordSet",
    targets: instances,
    backend: "in-process fake",
    cold,
    converged,
    floor: weightedFloor(instances, records),
    records,
  };
}

/** A VPC with a subnet large enough for `instances`, a private zone, and a group of that size. */
export async function weightedScene(
  clients: AwsClients,
  zone: string,
  instances: number,
  group: string,
): Promise<{ scene: AwsScene; zoneId: string }> {
  const scene = await new AwsScene(clients).network("10.0.0.0/16", "10.0.0.0/18");
  const created = await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: zone,
      CallerReference: `bench-${zone}-${Date.now()}`,
      HostedZoneConfig: { PrivateZone: true, Comment: "bench" },
      VPC: { VPCId: scene.vpcId, VPCRegion: "us-east-1" },
    }),
  );
  await scene.autoScalingGroup(group, instances);
  return { scene, zoneId: (created.HostedZone?.Id ?? "").replace("/hostedzone/", "") };
}

/** Record sets at `name` and below, read from the emulator through the operator's own Route 53 adapter. */
export async function countRecords(clients: AwsClients, zoneId: string, name: string): Promise<number> {
  return (await new AwsRoute53Api(clients).listRecordSets(zoneId, name)).length;
}
