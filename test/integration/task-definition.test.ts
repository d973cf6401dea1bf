import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
} from "@aws-sdk/client-ecs";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type BucketLocationConstraint,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Output } from "../../cmd/cli-support.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import { AwsCallCounter, type AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { runPass, type PassResult } from "../../controllers/pass.ts";
import type { Reconciler } from "../../controllers/reconciler.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { LogRouterKind } from "../../reconcilers/log-router/log-router-kind.ts";
import { SidecarVolumeKind } from "../../reconcilers/sidecar-volume/sidecar-volume-kind.ts";
import { SharedKindParts } from "../../controllers/kind-entry.ts";
import { logRouterEntry } from "../../reconcilers/log-router/log-router-entry.ts";
import { sidecarVolumeEntry } from "../../reconcilers/sidecar-volume/sidecar-volume-entry.ts";
import {
  toRegisterInput,
  type TaskDefinitionJson,
} from "../../reconcilers/task-definition/task-definition.ts";
import { startEmulator } from "./harness.ts";
import { fixture, registerInput, TD } from "./task-definition-fixtures.ts";

const REGION = "ap-northeast-1";

let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
const counter = new AwsCallCounter();

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION, observer: counter }));
  scene = new AwsScene(clients);
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  counter.reset();
});

async function load(dir: string, environment?: string): Promise<SpecDocument[]> {
  const loaded = await loadSpecDirectory(dir, [LogRouterKind, SidecarVolumeKind], { environment });
  expect(loaded.diagnostics).toEqual([]);
  return loaded.documents;
}

/** The two patching kinds as the registry builds them: one engine, both patches plugged in. */
async function taskDefinitionReconcilers(): Promise<Reconciler[]> {
  const parts = new SharedKindParts(clients);
  return [
    (await logRouterEntry.load()).reconciler(parts),
    (await sidecarVolumeEntry.load()).reconciler(parts),
  ];
}

async function apply(documents: SpecDocument[]): Promise<PassResult> {
  return runPass(
    {
      reconcilers: await taskDefinitionReconcilers(),
      documents,
      complete: true,
      ownerId: "it",
      logger: silentLogger,
      signal: AbortSignal.timeout(60_000),
    },
    true,
  );
}

async function latest(family: string) {
  const out = await clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ["TAGS"] }),
  );
  return {
    revision: out.taskDefinition?.revision,
    arn: out.taskDefinition?.taskDefinitionArn,
    definition: toRegisterInput(out.taskDefinition as Record<string, unknown>),
    tags: out.tags ?? [],
  };
}

async function revisions(family: string): Promise<string[]> {
  const out = await clients.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
  return out.taskDefinitionArns ?? [];
}

async function serviceRuns(cluster: string, service: string): Promise<string | undefined> {
  const out = await clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  return out.services?.[0]?.taskDefinition;
}

