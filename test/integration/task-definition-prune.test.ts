import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
} from "@aws-sdk/client-ecs";
import { CreateBucketCommand, HeadObjectCommand, type BucketLocationConstraint } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsCallCounter, type AwsClients } from "../../controllers/aws/clients.ts";
import { SharedKindParts } from "../../controllers/kind-entry.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { runPass, type PassResult } from "../../controllers/pass.ts";
import type { Reconciler } from "../../controllers/reconciler.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { logRouterEntry, logRouterPatch } from "../../reconcilers/log-router/log-router-entry.ts";
import { LogRouterKind } from "../../reconcilers/log-router/log-router-kind.ts";
import {
  sidecarVolumeEntry,
  sidecarVolumePatch,
} from "../../reconcilers/sidecar-volume/sidecar-volume-entry.ts";
import { SidecarVolumeKind } from "../../reconcilers/sidecar-volume/sidecar-volume-kind.ts";
import { patchFamily } from "../../reconcilers/task-definition/family-patch.ts";
import { TaskDefinitionPatches } from "../../reconcilers/task-definition/task-definition-patch.ts";
import {
  comparable,
  toRegisterInput,
  type TaskDefinitionJson,
} from "../../reconcilers/task-definition/task-definition.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { startEmulator } from "./harness.ts";
import { fixture, registerInput } from "./task-definition-fixtures.ts";

// Removing LogRouter and SidecarVolume specs against the emulator: the sweep finds the operator's revisions through
// the Resource Groups Tagging API (moto lists ECS task definitions by tag), then registers and rolls out through ECS.

const REGION = "ap-northeast-1";
const SEED_003 = "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml";
const SEED_001 = "manifests/examples/seeds/001-sidecar-batch/log-batch.yaml";

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

async function load(path: string): Promise<SpecDocument[]> {
  const loaded = await loadSpecDirectory(path, [LogRouterKind, SidecarVolumeKind]);
  expect(loaded.diagnostics).toEqual([]);
  return loaded.documents;
}

/** The specs as they would read with `prune: true` added. */
function pruned(docs: SpecDocument[]): SpecDocument[] {
  return docs.map((d) => ({ ...d, spec: { ...(d.spec as object), prune: true } }));
}

let reconcilers: Reconciler[];
beforeEach(async () => {
  // One process across a test's passes, as under `run`: the engine's memory of settled families carries over.
  const parts = new SharedKindParts(clients);
  reconcilers = [
    (await logRouterEntry.load()).reconciler(parts),
    (await sidecarVolumeEntry.load()).reconciler(parts),
  ];
});

