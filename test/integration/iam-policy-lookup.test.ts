import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreatePrivateDnsNamespaceCommand,
  GetNamespaceCommand,
  ListNamespacesCommand,
} from "@aws-sdk/client-servicediscovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { iamPolicyCommand, type PolicyDocument } from "../../cmd/commands/iam-policy.ts";
import type { Output } from "../../cmd/cli-support.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

// `iam-policy --lookup` against the emulator: Cloud Map's ListNamespaces gives the hosted zone of a private DNS
// namespace that exists (moto creates the zone with the namespace, as Cloud Map does), and the instances' record
// changes are narrowed to it; a namespace not created yet keeps any zone.

let emulator: MotoEmulator;
let clients: AwsClients;

beforeAll(async () => {
  ({ moto: emulator, clients } = await startEmulator({ region: "us-east-1" }));
});

afterAll(async () => {
  clients?.destroy();
  await emulator?.stop();
});

function capture(): Output & { out_: string } {
  const io = { out_: "", color: false, out: (t: string) => void (io.out_ += t), err: () => undefined };
  return io;
}

async function policy(dir: string): Promise<PolicyDocument> {
  const io = capture();
  const args = [dir, "--lookup", "--endpoint-url", emulator.endpoint, "--region", "us-east-1"];
  expect(await iamPolicyCommand([...args, "--account", "123456789012"], io)).toBe(0);
  return JSON.parse(io.out_) as PolicyDocument;
}

const recordWrites = (p: PolicyDocument) =>
  p.Statement.filter(
    (s) => s.Action.includes("route53:ChangeResourceRecordSets") && s.Sid.startsWith("CloudMap"),
  );

describe("iam-policy --lookup", () => {
  it("narrows Cloud Map's instance record changes to the hosted zone of a namespace that exists", async () => {
    const scene = await new AwsScene(clients).network();
    const dir = mkdtempSync(join(tmpdir(), "iam-lookup-"));
    writeFileSync(join(dir, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId));

    // Before the namespace exists there is no zone id to name.
    expect(recordWrites(await policy(dir))).toEqual([
      {
        Sid: "CloudMapWritesInstanceRecordsInAnyZone",
        Effect: "Allow",
        Action: ["route53:ChangeResourceRecordSets"],
        Resource: "*",
      },
    ]);

    await clients.serviceDiscovery.send(
      new CreatePrivateDnsNamespaceCommand({ Name: "fluentd.local", Vpc: scene.vpcId }),
    );
    const listed = await clients.serviceDiscovery.send(new ListNamespacesCommand({}));
    const id = listed.Namespaces?.find((n) => n.Name === "fluentd.local")?.Id;
    const got = await clients.serviceDiscovery.send(new GetNamespaceCommand({ Id: id }));
    // The emulator gives Route 53's path form (/hostedzone/ID), Cloud Map the bare id: the ARN names the bare id.
    const zone = got.Namespace?.Properties?.DnsProperties?.HostedZoneId?.replace(/^\/hostedzone\//, "");
    expect(zone).toMatch(/^[A-Z0-9]+$/);

    expect(recordWrites(await policy(dir))).toEqual([
      {
        Sid: "CloudMapWritesInstanceRecordsInNamespaceZones",
        Effect: "Allow",
        Action: ["route53:ChangeResourceRecordSets"],
        Resource: [`arn:aws:route53:::hostedzone/${zone}`],
      },
    ]);
  });

  it("refuses --endpoint-url without --lookup: the default stays offline", async () => {
    await expect(
      iamPolicyCommand(["manifests/examples/kinds", "--endpoint-url", emulator.endpoint], capture()),
    ).rejects.toThrow(/--endpoint-url is where --lookup reads/);
  });
});