describe("LogRouter against the emulator (seed 003)", () => {
  it("patches the family into the hand-written task definition, rolls the service, then converges", async () => {
    await scene.cluster("app", 0);
    const first = await scene.registerTaskDefinitionFrom(registerInput(fixture("gaze-heatmap.base.json")));
    await scene.createEcsService("app", "gaze-heatmap", first);
    const docs = await load("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml");
    counter.reset();

    const result = await apply(docs);
    expect(result.failures).toEqual([]);
    const td = await latest("gaze-heatmap");
    expect(td.revision).toBe(2);
    expect(td.definition).toEqual(fixture("gaze-heatmap.expected.json"));
    expect(td.tags).toContainEqual({
      key: "ecs-log-operator/generation",
      value: `LogRouter/gaze-heatmap:${docs[0]!.generation}`,
    });
    expect(await serviceRuns("app", "gaze-heatmap")).toBe(td.arn);
    expect(counter.count("ecs", "RegisterTaskDefinition")).toBe(1);
    expect(counter.count("ecs", "UpdateService")).toBe(1);

    counter.reset();
    const again = await apply(docs);
    expect(again.failures).toEqual([]);
    expect(again.plans.flatMap((p) => p.changes)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(await revisions("gaze-heatmap")).toHaveLength(2);
  });

  it("patches the router back onto a pipeline revision and keeps the pipeline's new image", async () => {
    await scene.cluster("app", 0);
    const first = await scene.registerTaskDefinitionFrom(registerInput(fixture("gaze-heatmap.base.json")));
    await scene.createEcsService("app", "gaze-heatmap", first);
    const docs = await load("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml");
    expect((await apply(docs)).failures).toEqual([]);

    // The deploy pipeline registers its own revision with a new image and no log routing, and deploys it.
    const pipeline = fixture("gaze-heatmap.base.json");
    const image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gaze-heatmap:v2";
    pipeline.containerDefinitions[0]!.image = image;
    const deployed = await scene.registerTaskDefinitionFrom(registerInput(pipeline));
    expect(deployed).toMatch(/:3$/);

    const result = await apply(docs);
    expect(result.failures).toEqual([]);
    const td = await latest("gaze-heatmap");
    expect(td.revision).toBe(4);
    const expected = fixture("gaze-heatmap.expected.json");
    expected.containerDefinitions[0]!.image = image;
    expect(td.definition).toEqual(expected);
    expect(await serviceRuns("app", "gaze-heatmap")).toBe(td.arn);

    counter.reset();
    expect((await apply(docs)).failures).toEqual([]);
    expect(counter.writes()).toEqual([]);
  });

  it("with --environment development registers the awslogs variant without the router", async () => {
    await scene.cluster("app", 0);
    const first = await scene.registerTaskDefinitionFrom(
      registerInput(fixture("gaze-heatmap.expected.json")),
    );
    await scene.createEcsService("app", "gaze-heatmap", first);
    expect(
      (
        await apply(
          await load("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml", "development"),
        )
      ).failures,
    ).toEqual([]);
    const td = await latest("gaze-heatmap");
    expect(td.definition.containerDefinitions.map((c) => [c.name, c.logConfiguration?.logDriver])).toEqual([
      ["gaze-heatmap", "awslogs"],
    ]);
  });
});

describe("LogRouter with its Fluent Bit config in S3 (seed 002)", () => {
  const SEED = "manifests/examples/seeds/002-cloudwatch-logs";
  // The seed's LogRouter alone: its LogAlarm (access-denied.yaml) watches a log group these tests do not create.
  const ROUTER = `${SEED}/app.yaml`;
  const BUCKET = "example-log-config";
  const KEY = "api/extra.conf";
  const ARN = `arn:aws:s3:::${BUCKET}/${KEY}`;

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
    const code = await main(argv, io);
    return { code, out, err };
  }

  /** The config text `render` prints for the family, offline from the base fixture. */
  async function rendered(): Promise<string> {
    const r = await cli("render", SEED, "--from", `${TD}/api.base.json`, "--region", REGION);
    expect(r.err).toBe("");
    const parsed = JSON.parse(r.out) as { taskDefinitions: { fluentBitConfig?: { text: string } }[] };
    const text = parsed.taskDefinitions[0]?.fluentBitConfig?.text;
    expect(text).toMatch(/multiline\.parser +java,python,go\n/);
    return text!;
  }

  async function object(): Promise<string | undefined> {
    const out = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    return out.Body?.transformToString("utf-8");
  }

  async function createBucket(): Promise<void> {
    // Outside us-east-1, S3 needs the bucket's region as its location constraint.
    await clients.s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: REGION as BucketLocationConstraint },
      }),
    );
  }

  it("uploads the config before registering the revision that reads it, converges, and restores hand edits", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("api.base.json")));
    await createBucket();
    const docs = await load(ROUTER);
    const text = await rendered();
    counter.reset();

    const result = await apply(docs);
    expect(result.failures).toEqual([]);
    expect(result.plans.flatMap((p) => p.changes.map((c) => `${c.action} ${c.target}`))).toEqual([
      `create s3://${BUCKET}/${KEY} (Fluent Bit config for family api)`,
      "create task definition api, new revision",
    ]);
    expect(counter.writes().map((w) => `${w.service}:${w.operation}`)).toEqual([
      "s3:PutObject",
      "ecs:RegisterTaskDefinition",
    ]);
    expect(await object()).toBe(text);
    const td = await latest("api");
    expect(td.revision).toBe(2);
    const router = td.definition.containerDefinitions.find((c) => c.firelensConfiguration !== undefined);
    expect(router?.firelensConfiguration?.options).toMatchObject({
      "config-file-type": "s3",
      "config-file-value": ARN,
    });

    counter.reset();
    const again = await apply(docs);
    expect(again.failures).toEqual([]);
    expect(again.plans.flatMap((p) => p.changes)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(counter.count("s3", "GetObject")).toBe(1);

    await clients.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: "[FILTER]\n    name grep\n" }),
    );
    counter.reset();
    const restored = await apply(docs);
    expect(restored.failures).toEqual([]);
    expect(restored.plans.flatMap((p) => p.changes.map((c) => `${c.action} ${c.target}`))).toEqual([
      `update s3://${BUCKET}/${KEY} (Fluent Bit config for family api)`,
    ]);
    expect(counter.writes().map((w) => `${w.service}:${w.operation}`)).toEqual(["s3:PutObject"]);
    expect(await object()).toBe(text);
    expect(await revisions("api")).toHaveLength(2);
  });

  it("uploads through the apply command configured by AWS_ENDPOINT_URL alone, at a host name", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("api.base.json")));
    await createBucket();
    const saved = { ...process.env };
    // At a host name (not an IP address) the SDK would address example-log-config.localhost, which does not resolve.
    Object.assign(process.env, moto.env(REGION), { AWS_ENDPOINT_URL: `http://localhost:${moto.port}` });
    try {
      const r = await cli("apply", ROUTER, "--owner-id", "it");
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(await object()).toBe(await rendered());
  });

  it("reports a missing bucket at the spec's line and registers nothing", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("api.base.json")));
    counter.reset();
    const result = await apply(await load(ROUTER));
    expect(result.failures.map((f) => f.error.message)).toEqual([
      expect.stringMatching(
        /002-cloudwatch-logs\/app\.yaml:\d+:\d+: LogRouter\/api: S3 bucket example-log-config does not exist/,
      ),
    ]);
    expect(counter.writes()).toEqual([]);
    expect(await revisions("api")).toHaveLength(1);
  });
});

