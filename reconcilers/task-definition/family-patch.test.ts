import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { LogRouterKind } from "../log-router/log-router-kind.ts";
import { SidecarVolumeKind } from "../sidecar-volume/sidecar-volume-kind.ts";
import { formatIssue, patchFamily } from "./family-patch.ts";
import { comparable, toRegisterInput, type TaskDefinitionJson } from "./task-definition.ts";

const kinds = [LogRouterKind, SidecarVolumeKind];
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

describe("patchFamily on the seed task definitions", () => {
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

  it("gives the hand-written log-batch containers (seed 001) exactly, with a warning about START", () => {
    const r = patchFamily(
      json("log-batch.base.json"),
      specs("manifests/examples/seeds/001-sidecar-batch/log-batch.yaml"),
      {
        region,
      },
    );
    expect(r.errors).toEqual([]);
    expect(r.definition).toEqual(json("log-batch.expected.json"));
    expect(r.warnings.map(formatIssue)).toEqual([
      expect.stringMatching(
        /^manifests\/examples\/seeds\/001-sidecar-batch\/log-batch\.yaml:\d+:\d+: SidecarVolume\/log-batch: dependsOn START only waits/,
      ),
    ]);
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

  it("applies a LogRouter and a SidecarVolume of one family together", () => {
    const docs = yaml(`
apiVersion: ecs-log-operator/v1alpha1
kind: LogRouter
metadata: { name: batch-logs }
spec:
  family: log-batch
  containers: [batch]
  router: { memoryReservation: 50 }
  output: { forward: { host: fluentd.local } }
---
apiVersion: ecs-log-operator/v1alpha1
kind: SidecarVolume
metadata: { name: log-batch }
spec:
  family: log-batch
  source: { container: fluentd, volume: fluentd-log, path: /fluentd/log }
  consumers: [{ container: batch, readOnly: true, dependsOn: none }]
`);
    const r = patchFamily(json("log-batch.base.json"), docs, { region });
    expect(r.errors).toEqual([]);
    const [fluentd, batch, router] = r.definition.containerDefinitions;
    expect(r.definition.volumes).toEqual([{ name: "fluentd-log" }]);
    expect(fluentd?.mountPoints).toEqual([
      { sourceVolume: "fluentd-log", containerPath: "/fluentd/log", readOnly: false },
    ]);
    expect(batch?.volumesFrom).toEqual([{ readOnly: true, sourceContainer: "fluentd" }]);
    // `dependsOn: none` adds no dependency on the sidecar; the router's own stays, so the router starts first.
    expect(batch?.dependsOn).toEqual([{ containerName: "log_router", condition: "START" }]);
    expect(batch?.logConfiguration).toEqual({
      logDriver: "awsfirelens",
      options: { Name: "forward", Host: "fluentd.local", Port: "24224" },
    });
    expect(fluentd?.logConfiguration).toBeUndefined();
    expect(router).toMatchObject({
      name: "log_router",
      image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
      essential: true,
      memoryReservation: 50,
      firelensConfiguration: { type: "fluentbit", options: { "enable-ecs-log-metadata": "true" } },
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

describe("family lint", () => {
  const base = (): TaskDefinitionJson => json("log-batch.base.json");
  const messages = (docs: SpecDocument[], td = base()) =>
    patchFamily(td, docs, { region }).errors.map(formatIssue);

  it("names a consumer, source or routed container the family does not have, at its line", () => {
    const docs = yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: SidecarVolume
metadata: { name: x }
spec:
  family: log-batch
  source: { container: fluentbit }
  consumers:
    - { container: batch }
    - { container: crond }
`);
    expect(messages(docs)).toEqual([
      't.yaml:6:24: SidecarVolume/x: family log-batch has no container "fluentbit" (it has fluentd, batch)',
      't.yaml:9:20: SidecarVolume/x: family log-batch has no container "crond" (it has fluentd, batch)',
    ]);
  });

  it("rejects HEALTHY without a health check on the source", () => {
    const docs = yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: SidecarVolume
metadata: { name: x }
spec: { family: log-batch, source: { container: fluentd }, consumers: [{ container: batch, dependsOn: HEALTHY }] }
`);
    expect(messages(docs)).toEqual([expect.stringContaining("dependsOn HEALTHY needs a healthCheck")]);
    const td = base();
    td.containerDefinitions[0]!.healthCheck = { command: ["CMD", "true"] };
    expect(messages(docs, td)).toEqual([]);
  });

  it("rejects a second router, awsfirelens without a router and a router nobody uses", () => {
    const lr = yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: LogRouter
metadata: { name: x }
spec: { family: log-batch, containers: [batch], router: {}, output: { forward: { host: agg.local } } }
`);
    const td = base();
    td.containerDefinitions.push({
      name: "other_router",
      image: "fb",
      firelensConfiguration: { type: "fluentbit" },
    });
    expect(messages(lr, td)[0]).toMatch(/already has a FireLens router "other_router"/);

    const noRouter = base();
    noRouter.containerDefinitions[1]!.logConfiguration = {
      logDriver: "awsfirelens",
      options: { Name: "forward" },
    };
    const sv = yaml(`apiVersion: ecs-log-operator/v1alpha1
kind: SidecarVolume
metadata: { name: x }
spec: { family: log-batch, source: { container: fluentd }, consumers: [{ container: batch }] }
`);
    expect(messages(sv, noRouter)).toEqual([
      expect.stringMatching(/log to awsfirelens but the family has no FireLens router/),
    ]);

    const unused = base();
    unused.containerDefinitions.push({
      name: "r",
      image: "fb",
      firelensConfiguration: { type: "fluentbit" },
    });
    expect(messages(sv, unused)).toEqual([expect.stringMatching(/is used by no container/)]);
  });

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
    expect(r.fluentBitConfig?.delivery).toMatch(
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

describe("toRegisterInput and comparable", () => {
  it("drops what ECS adds on its own and compares regardless of option order and router user 0", () => {
    const described = {
      taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/f:3",
      revision: 3,
      status: "ACTIVE",
      compatibilities: ["EC2", "FARGATE"],
      requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awsfirelens" }],
      registeredAt: new Date(0),
      family: "f",
      networkMode: "awsvpc",
      volumes: [],
      placementConstraints: [],
      containerDefinitions: [
        {
          name: "app",
          image: "app:1",
          cpu: 0,
          portMappings: [{ containerPort: 80, hostPort: 80, protocol: "tcp" }],
          essential: true,
          environment: [
            { name: "B", value: "2" },
            { name: "A", value: "1" },
          ],
          mountPoints: [],
          volumesFrom: [],
          logConfiguration: {
            logDriver: "awsfirelens",
            options: { TLS: "on", Name: "datadog" },
            secretOptions: [],
          },
        },
        { name: "r", image: "fb", user: "0", firelensConfiguration: { type: "fluentbit", options: {} } },
      ],
    };
    const input = toRegisterInput(described);
    expect(input).toEqual({
      family: "f",
      networkMode: "awsvpc",
      containerDefinitions: [
        {
          name: "app",
          image: "app:1",
          portMappings: [{ containerPort: 80, hostPort: 80, protocol: "tcp" }],
          essential: true,
          environment: [
            { name: "B", value: "2" },
            { name: "A", value: "1" },
          ],
          logConfiguration: { logDriver: "awsfirelens", options: { TLS: "on", Name: "datadog" } },
        },
        { name: "r", image: "fb", user: "0", firelensConfiguration: { type: "fluentbit" } },
      ],
    });
    const written: TaskDefinitionJson = {
      family: "f",
      networkMode: "awsvpc",
      containerDefinitions: [
        {
          name: "app",
          image: "app:1",
          portMappings: [{ containerPort: 80 }],
          environment: [
            { name: "A", value: "1" },
            { name: "B", value: "2" },
          ],
          logConfiguration: { logDriver: "awsfirelens", options: { Name: "datadog", TLS: "on" } },
        },
        { name: "r", image: "fb", firelensConfiguration: { type: "fluentbit" } },
      ],
    };
    expect(comparable(input)).toBe(comparable(written));
    const withDefaults = structuredClone(input);
    withDefaults.containerDefinitions[0]!.healthCheck = {
      command: ["CMD", "true"],
      interval: 30,
      timeout: 5,
      retries: 3,
    };
    withDefaults.containerDefinitions[0]!.volumesFrom = [{ sourceContainer: "r", readOnly: false }];
    const withoutDefaults = structuredClone(written);
    withoutDefaults.containerDefinitions[0]!.healthCheck = { command: ["CMD", "true"] };
    withoutDefaults.containerDefinitions[0]!.volumesFrom = [{ sourceContainer: "r" }];
    expect(comparable(withDefaults)).toBe(comparable(withoutDefaults));
    written.containerDefinitions[0]!.image = "app:2";
    expect(comparable(input)).not.toBe(comparable(written));
  });
});
