import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../controllers/logger.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { LogRouterKind } from "./log-router-kind.ts";
import { logRouterPatch } from "./log-router-entry.ts";
import { patchFamily } from "../task-definition/family-patch.ts";
import { TaskDefinitionPatches } from "../task-definition/task-definition-patch.ts";
import { TaskDefinitionReconciler } from "../task-definition/task-definition-reconciler.ts";
import type { TaskDefinitionJson } from "../task-definition/task-definition.ts";
import { MemoryConfigObjectStore, MemoryTaskDefinitionApi } from "../../test/memory-task-definitions.ts";

const base = JSON.parse(
  readFileSync("test/fixtures/task-definitions/gaze-heatmap.base.json", "utf8"),
) as TaskDefinitionJson;
const docs = parseSpecText(
  "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml",
  readFileSync("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml", "utf8"),
  [LogRouterKind],
).documents;
// LogRouter's patch through the engine, in families no other kind patches.
const patches = [logRouterPatch];
const ctx = (documents: SpecDocument[]): ReconcileContext => ({
  signal: new AbortController().signal,
  logger: silentLogger,
  ownerId: "test",
  documents,
});

function setup(): { api: MemoryTaskDefinitionApi; reconciler: TaskDefinitionReconciler } {
  const api = new MemoryTaskDefinitionApi();
  return {
    api,
    reconciler: new TaskDefinitionReconciler({ api, region: async () => "ap-northeast-1", patches }),
  };
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

  it("rolls no service to a revision a pipeline superseded between plan and apply", async () => {
    const { api, reconciler } = setup();
    api.services.set("app/gaze-heatmap", api.add(base));
    await (await reconciler.plan(docs[0]!, ctx(docs))).apply(new AbortController().signal);
    // The service is moved back by hand: the plan rolls it to the operator's revision 2...
    api.services.set("app/gaze-heatmap", api.revisions[0]!.arn);
    api.writes.length = 0;
    const plan = await reconciler.plan(docs[0]!, ctx(docs));
    expect(plan.changes.map((c) => `${c.action} ${c.target}`)).toEqual(["update service app/gaze-heatmap"]);
    // ...but a pipeline registers and deploys revision 3 first: rolling to 2 would undo that deploy.
    const pipeline = structuredClone(api.revisions[1]!.definition);
    pipeline.containerDefinitions[0]!.image = "gaze-heatmap:v3";
    api.services.set("app/gaze-heatmap", api.add(pipeline));
    await expect(plan.apply(new AbortController().signal)).rejects.toThrow(/changed since it was planned/);
    expect(api.writes).toEqual([]);
    expect(api.services.get("app/gaze-heatmap")).toMatch(/:3$/);
  });

  it("leaves a service alone when the revision it runs equals the desired one, whatever its number", async () => {
    const { api, reconciler } = setup();
    const patched = patchFamily(
      base,
      docs,
      { region: "ap-northeast-1" },
      new TaskDefinitionPatches(patches),
    ).definition;
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
      patches,
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
    const rendered = (await reconciler.desired("api", apiDocs)).configFile?.text;
    expect(store.objects.get(object)).toBe(rendered);
    expect(rendered).toMatch(/multiline\.parser +java,python,go\n/);

    const again = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    expect(again.changes).toEqual([]);
    await again.apply(new AbortController().signal);
    expect(api.writes).toEqual([`put s3://${object}`, "register"]);
  });

  it("writes neither the config nor a revision when the pipeline registered one between plan and apply", async () => {
    const { api, reconciler } = setupS3();
    const plan = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    const pipeline = structuredClone(apiBase);
    pipeline.containerDefinitions[0]!.image = "api:v2";
    api.add(pipeline);
    await expect(plan.apply(new AbortController().signal)).rejects.toThrow(/changed since it was planned/);
    // The config a superseded plan rendered is not written over whatever the newer revision reads.
    expect(api.writes).toEqual([]);
    await (await reconciler.plan(apiDocs[0]!, ctx(apiDocs))).apply(new AbortController().signal);
    expect(api.writes).toEqual([`put s3://${object}`, "register"]);
  });

  it("repatches a pipeline revision registered between the family check and its own registration", async () => {
    const { api, store, reconciler } = setupS3();
    const plan = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    // ECS registers without a condition: the pipeline's v2 lands while the config is being uploaded, after the check.
    const write = store.write.bind(store);
    store.write = async (...args) => {
      await write(...args);
      const pipeline = structuredClone(apiBase);
      pipeline.containerDefinitions[0]!.image = "api:v2";
      api.add(pipeline);
    };
    await expect(plan.apply(new AbortController().signal)).rejects.toThrow(
      /revision 3 was registered after another revision since revision 1; not rolled out/,
    );
    store.write = write;
    // Revision 3 is ours, built on revision 1 without v2. Patching it again would change nothing and keep v2 undone:
    // its `parent` tag (1) shows the gap, and revision 2, the pipeline's, is patched instead.
    const again = await reconciler.plan(apiDocs[0]!, ctx(apiDocs));
    expect(again.notes?.join("\n")).toContain(
      "revision 3, ours, was registered after revision 2 without it (planned on revision 1): revision 2 is patched instead",
    );
    expect(again.changes.map((c) => `${c.action} ${c.target}`)).toContain(
      "create task definition api, new revision",
    );
    await again.apply(new AbortController().signal);
    expect(api.revisions.at(-1)?.definition.containerDefinitions[0]?.image).toBe("api:v2");
    expect(api.revisions.at(-1)?.revision).toBe(4);
    // Converged on revision 4 (its parent, 3, directly below): nothing more.
    expect((await reconciler.plan(apiDocs[0]!, ctx(apiDocs))).changes).toEqual([]);
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
    const reconciler = new TaskDefinitionReconciler({ api, region: async () => "ap-northeast-1", patches });
    await expect(reconciler.plan(apiDocs[0]!, ctx(apiDocs))).rejects.toThrow(
      /app\.yaml:\d+:\d+: LogRouter\/api: this command cannot deliver a config file to S3/,
    );
  });
});