/** Runs the CLI with the emulator's endpoint and credentials in the environment, as a pipeline would. */
async function cliAgainstEmulator(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const saved = { ...process.env };
  // At a host name (not an IP address) the SDK would address BUCKET.localhost, which does not resolve.
  Object.assign(process.env, moto.env(REGION), { AWS_ENDPOINT_URL: `http://localhost:${moto.port}` });
  try {
    return { code: await main(argv, io), out, err };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

async function createBucketIn(bucket: string): Promise<void> {
  // Outside us-east-1, S3 needs the bucket's region as its location constraint.
  await clients.s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: REGION as BucketLocationConstraint },
    }),
  );
}

describe("LogRouter on Fargate through the init image (seed 004)", () => {
  const SEED = "manifests/examples/seeds/004-fargate-opensearch";
  const BUCKET = "tomy-log-config";
  const KEY = "tomy-api/extra.conf";
  const ARN = `arn:aws:s3:::${BUCKET}/${KEY}`;

  async function rendered(): Promise<string> {
    const r = await cliAgainstEmulator(
      "render",
      SEED,
      "--from",
      `${TD}/tomy-api.base.json`,
      "--region",
      REGION,
    );
    expect(r.err).toBe("");
    const parsed = JSON.parse(r.out) as { taskDefinitions: { fluentBitConfig?: { text: string } }[] };
    return parsed.taskDefinitions[0]!.fluentBitConfig!.text;
  }

  it("uploads the config, then registers a revision whose router reads it through the init variables; converges", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("tomy-api.base.json")));
    await createBucketIn(BUCKET);
    const docs = await load(SEED);
    const text = await rendered();
    expect(text).toMatch(/\[SERVICE\]\n {4}Grace 25\n/);
    expect(text).toMatch(/multiline\.parser +go\n/);
    counter.reset();

    const result = await apply(docs);
    expect(result.failures).toEqual([]);
    expect(result.plans.flatMap((p) => p.changes.map((c) => `${c.action} ${c.target}`))).toEqual([
      `create s3://${BUCKET}/${KEY} (Fluent Bit config for family tomy-api)`,
      "create task definition tomy-api, new revision",
    ]);
    // The object is in S3 before the revision that reads it exists: a task of that revision never starts without it.
    expect(counter.writes().map((w) => `${w.service}:${w.operation}`)).toEqual([
      "s3:PutObject",
      "ecs:RegisterTaskDefinition",
    ]);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(await object.Body?.transformToString("utf-8")).toBe(text);

    const td = await latest("tomy-api");
    expect(td.revision).toBe(2);
    expect(td.definition.requiresCompatibilities).toEqual(["FARGATE"]);
    const [app, router] = td.definition.containerDefinitions;
    expect(router).toMatchObject({
      name: "log_router",
      image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest",
      stopTimeout: 30,
      environment: [{ name: "aws_fluent_bit_init_s3_1", value: ARN }],
      firelensConfiguration: { type: "fluentbit", options: { "enable-ecs-log-metadata": "true" } },
    });
    expect(app?.dependsOn).toEqual([{ containerName: "log_router", condition: "START" }]);
    expect(app?.logConfiguration?.logDriver).toBe("awsfirelens");

    counter.reset();
    const again = await apply(docs);
    expect(again.failures).toEqual([]);
    expect(again.plans.flatMap((p) => p.changes)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(await revisions("tomy-api")).toHaveLength(2);
  });
});

