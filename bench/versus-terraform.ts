import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { createAwsClients } from "../controllers/aws/clients.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { weightedScene } from "./efficiency.ts";
import { measuredApply, median } from "./measure.ts";
import { weightedSpec } from "./specs.ts";
import { terraformApplyWeightedRecords } from "./terraform.ts";

export interface VersusTerraformFigures {
  readonly records: number;
  /** `terraform apply` (init excluded), run once. */
  readonly terraformSeconds: number;
  /** The operator's cold `apply` of a WeightedRecordSet over an Auto Scaling group of `records` instances. */
  readonly operatorSeconds: number[];
  readonly operatorMedianSeconds: number;
  /** Route 53 calls of the operator's median run. */
  readonly operatorChangeBatches: number;
  /** terraformSeconds / operatorMedianSeconds. */
  readonly ratio: number;
}

/**
 * The same `records` weighted A records (one per instance of a group, its private address, set identifier = instance
 * id), written to a fresh account of the same emulator by Terraform's aws_route53_record and by the operator's cold
 * apply (with its default Route 53 limit of 5 requests a second). Terraform places them 100 a name, as Route 53
 * requires and as the operator's shards do. Each run starts from a reset emulator, so no run reads another's records.
 */
export async function benchVersusTerraform(
  emulator: MotoEmulator,
  records: number,
  operatorRuns: number,
  options: { skipTerraform?: boolean } = {},
): Promise<VersusTerraformFigures> {
  const operatorSeconds: number[] = [];
  const batches: number[] = [];
  for (let run = 0; run < operatorRuns; run++) {
    await emulator.reset();
    const clients = createAwsClients({ endpoint: emulator.endpoint, region: "us-east-1" });
    try {
      await weightedScene(clients, "versus.internal", records, "asg");
    } finally {
      clients.destroy();
    }
    const f = await measuredApply(
      emulator,
      weightedSpec("nodes", "versus.internal", "nodes.versus.internal", "asg"),
      "bench",
      {},
    );
    if (f.failures > 0) throw new Error(`operator apply of ${records} records failed`);
    operatorSeconds.push(f.seconds);
    batches.push(f.calls["route53:ChangeResourceRecordSets"] ?? 0);
  }
  let terraformSeconds = NaN;
  if (!options.skipTerraform) {
    await emulator.reset();
    const clients = createAwsClients({ endpoint: emulator.endpoint, region: "us-east-1" });
    try {
      const { scene, zoneId } = await weightedScene(clients, "versus.internal", records, "asg");
      const ids = await scene.groupInstanceIds("asg");
      const ips = new Map<string, string>();
      for (let i = 0; i < ids.length; i += 200) {
        const out = await (
          await clients.ec2()
        ).send(new DescribeInstancesCommand({ InstanceIds: ids.slice(i, i + 200) }));
        for (const r of out.Reservations ?? [])
          for (const inst of r.Instances ?? []) ips.set(inst.InstanceId ?? "", inst.PrivateIpAddress ?? "");
      }
      const name = "nodes.versus.internal";
      const tf = await terraformApplyWeightedRecords({
        endpoint: emulator.endpoint,
        zoneId,
        name,
        records: ids.map((id, k) => ({
          setIdentifier: id,
          ip: ips.get(id) ?? "10.0.0.1",
          ...(records > 100 ? { name: `s${Math.floor(k / 100)}.${name}` } : {}),
        })),
      });
      terraformSeconds = tf.applySeconds;
    } finally {
      clients.destroy();
    }
  }
  const operatorMedianSeconds = median(operatorSeconds);
  return {
    records,
    terraformSeconds,
    operatorSeconds,
    operatorMedianSeconds,
    operatorChangeBatches: median(batches),
    ratio: terraformSeconds / operatorMedianSeconds,
  };
}
