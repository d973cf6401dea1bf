import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { LogRouterKind } from "./log-router-kind.ts";
import { logRouterPatch } from "./log-router-entry.ts";
import { patchFamily as patchWith } from "../task-definition/family-patch.ts";
import type { PatchOptions } from "../task-definition/patch-issue.ts";
import { TaskDefinitionPatches } from "../task-definition/task-definition-patch.ts";
import { comparable, type TaskDefinitionJson } from "../task-definition/task-definition.ts";

// LogRouter's patch through the engine, as in a family no other kind patches (tests of families a SidecarVolume
// patches too are cmd/task-definition-patches.test.ts).
const kinds = [LogRouterKind];
const patches = new TaskDefinitionPatches([logRouterPatch]);
const patchFamily = (base: TaskDefinitionJson, docs: readonly SpecDocument[], options: PatchOptions) =>
  patchWith(base, docs, options, patches);
const json = (file: string): TaskDefinitionJson =>
  JSON.parse(readFileSync(`test/fixtures/task-definitions/${file}`, "utf8")) as TaskDefinitionJson;
const specs = (file: string, environment?: string): SpecDocument[] => {
  const r = parseSpecText(file, readFileSync(file, "utf8"), kinds, { environment });
  expect(r.diagnostics).toEqual([]);
  return r.documents;
};
const yaml = (text: string): SpecDocument[] => {
  const r = parseSpecText("t.yaml", text, kinds);
  expect(r.diagnostics).toEqual([]);
  return r.documents;
};
const region = "ap-northeast-1";

describe("LogRouter's patch on the seed task definitions", () => {
  it("gives the hand-written gaze-heatmap task definition (seed 003) exactly", () => {
    const r = patchFamily(
      json("gaze-heatmap.base.json"),
      specs("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml"),
      {
        region,
      },
    );
    expect(r.errors).toEqual([]);
    expect(r.definition).toEqual(json("gaze-heatmap.expected.json"));
  });

  it("is idempotent: patching the result again changes nothing", () => {
    const docs = specs("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml");
    const once = patchFamily(json("gaze-heatmap.base.json"), docs, { region }).definition;
    const twice = patchFamily(once, docs, { region }).definition;
    expect(comparable(twice)).toBe(comparable(once));
  });

  it("keeps a new image the pipeline registered without the router, and puts the router back", () => {
    const docs = specs("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml");
    const pipeline = json("gaze-heatmap.base.json");
    pipeline.containerDefinitions[0]!.image =
      "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gaze-heatmap:v2";
    const r = patchFamily(pipeline, docs, { region }).definition;
    expect(r.containerDefinitions.map((c) => [c.name, c.image])).toEqual([
      ["gaze-heatmap", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gaze-heatmap:v2"],
      ["logrouter", "906394416424.dkr.ecr.ap-northeast-1.amazonaws.com/aws-for-fluent-bit:latest"],
    ]);
  });

  it("in development sends logs with awslogs and removes the router", () => {
    const docs = specs("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml", "development");
    const r = patchFamily(json("gaze-heatmap.expected.json"), docs, { region });
    expect(r.errors).toEqual([]);
    expect(r.definition.containerDefinitions.map((c) => c.name)).toEqual(["gaze-heatmap"]);
    expect(r.definition.containerDefinitions[0]!.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": "/aws/ecs/gaze-heatmap",
        "awslogs-region": region,
        "awslogs-stream-prefix": "dev",
        "awslogs-create-group": "true",
      },
    });
  });
});

describe("router memory", () => {
  const spec = (router: string) =>
    yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: LogRouter
metadata: { name: x }
spec: { family: log-batch, containers: [batch], router: ${router}, output: { forward: { host: agg.local } } }
`);
  const router = (td: TaskDefinitionJson) => td.containerDefinitions.find((c) => c.name === "log_router");

  it("defaults to a 50 MiB reservation when the task has no task-level memory, as ECS then requires", () => {
    const r = patchFamily(json("log-batch.base.json"), spec("{}"), { region });
    expect(router(r.definition)?.memoryReservation).toBe(50);
  });

  it("sets none when the task has task-level memory, and keeps the spec's value", () => {
    const withMemory = { ...json("log-batch.base.json"), memory: "1024" };
    expect(
      router(patchFamily(withMemory, spec("{}"), { region }).definition)?.memoryReservation,
    ).toBeUndefined();
    const r = patchFamily(withMemory, spec("{ memoryReservation: 64 }"), { region });
    expect(router(r.definition)?.memoryReservation).toBe(64);
  });
});

describe("FireLens family lint", () => {
  const base = (): TaskDefinitionJson => json("log-batch.base.json");

  it("refuses an S3 config file on Fargate, where FireLens reads only files in the image", () => {
    const docs = yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: LogRouter
metadata: { name: x }
spec:
  family: gaze-heatmap
  router: { configFile: { type: s3, value: "arn:aws:s3:::logs-config/fluent-bit/extra.conf" } }
  output: { forward: { host: fluentd.local } }
  multiline: { parsers: [java] }
`);
    const fargate = json("gaze-heatmap.base.json");
    expect(patchFamily(fargate, docs, { region }).errors.map((e) => e.message)).toEqual([
      expect.stringContaining("Fargate reads a FireLens config file only from the router image"),
    ]);
    const ec2 = { ...fargate, requiresCompatibilities: ["EC2"] };
    const r = patchFamily(ec2, docs, { region });
    expect(r.errors).toEqual([]);
    expect(r.configFile?.delivery).toMatch(
      /^apply uploads it to s3:\/\/logs-config\/fluent-bit\/extra\.conf/,
    );
  });

  it("warns when secrets are used and the family has no execution role", () => {
    const docs = yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: LogRouter
metadata: { name: x }
spec:
  family: log-batch
  containers: [batch]
  router: {}
  output: { datadog: { apiKeySecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd" } }
`);
    const r = patchFamily(base(), docs, { region });
    expect(r.errors).toEqual([]);
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringContaining("has no executionRoleArn")]);
  });
});