describe("bad LogRouter input changes nothing (table)", () => {
  const BUCKET = "tomy-log-config";
  const seed = readFileSync("manifests/examples/seeds/004-fargate-opensearch/api.yaml", "utf8");
  const DD = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:dd";
  // Each row: what is wrong, the seed 004 spec with the defect, the text on the line the error must name.
  const cases: [what: string, spec: string, line: string, message: RegExp][] = [
    [
      "a plaintext key in a second output",
      seed.replace(
        "  # Go panics",
        `  additionalOutputs:\n    - datadog: { apiKeySecretArn: "${DD}", options: { apikey: "0123456789abcdef0123456789abcdef" } }\n  # Go panics`,
      ),
      "options: { apikey",
      /additionalOutputs\[0\]\.datadog\.options\.apikey: expected string to match 'not-a-plaintext-key'/,
    ],
    [
      "an S3 ARN in a file variable",
      seed.replace(
        "    logs: {",
        '    init: { files: ["arn:aws:s3:::tomy-log-config/parsers.conf"] }\n    logs: {',
      ),
      "init: { files",
      /an S3 ARN in an aws_fluent_bit_init_file variable/,
    ],
    [
      "an unknown output property",
      seed.replace(
        "      index: tomy-api",
        "      index: tomy-api\n      options: { Suppres_Type_Name: On }",
      ),
      "Suppres_Type_Name",
      /unknown property "Suppres_Type_Name" of Fluent Bit's opensearch output .*did you mean "suppress_type_name"\?/,
    ],
    [
      "two outputs with the same match",
      seed.replace(
        "  # Go panics",
        "  additionalOutputs:\n    - s3: { bucket: tomy-archive }\n    - s3: { bucket: tomy-archive-2 }\n  # Go panics",
      ),
      "tomy-archive-2",
      /takes the same containers' logs \(all routed\) as additionalOutputs\[0\]\.s3/,
    ],
  ];

  it.each(cases)(
    "%s: validate and apply name file and line, and nothing is written",
    async (_w, spec, line, message) => {
      await scene.registerTaskDefinitionFrom(registerInput(fixture("tomy-api.base.json")));
      await createBucketIn(BUCKET);
      const dir = mkdtempSync(join(tmpdir(), "elo-bad-"));
      const file = join(dir, "api.yaml");
      writeFileSync(file, spec);
      const at = `${file}:${spec.split("\n").findIndex((l) => l.includes(line)) + 1}:`;
      counter.reset();

      for (const argv of [
        ["validate", dir],
        ["apply", dir, "--owner-id", "it"],
      ]) {
        const r = await cliAgainstEmulator(...argv);
        expect(r.code).toBe(1);
        expect(r.err).toContain(at);
        expect(r.err).toMatch(message);
        expect(r.err).not.toContain("0123456789abcdef");
      }
      expect(counter.writes()).toEqual([]);
      expect(await revisions("tomy-api")).toHaveLength(1);
      const objects = await clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      expect(objects.KeyCount ?? 0).toBe(0);
    },
  );
});

