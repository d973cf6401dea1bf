import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../controllers/logger.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { LogRouterKind } from "../log-router/log-router-kind.ts";
import { SidecarVolumeKind } from "../sidecar-volume/sidecar-volume-kind.ts";
import type { ConfigObjectStore } from "./config-object-store.ts";
import { patchFamily } from "./family-patch.ts";
import type { ObservedService, ObservedTaskDefinition, TaskDefinitionApi } from "./task-definition-api.ts";
import { TaskDefinitionReconciler } from "./task-definition-reconciler.ts";
import type { TaskDefinitionJson } from "./task-definition.ts";

/** Revisions and services in memory: the reconciler's own interface, not the SDK. */
class MemoryTaskDefinitionApi implements TaskDefinitionApi {
  readonly revisions: ObservedTaskDefinition[] = [];
  readonly services = new Map<string, string>();
  readonly writes: string[] = [];

  add(definition: TaskDefinitionJson): string {
    const revision = this.revisions.length + 1;
    const arn = `arn:aws:ecs:us-east-1:123456789012:task-definition/${definition.family}:${revision}`;
    this.revisions.push({ arn, revision, definition: structuredClone(definition), tags: [] });
    return arn;
  }
  async describeLatest(): Promise<ObservedTaskDefinition | undefined> {
    return this.revisions.at(-1);
  }
  async describe(td: string): Promise<ObservedTaskDefinition | undefined> {
    return this.revisions.find((r) => r.arn === td);
  }
  async register(definition: TaskDefinitionJson): Promise<{ arn: string; revision: number }> {
    this.writes.push("register");
    const arn = this.add(definition);
    return { arn, revision: this.revisions.length };
  }
  async describeService(cluster: string, service: string): Promise<ObservedService | undefined> {
    const arn = this.services.get(`${cluster}/${service}`);
    return arn === undefined ? undefined : { cluster, service, taskDefinitionArn: arn };
  }
  async updateServiceTaskDefinition(cluster: string, service: string, arn: string): Promise<void> {
    this.writes.push(`update ${cluster}/${service}`);
    this.services.set(`${cluster}/${service}`, arn);
  }
}

/** Objects in memory, writing to the same log as the task definitions so that the order of writes shows. */
class MemoryConfigObjectStore implements ConfigObjectStore {
  readonly objects = new Map<string, string>();
  readonly writes: string[];

  constructor(writes: string[]) {
    this.writes = writes;
  }
  async read(bucket: string, key: string): Promise<string | undefined> {
    return this.objects.get(`${bucket}/${key}`);
  }
  async write(bucket: string, key: string, body: string): Promise<void> {
    this.writes.push(`put s3://${bucket}/${key}`);
    this.objects.set(`${bucket}/${key}`, body);
  }
}

const base = JSON.parse(
  readFileSync("test/fixtures/task-definitions/gaze-heatmap.base.json", "utf8"),
) as TaskDefinitionJson;
const docs = parseSpecText(
  "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml",
  readFileSync("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml", "utf8"),
  [LogRouterKind, SidecarVolumeKind],
).documents;
const ctx = (documents: SpecDocument[]): ReconcileContext => ({
  signal: new AbortController().signal,
  logger: silentLogger,
  ownerId: "test",
  documents,
});

function setup(): { api: MemoryTaskDefinitionApi; reconciler: TaskDefinitionReconciler } {
  const api = new MemoryTaskDefinitionApi();
  return { api, reconciler: new TaskDefinitionReconciler({ api, region: async () => "ap-northeast-1" }) };
}