async function pass(documents: SpecDocument[], apply = true, complete = true): Promise<PassResult> {
  const result = await runPass(
    {
      reconcilers,
      documents,
      complete,
      ownerId: "it",
      logger: silentLogger,
      signal: AbortSignal.timeout(60_000),
      // The kind's own removal rule, apart from the prune guard (which has its tests in prune-guard.test.ts).
      pruneGuard: { allowEmpty: true, maxCount: 1, maxFraction: 1 },
    },
    apply,
  );
  expect(result.failures.map((f) => f.error.message)).toEqual([]);
  return result;
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

async function revisionCount(family: string): Promise<number> {
  const out = await clients.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
  return out.taskDefinitionArns?.length ?? 0;
}

async function serviceRuns(cluster: string, service: string): Promise<string | undefined> {
  const out = await clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  return out.services?.[0]?.taskDefinition;
}

/** What the engine would register for `docs` onto `base`: the patch of the specs that remain, alone. */
function patchedWith(base: TaskDefinitionJson, docs: SpecDocument[]): TaskDefinitionJson {
  const result = patchFamily(
    base,
    docs,
    { region: REGION },
    new TaskDefinitionPatches([logRouterPatch, sidecarVolumePatch]),
  );
  expect(result.errors).toEqual([]);
  return result.definition;
}

/** The seed 003 family, deployed to the service its LogRouter rolls out. */
async function gazeHeatmap(): Promise<TaskDefinitionJson> {
  await scene.cluster("app", 0);
  const base = fixture("gaze-heatmap.base.json");
  await scene.createEcsService(
    "app",
    "gaze-heatmap",
    await scene.registerTaskDefinitionFrom(registerInput(base)),
  );
  return base;
}

const changesOf = (result: PassResult) =>
  result.plans.flatMap((p) => p.changes.map((c) => `${p.key}: ${c.action} ${c.target}`));

describe("removing a LogRouter spec with prune: true (seed 003)", () => {
  it("registers the pipeline's own revision again, rolls the service to it, and then registers nothing", async () => {
    const base = await gazeHeatmap();
    const docs = pruned(await load(SEED_003));
    await pass(docs);
    const patched = await latest("gaze-heatmap");
    expect(patched.revision).toBe(2);
    expect(patched.tags).toContainEqual({
      key: "ecs-log-operator/patch/LogRouter/gaze-heatmap",
      value: "prune router=logrouter",
    });
    expect(patched.tags).toContainEqual({ key: "ecs-log-operator/base", value: "1" });

    // `plan` shows the removal before anything is written.
    counter.reset();
    const planned = await pass([], false);
    expect(changesOf(planned)).toEqual([
      "LogRouter/gaze-heatmap: create task definition gaze-heatmap, new revision",
      "LogRouter/gaze-heatmap: update service app/gaze-heatmap",
    ]);
    expect(planned.plans[0]?.changes[0]?.detail).toMatch(
      /^patched from gaze-heatmap:2: removes the patch of LogRouter\/gaze-heatmap \(removed, asked for prune\): gaze-heatmap: dependsOn, logConfiguration; container logrouter removed$/,
    );
    expect(counter.writes()).toEqual([]);

    await pass([]);
    const removed = await latest("gaze-heatmap");
    expect(removed.revision).toBe(3);
    expect(comparable(removed.definition)).toBe(comparable(base));
    expect(removed.tags.filter((t) => t.key?.startsWith("ecs-log-operator/patch/") === true)).toEqual([]);
    expect(await serviceRuns("app", "gaze-heatmap")).toBe(removed.arn);

    counter.reset();
    const again = await pass([]);
    expect(changesOf(again)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(await revisionCount("gaze-heatmap")).toBe(3);
  });

  it("keeps the image of a pipeline that copied the operator's revision, and only takes back the patch", async () => {
    const base = await gazeHeatmap();
    const docs = pruned(await load(SEED_003));
    await pass(docs);
    // The pipeline describes the latest revision, changes its image and registers it, without the tags.
    const copy = (await latest("gaze-heatmap")).definition;
    const image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gaze-heatmap:v2";
    copy.containerDefinitions[0]!.image = image;
    await scene.registerTaskDefinitionFrom(registerInput(copy));

    await pass([]);
    const removed = await latest("gaze-heatmap");
    expect(removed.revision).toBe(4);
    const expected = structuredClone(base);
    expected.containerDefinitions[0]!.image = image;
    expect(comparable(removed.definition)).toBe(comparable(expected));
    counter.reset();
    await pass([]);
    expect(counter.writes()).toEqual([]);
  });

  it("leaves a pipeline revision registered from the pipeline's own file as it is", async () => {
    const base = await gazeHeatmap();
    await pass(pruned(await load(SEED_003)));
    const own = structuredClone(base);
    own.containerDefinitions[0]!.image = "gaze-heatmap:v3";
    await scene.registerTaskDefinitionFrom(registerInput(own));
    counter.reset();
    const result = await pass([]);
    expect(changesOf(result)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(await revisionCount("gaze-heatmap")).toBe(3);
  });

  it("removes nothing while a spec file is invalid", async () => {
    await gazeHeatmap();
    await pass(pruned(await load(SEED_003)));
    counter.reset();
    await pass([], true, false);
    expect(counter.writes()).toEqual([]);
    expect(await revisionCount("gaze-heatmap")).toBe(2);
  });
});

describe("removing a spec without prune: true", () => {
  it("leaves its patch in place and says so in the plan", async () => {
    await gazeHeatmap();
    await pass(await load(SEED_003));
    const patched = await latest("gaze-heatmap");
    expect(patched.tags).toContainEqual({
      key: "ecs-log-operator/patch/LogRouter/gaze-heatmap",
      value: "keep router=logrouter",
    });
    counter.reset();
    const result = await pass([]);
    expect(changesOf(result)).toEqual([]);
    expect(result.plans.map((p) => [p.key, p.notes])).toEqual([
      [
        "LogRouter/gaze-heatmap",
        ["removed without prune: true: its patch stays in family gaze-heatmap as it is, no longer managed"],
      ],
    ]);
    expect(counter.writes()).toEqual([]);
    expect(comparable((await latest("gaze-heatmap")).definition)).toBe(comparable(patched.definition));
  });
});

describe("removing a SidecarVolume spec with prune: true (seed 001)", () => {
  it("registers the pipeline's own revision again, and then registers nothing", async () => {
    const base = fixture("log-batch.base.json");
    await scene.registerTaskDefinitionFrom(registerInput(base));
    await pass(pruned(await load(SEED_001)));
    expect((await latest("log-batch")).revision).toBe(2);

    await pass([]);
    const removed = await latest("log-batch");
    expect(removed.revision).toBe(3);
    expect(comparable(removed.definition)).toBe(comparable(base));
    counter.reset();
    expect(changesOf(await pass([]))).toEqual([]);
    expect(counter.writes()).toEqual([]);
  });
});

describe("removing one of two specs of a family (payments)", () => {
  async function setup(): Promise<{ base: TaskDefinitionJson; router: SpecDocument; volume: SpecDocument }> {
    const payments = fixture("payments.base.json") as unknown as { taskDefinition: TaskDefinitionJson };
    const base = toRegisterInput(payments.taskDefinition);
    await scene.registerTaskDefinitionFrom(registerInput(base));
    const docs = pruned(await load("test/fixtures/specs/payments"));
    await pass(docs);
    expect((await latest("payments")).revision).toBe(2);
    return {
      base,
      router: docs.find((d) => d.kind === "LogRouter")!,
      volume: docs.find((d) => d.kind === "SidecarVolume")!,
    };
  }

  it("removes only the SidecarVolume's patch, in one revision planned by the sweep", async () => {
    const { base, router } = await setup();
    const result = await pass([router]);
    expect(changesOf(result)).toEqual([
      "SidecarVolume/payments-batch: create task definition payments, new revision",
    ]);
    expect(result.plans.find((p) => p.key === "LogRouter/payments")?.notes).toEqual([
      "family payments: planned by the SidecarVolume/* sweep, together with the removal of SidecarVolume/payments-batch",
    ]);
    const removed = await latest("payments");
    expect(removed.revision).toBe(3);
    expect(comparable(removed.definition)).toBe(comparable(patchedWith(base, [router])));
    counter.reset();
    expect(changesOf(await pass([router]))).toEqual([]);
    expect(counter.writes()).toEqual([]);
  });

  it("removes only the LogRouter's patch", async () => {
    const { base, volume } = await setup();
    await pass([volume]);
    const removed = await latest("payments");
    expect(removed.revision).toBe(3);
    expect(comparable(removed.definition)).toBe(comparable(patchedWith(base, [volume])));
    counter.reset();
    expect(changesOf(await pass([volume]))).toEqual([]);
    expect(counter.writes()).toEqual([]);
  });
});

describe("removing a LogRouter whose Fluent Bit config the operator uploaded (seed 002)", () => {
  it("leaves the object in S3, and the plan says why", async () => {
    const BUCKET = "example-log-config";
    await clients.s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: REGION as BucketLocationConstraint },
      }),
    );
    const base = fixture("api.base.json");
    await scene.registerTaskDefinitionFrom(registerInput(base));
    await pass(pruned(await load("manifests/examples/seeds/002-cloudwatch-logs/app.yaml")));
    const result = await pass([]);
    expect(result.plans[0]?.notes).toContainEqual(
      expect.stringMatching(
        /^LogRouter\/api \(removed\): left in S3: arn:aws:s3:::example-log-config\/api\/extra\.conf/,
      ),
    );
    expect(comparable((await latest("api")).definition)).toBe(comparable(base));
    await expect(
      clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "api/extra.conf" })),
    ).resolves.toBeDefined();
  });
});
