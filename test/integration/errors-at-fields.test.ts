import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { runCli } from "../cli.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { startEmulator } from "./harness.ts";

// What AWS says is missing is reported at the field that names it, with the next step: before, a missing cluster
// was reported at line 1 of the CloudMapService (`cloud-map-service.yaml:4:1`, the cluster on line 17) with no
// advice, and "cannot change in place" said to delete the service without saying how.
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: "us-east-1" }));
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" });
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  scene = await new AwsScene(clients).network();
});

const cli = runCli;

function specFile(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "fields-"));
  writeFileSync(join(dir, "spec.yaml"), text);
  return { dir, file: join(dir, "spec.yaml") };
}

const service = (vpc: string, records = "[{ type: A, ttl: 10 }]") => `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapNamespace
metadata: { name: logs }
spec: { name: fluentd.local, vpc: ${vpc} }
---
apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata:
  name: fluentd
spec:
  namespace: fluentd.local
  name: fluentd
  dns:
    records: ${records}
  instances:
    ecsTasks:
      cluster: logs
      service: fluentd
    port: 24224
`;

const records = (targets: string) => `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata:
  name: edge
spec:
  hostedZone: logs.internal
  name: edge.logs.internal
  type: A
  ttl: 10
  weight: 10
  targets:
${targets}`;

async function zone(): Promise<void> {
  await clients.route53.send(
    new CreateHostedZoneCommand({ Name: "logs.internal", CallerReference: `fields-${scene.vpcId}` }),
  );
}

describe("AWS-side problems at their field, with the next step", () => {
  it("a CloudMapService's missing ECS cluster, at instances.ecsTasks.cluster", async () => {
    const { dir, file } = specFile(service(scene.vpcId));
    const r = await cli("plan", dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `${file}:17:16: CloudMapService/fluentd: ECS cluster "logs" does not exist (ClusterNotFoundException): ` +
        "create the cluster or fix the name",
    );
  });

  it("a namespace no spec declares and AWS does not have, at spec.namespace", async () => {
    const { dir, file } = specFile(service(scene.vpcId).split("---\n")[1]!);
    await scene.cluster("logs", 0);
    const r = await cli("plan", dir);
    expect(r.out).toContain(
      `${file}:6:14: CloudMapService/fluentd: namespace fluentd.local does not exist and no CloudMapNamespace spec declares it`,
    );
  });

  it("a WeightedRecordSet's missing Auto Scaling group, at targets.autoScalingGroup", async () => {
    await zone();
    const { dir, file } = specFile(
      records("    autoScalingGroup: edge-asgg\n") + "  drain: { lifecycleHook: drain-dns, seconds: 30 }\n",
    );
    const r = await cli("plan", dir);
    expect(r.out).toContain(
      `${file}:12:23: WeightedRecordSet/edge: Auto Scaling group "edge-asgg" not found: create the group or fix the name`,
    );
  });

  it("a WeightedRecordSet's missing ECS cluster, at targets.ecsTasks.cluster", async () => {
    await zone();
    const { dir, file } = specFile(records("    ecsTasks: { cluster: edge, service: edge }\n"));
    const r = await cli("plan", dir);
    expect(r.out).toContain(
      `${file}:12:26: WeightedRecordSet/edge: ECS cluster "edge" does not exist (ClusterNotFoundException): ` +
        "create the cluster or fix the name",
    );
  });

  it("says how to have a Cloud Map service created again when a field cannot change in place", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 1, "fluentd");
    const { dir } = specFile(service(scene.vpcId));
    const applied = await cli("apply", dir);
    expect(applied.code, applied.out + applied.err).toBe(0);
    writeFileSync(
      join(dir, "spec.yaml"),
      service(scene.vpcId, "[{ type: A, ttl: 10 }, { type: SRV, ttl: 10 }]"),
    );
    const r = await cli("plan", dir);
    expect(r.code, r.out + r.err).toBe(1);
    const id = /\((srv-\w+)\) cannot change in place/.exec(r.out)?.[1];
    expect(id, r.out).toBeDefined();
    expect(r.out).toContain(`aws servicediscovery list-instances --service-id ${id}`);
    expect(r.out).toContain(`aws servicediscovery deregister-instance --service-id ${id} --instance-id ID`);
    expect(r.out).toContain(`aws servicediscovery delete-service --id ${id}), and apply`);
  });
});