describe("latest ACTIVE revision", () => {
  it("starts from the newest ACTIVE revision when a newer one was deregistered", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("log-batch.base.json")));
    const broken = fixture("log-batch.base.json");
    broken.containerDefinitions[1]!.image = "broken:1";
    const second = await scene.registerTaskDefinitionFrom(registerInput(broken));
    await clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: second }));
    expect(
      (await apply(await load("manifests/examples/seeds/001-sidecar-batch/log-batch.yaml"))).failures,
    ).toEqual([]);
    const td = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "log-batch:3" }));
    expect(toRegisterInput(td.taskDefinition as Record<string, unknown>)).toEqual(
      fixture("log-batch.expected.json"),
    );
  });
});

describe("SidecarVolume against the emulator (seed 001)", () => {
  it("gives the hand-written containers, and one revision with a LogRouter on the same family", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("log-batch.base.json")));
    expect(
      (await apply(await load("manifests/examples/seeds/001-sidecar-batch/log-batch.yaml"))).failures,
    ).toEqual([]);
    const td = await latest("log-batch");
    expect(td.revision).toBe(2);
    expect(td.definition).toEqual(fixture("log-batch.expected.json"));

    await moto.reset();
    const payments = fixture("payments.base.json") as unknown as { taskDefinition: TaskDefinitionJson };
    await scene.registerTaskDefinitionFrom(registerInput(toRegisterInput(payments.taskDefinition)));
    const docs = await load("test/fixtures/specs/payments");
    counter.reset();
    const result = await apply(docs);
    expect(result.failures).toEqual([]);
    expect(counter.count("ecs", "RegisterTaskDefinition")).toBe(1);
    expect(result.plans.find((p) => p.key === "SidecarVolume/payments-batch")?.notes).toEqual([
      "patched together with LogRouter/payments: one revision of family payments",
    ]);
    const patched = await latest("payments");
    expect(patched.revision).toBe(2);
    const batch = patched.definition.containerDefinitions.find((c) => c.name === "batch");
    expect(batch?.volumesFrom).toEqual([{ readOnly: true, sourceContainer: "fluentd" }]);
    expect(batch?.logConfiguration?.logDriver).toBe("awsfirelens");

    counter.reset();
    expect((await apply(docs)).failures).toEqual([]);
    expect(counter.writes()).toEqual([]);
  });
});

describe("bad input changes nothing", () => {
  it("reports a family that does not exist and a container the family lacks, at the spec's line", async () => {
    await scene.registerTaskDefinitionFrom(registerInput(fixture("log-batch.base.json")));
    const docs = await load("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml"); // family gaze-heatmap: not registered
    const missing = await apply(docs);
    expect(missing.failures.map((f) => f.error.message)).toEqual([
      expect.stringMatching(
        /^manifests\/examples\/seeds\/003-firelens-datadog\/gaze-heatmap\.yaml:\d+:\d+: LogRouter\/gaze-heatmap: family gaze-heatmap has no ACTIVE task definition revision/,
      ),
    ]);

    await scene.registerTaskDefinitionFrom(registerInput(fixture("gaze-heatmap.base.json")));
    const wrong = (await load("manifests/examples/seeds/001-sidecar-batch/log-batch.yaml")).map((d) => ({
      ...d,
      spec: { ...(d.spec as object), family: "gaze-heatmap" },
    }));
    const unknown = await apply(wrong);
    expect(unknown.failures.map((f) => f.error.message)).toEqual([
      expect.stringMatching(
        /log-batch\.yaml:\d+:\d+: SidecarVolume\/log-batch: family gaze-heatmap has no container "fluentd"/,
      ),
    ]);
    expect(counter.writes().map((w) => w.operation)).toEqual([
      "RegisterTaskDefinition",
      "RegisterTaskDefinition",
    ]);
    expect(await revisions("gaze-heatmap")).toHaveLength(1);
  });

  it("reports a rollout service that does not exist before registering anything", async () => {
    await scene.cluster("app", 0);
    await scene.registerTaskDefinitionFrom(registerInput(fixture("gaze-heatmap.base.json")));
    counter.reset();
    const result = await apply(await load("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml"));
    expect(result.failures.map((f) => f.error.message)).toEqual([
      expect.stringMatching(
        /gaze-heatmap\.yaml:\d+:\d+: LogRouter\/gaze-heatmap: ECS service gaze-heatmap does not exist in cluster app/,
      ),
    ]);
    expect(counter.writes()).toEqual([]);
  });
});