describe("TaskDefinitionReconciler", () => {
  it("registers one revision, rolls the service, and then has nothing to do", async () => {
    const { api, reconciler } = setup();
    api.services.set("app/gaze-heatmap", api.add(base));
    const plan = await reconciler.plan(docs[0]!, ctx(docs));
    expect(plan.changes.map((c) => `${c.action} ${c.target}`)).toEqual([
      "create task definition gaze-heatmap, new revision",
      "update service app/gaze-heatmap",
    ]);
    await plan.apply(new AbortController().signal);
    expect(api.writes).toEqual(["register", "update app/gaze-heatmap"]);
    expect(api.services.get("app/gaze-heatmap")).toMatch(/:2$/);
    expect((await reconciler.plan(docs[0]!, ctx(docs))).changes).toEqual([]);
  });

  it("registers nothing when the pipeline registered a revision between plan and apply", async () => {
    const { api, reconciler } = setup();
    api.services.set("app/gaze-heatmap", api.add(base));
    const plan = await reconciler.plan(docs[0]!, ctx(docs));
    const pipeline = structuredClone(base);
    pipeline.containerDefinitions[0]!.image = "gaze-heatmap:v2";
    api.add(pipeline);
    await expect(plan.apply(new AbortController().signal)).rejects.toThrow(/changed since it was planned/);
    expect(api.writes).toEqual([]);
    const again = await reconciler.plan(docs[0]!, ctx(docs));
    await again.apply(new AbortController().signal);
    expect(api.revisions.at(-1)?.definition.containerDefinitions[0]?.image).toBe("gaze-heatmap:v2");
  });

  it("leaves a service alone when the revision it runs equals the desired one, whatever its number", async () => {
    const { api, reconciler } = setup();
    const patched = patchFamily(base, docs, { region: "ap-northeast-1" }).definition;
    api.services.set("app/gaze-heatmap", api.add(patched));
    api.add(patched); // someone registered the same content again: revision 2
    const plan = await reconciler.plan(docs[0]!, ctx(docs));
    expect(plan.changes).toEqual([]);
  });

  it("says what else a rollout changes when the service runs an older revision", async () => {
    const { api, reconciler } = setup();
    const old = structuredClone(base);
    old.containerDefinitions[0]!.image = "gaze-heatmap:old";
    api.services.set("app/gaze-heatmap", api.add(old));
    api.add(base);
    const plan = await reconciler.plan(docs[0]!, ctx(docs));
    expect(plan.changes.find((c) => c.action === "update")?.detail).toMatch(
      /^gaze-heatmap:1 -> the new revision; also changes gaze-heatmap: dependsOn, image, logConfiguration/,
    );
  });

  it("lets the first spec of a family carry the plan and notes it on the others", async () => {
    const { api, reconciler } = setup();
    api.add(base);
    const sidecar = parseSpecText(
      "sv.yaml",
      "apiVersion: ecs-log-operator/v1alpha1\nkind: SidecarVolume\nmetadata: { name: a }\n" +
        "spec: { family: gaze-heatmap, source: { container: gaze-heatmap }, consumers: [{ container: logrouter }] }\n",
      [SidecarVolumeKind],
    ).documents;
    const all = [
      ...sidecar,
      ...docs.map((d) => ({ ...d, spec: { ...(d.spec as object), rollout: undefined } })),
    ];
    const plan = await reconciler.plan(all[0]!, ctx(all));
    expect(plan.changes).toEqual([]);
    expect(plan.notes).toEqual([
      "patched together with LogRouter/gaze-heatmap: one revision of family gaze-heatmap",
    ]);
  });
});

describe("TaskDefinitionReconciler with a router config in S3 (seed 002)", () => {
  const seed = "manifests/examples/seeds/002-cloudwatch-logs/app.yaml";
  const apiDocs = parseSpecText(seed, readFileSync(seed, "utf8"), [LogRouterKind]).documents;
  const apiBase = JSON.parse(
    readFileSync("test/fixtures/task-definitions/api.base.json", "utf8"),
  ) as TaskDefinitionJson;
  const object = "example-log-config/api/extra.conf";

  function setupS3(): {
    api: MemoryTaskDefinitionApi;
    store: MemoryConfigObjectStore;
    reconciler: TaskDefinitionReconciler;
  } {
    const api = new MemoryTaskDefinitionApi();
    const store = new MemoryConfigObjectStore(api.writes);
    api.add(apiBase);
    const reconciler = new TaskDefinitionReconciler({
      api,
      region: async () => "ap-northeast-1",
      configStore: store,
    });
    return { api, store, reconciler };
  }

  it("uploads the rendered config before registering the revision that reads it, then converges", async () => {
    const { api, store, reconciler } = setupS3();
    const plan = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    expect(plan.changes.map((c) => `${c.action} ${c.target}`)).toEqual([
      `create s3://${object} (Fluent Bit config for family api)`,
      "create task definition api, new revision",
    ]);
    await plan.apply(new AbortController().signal);
    expect(api.writes).toEqual([`put s3://${object}`, "register"]);
    const rendered = (await reconciler.desired("api", apiDocs)).fluentBitConfig?.text;
    expect(store.objects.get(object)).toBe(rendered);
    expect(rendered).toMatch(/multiline\.parser +java,python,go\n/);

    const again = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    expect(again.changes).toEqual([]);
    await again.apply(new AbortController().signal);
    expect(api.writes).toEqual([`put s3://${object}`, "register"]);
  });

  it("restores an object edited by hand without registering a revision", async () => {
    const { api, store, reconciler } = setupS3();
    await (await reconciler.plan(apiDocs[0]!, ctx(apiDocs))).apply(new AbortController().signal);
    const rendered = store.objects.get(object);
    store.objects.set(object, "[FILTER]\n    name grep\n");
    api.writes.length = 0;

    const plan = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    expect(plan.changes.map((c) => `${c.action} ${c.target}`)).toEqual([
      `update s3://${object} (Fluent Bit config for family api)`,
    ]);
    await plan.apply(new AbortController().signal);
    expect(api.writes).toEqual([`put s3://${object}`]);
    expect(store.objects.get(object)).toBe(rendered);
  });

  it("refuses to plan an S3 config without a store rather than skip the upload", async () => {
    const api = new MemoryTaskDefinitionApi();
    api.add(apiBase);
    const reconciler = new TaskDefinitionReconciler({ api, region: async () => "ap-northeast-1" });
    await expect(reconciler.plan(apiDocs[0]!, ctx(apiDocs))).rejects.toThrow(
      /app\.yaml:\d+:\d+: LogRouter\/api: this command cannot deliver a config file to S3/,
    );
  });
});
