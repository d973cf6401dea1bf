import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListTaskDefinitionsCommand, type RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { Output } from "../../cmd/cli-support.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { MotoEmulator } from "../moto-emulator.ts";

const TD = "test/fixtures/task-definitions";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;

beforeAll(async () => {
  moto = await MotoEmulator.start();
  Object.assign(process.env, moto.env("ap-northeast-1"));
  clients = createAwsClients({ endpoint: moto.endpoint, region: "ap-northeast-1" });
  scene = new AwsScene(clients);
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await scene.registerTaskDefinitionFrom(
    JSON.parse(readFileSync(`${TD}/gaze-heatmap.base.json`, "utf8")) as RegisterTaskDefinitionCommandInput,
  );
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const code = await main(argv, io);
  return { code, out, err };
}

async function revisions(): Promise<number> {
  const out = await clients.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: "gaze-heatmap" }));
  return out.taskDefinitionArns?.length ?? 0;
}

function specDir(spec: string): string {
  const dir = mkdtempSync(join(tmpdir(), "td-cli-"));
  writeFileSync(
    join(dir, "router.yaml"),
    `apiVersion: ecs-log-operator/v1alpha1\nkind: LogRouter\nmetadata: { name: heatmap }\nspec:\n${spec}`,
  );
  return dir;
}

const valid = `  family: gaze-heatmap
  router: { name: logrouter }
  output:
    datadog:
      service: gazeheatmap
      apiKeySecretArn: arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:datadog-api-key
`;

describe("render against the emulator", () => {
  it("reads the latest revision from ECS, and says when nothing would change after apply", async () => {
    const dir = specDir(valid);
    const before = await cli("render", dir);
    expect(before.err).toBe("");
    expect(before.code).toBe(0);
    const rendered = JSON.parse(before.out) as { taskDefinitions: { from: string; changed: boolean }[] };
    expect(rendered.taskDefinitions[0]).toMatchObject({
      from: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/gaze-heatmap:1",
      changed: true,
    });
    expect(await revisions()).toBe(1);

    expect((await cli("apply", dir)).code).toBe(0);
    const after = JSON.parse((await cli("render", dir)).out) as typeof rendered;
    expect(after.taskDefinitions[0]).toMatchObject({ changed: false });
    expect((await cli("plan", dir)).code).toBe(0);
  });
});

describe("apply with bad input names the file and line and changes nothing", () => {
  // Each row: a spec and the message expected at `router.yaml:LINE:COL`.
  const cases: [label: string, spec: string, message: RegExp][] = [
    [
      "a plaintext API key field",
      valid.replace("service: gazeheatmap", 'apiKey: "0123456789abcdef0123456789abcdef"'),
      /router\.yaml:9:\d+: .*apiKey: .*a plaintext API key is not allowed/,
    ],
    [
      "a key pasted into tags",
      valid.replace("service: gazeheatmap", "tags: 0123456789abcdef0123456789abcdef"),
      /router\.yaml:9:\d+: .*tags: .*not-a-plaintext-key/,
    ],
    [
      "a line break and section in tags",
      valid.replace("service: gazeheatmap", 'tags: "env:prod\\n[OUTPUT]\\n    Name stdout"'),
      /router\.yaml:9:\d+: .*is not valid \(one line/,
    ],
    [
      "@INCLUDE in the service",
      valid.replace("service: gazeheatmap", 'service: "@INCLUDE /etc/passwd"'),
      /router\.yaml:9:\d+: .*is not valid/,
    ],
    [
      "${ in the router image",
      valid.replace("router: { name: logrouter }", 'router: { name: logrouter, image: "fb:${TAG}" }'),
      /router\.yaml:6:\d+: .*is not valid/,
    ],
    [
      "an unknown container",
      valid + "  containers: [gaze-heatmap, worker]\n",
      /router\.yaml:11:\d+: LogRouter\/heatmap: family gaze-heatmap has no container "worker"/,
    ],
    [
      "a family that does not exist",
      valid.replace("family: gaze-heatmap", "family: gaze-heatmapp"),
      /router\.yaml:5:\d+: LogRouter\/heatmap: family gaze-heatmapp has no ACTIVE task definition revision/,
    ],
  ];
  it.each(cases)("%s", async (_label, spec, message) => {
    const r = await cli("apply", specDir(spec));
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(message);
    expect(r.out + r.err).not.toContain("0123456789abcdef");
    expect(await revisions()).toBe(1);
  });
});
