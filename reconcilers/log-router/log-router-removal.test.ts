import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../controllers/logger.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { MemoryTaskDefinitionApi } from "../../test/memory-task-definitions.ts";
import { patchFamily } from "../task-definition/family-patch.ts";
import { TaskDefinitionPatches } from "../task-definition/task-definition-patch.ts";
import { TaskDefinitionReconciler } from "../task-definition/task-definition-reconciler.ts";
import { comparable, type TaskDefinitionJson } from "../task-definition/task-definition.ts";
import { logRouterPatch } from "./log-router-entry.ts";
import { LogRouterKind } from "./log-router-kind.ts";
import { revertLogRouter } from "./log-router-revert.ts";

const SEED = "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml";
const json = (path: string) => JSON.parse(readFileSync(path, "utf8")) as TaskDefinitionJson;
const base = json("test/fixtures/task-definitions/gaze-heatmap.base.json");
const load = (environment?: string) =>
  parseSpecText(SEED, readFileSync(SEED, "utf8"), [LogRouterKind], { environment }).documents.map((d) => ({
    ...d,
    spec: { ...(d.spec as object), prune: true, rollout: undefined },
  })) as SpecDocument[];
const patch = (td: TaskDefinitionJson, docs: SpecDocument[]) =>
  patchFamily(td, docs, { region: "ap-northeast-1" }, new TaskDefinitionPatches([logRouterPatch])).definition;

describe("revertLogRouter", () => {
  it("gives back the pipeline's containers and log configuration", () => {
    const ours = patch(base, load());
    const td = structuredClone(ours);
    expect(revertLogRouter(td, { reference: base, ours, footprint: { router: "logrouter" } })).toEqual({
      problems: [],
      notes: [],
    });
    expect(comparable(td)).toBe(comparable(base));
  });

  it("puts back the pipeline's own router that an awslogs output had removed", () => {
    const withRouter = json("test/fixtures/task-definitions/gaze-heatmap.expected.json");
    const ours = patch(withRouter, load("development"));
    expect(ours.containerDefinitions.map((c) => c.name)).toEqual(["gaze-heatmap"]);
    const td = structuredClone(ours);
    revertLogRouter(td, { reference: withRouter, ours, footprint: { router: "logrouter" } });
    expect(comparable(td)).toBe(comparable(withRouter));
  });

  it("keeps what the pipeline changed since in a revision it copied from the operator's", () => {
    const ours = patch(base, load());
    const copy = structuredClone(ours);
    copy.containerDefinitions[0]!.image = "gaze-heatmap:v2";
    copy.containerDefinitions[0]!.logConfiguration = {
      logDriver: "awslogs",
      options: { "awslogs-group": "/mine" },
    };
    revertLogRouter(copy, { reference: base, ours, footprint: { router: "logrouter" } });
    expect(copy.containerDefinitions.map((c) => c.name)).toEqual(["gaze-heatmap"]);
    expect(copy.containerDefinitions[0]?.image).toBe("gaze-heatmap:v2");
    expect(copy.containerDefinitions[0]?.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: { "awslogs-group": "/mine" },
    });
    // The router is gone, so no container may depend on it (ECS rejects that).
    expect(copy.containerDefinitions[0]?.dependsOn).toBeUndefined();
  });

  it("refuses a record that does not name the router", () => {
    const ours = patch(base, load());
    expect(revertLogRouter(structuredClone(ours), { reference: base, ours, footprint: {} }).problems).toEqual(
      ["its record does not name its router"],
    );
  });
});

/** The seed's specs renamed gaze-heatmap -> heatmap (the old name a removal) and edited (ECS log metadata off). */
const renamedAndEdited = (docs: SpecDocument[]): SpecDocument[] =>
  docs.map((d) => {
    const spec = d.spec as { router: object };
    return {
      ...d,
      metadata: { ...d.metadata, name: "heatmap" },
      generation: "g2",
      spec: { ...spec, router: { ...spec.router, enableEcsLogMetadata: false } },
    };
  }) as SpecDocument[];

describe("the engine's removal of a LogRouter patch", () => {
  const ctx = (documents: SpecDocument[], sweeping?: boolean): ReconcileContext => ({
    signal: new AbortController().signal,
    logger: silentLogger,
    ownerId: "test",
    documents,
    ...(sweeping !== undefined ? { sweeping } : {}),
  });

  function setup() {
    const api = new MemoryTaskDefinitionApi();
    api.add(base);
    const reconciler = new TaskDefinitionReconciler({
      api,
      tagged: api,
      region: async () => "ap-northeast-1",
      patches: [logRouterPatch],
    });
    return { api, reconciler };
  }

  it("under `run` (no pass-wide sweep), a live spec's revision carries a removed spec's record on", async () => {
    const { api, reconciler } = setup();
    const docs = load();
    await (await reconciler.plan(docs[0]!, ctx(docs))).apply(new AbortController().signal);
    // Another spec now patches the family, edited: gaze-heatmap renamed to heatmap.
    const renamed = renamedAndEdited(docs);
    const plan = await reconciler.plan(renamed[0]!, ctx(renamed));
    await plan.apply(new AbortController().signal);
    const keys = api.revisions.at(-1)!.tags.map((t) => t.key);
    expect(keys).toContain("ecs-log-operator/patch/LogRouter/heatmap");
    expect(keys).toContain("ecs-log-operator/patch/LogRouter/gaze-heatmap");

    // The sweep takes the removed spec's patch back and applies the live one again: the same revision, so nothing is
    // registered, and nothing is said until a revision or spec changes.
    expect(await reconciler.planOrphans("LogRouter", ctx(renamed))).toEqual([]);
    expect(api.writes).toEqual(["register", "register"]);
    expect(comparable(api.revisions.at(-1)!.definition)).toBe(comparable(patch(base, renamed)));
  });

  it("in a pass that sweeps, leaves the family to the sweep while a removal is pending", async () => {
    const { reconciler, api } = setup();
    const docs = load();
    await (await reconciler.plan(docs[0]!, ctx(docs))).apply(new AbortController().signal);
    const renamed = docs.map((d) => ({
      ...d,
      metadata: { ...d.metadata, name: "heatmap" },
    })) as SpecDocument[];
    const plan = await reconciler.plan(renamed[0]!, ctx(renamed, true));
    expect(plan.changes).toEqual([]);
    expect(plan.notes).toEqual([
      "family gaze-heatmap: planned by the LogRouter/* sweep, together with the removal of LogRouter/gaze-heatmap",
    ]);
    expect(api.writes).toEqual(["register"]);
  });

  it("under the default owner id, whose sweep removes nothing, plans the live spec's edit itself", async () => {
    const { reconciler, api } = setup();
    const docs = load();
    const asDefault = (documents: SpecDocument[], sweeping?: boolean) => ({
      ...ctx(documents, sweeping),
      ownerId: "default",
    });
    await (await reconciler.plan(docs[0]!, asDefault(docs))).apply(new AbortController().signal);
    // Renamed (the old name is a removal that asked for prune) and edited, in one pass that sweeps.
    const edited = renamedAndEdited(docs);
    const plan = await reconciler.plan(edited[0]!, asDefault(edited, true));
    expect(plan.changes.map((c) => `${c.action} ${c.target}`)).toEqual([
      "create task definition gaze-heatmap, new revision",
    ]);
    await plan.apply(new AbortController().signal);
    expect(api.writes).toEqual(["register", "register"]);
  });

  it("leaves the patch, and says why, when the revision it was patched onto is gone", async () => {
    const { api, reconciler } = setup();
    const docs = load();
    await (await reconciler.plan(docs[0]!, ctx(docs))).apply(new AbortController().signal);
    api.revisions.shift();
    const plans = await reconciler.planOrphans("LogRouter", ctx([]));
    expect(plans.map((p) => [p.key, p.changes, p.notes])).toEqual([
      [
        "LogRouter/gaze-heatmap",
        [],
        [
          "removed and asked for prune, but its patch is left in family gaze-heatmap: revision 1, the pipeline's " +
            "revision it was patched onto, no longer exists",
        ],
      ],
    ]);
  });

  it("leaves the patch of a revision registered before the operator recorded its base", async () => {
    const { api, reconciler } = setup();
    api.add(patch(base, load()), [
      { key: "ecs-log-operator/owner", value: "test" },
      { key: "ecs-log-operator/patch/LogRouter/gaze-heatmap", value: "prune router=logrouter" },
    ]);
    const [plan] = await reconciler.planOrphans("LogRouter", ctx([]));
    expect(plan?.changes).toEqual([]);
    expect(plan?.notes?.[0]).toMatch(
      /revision 2 was registered before the operator recorded the revision it patched/,
    );
    // A live spec registering onto it takes the newest revision below that is not ours as the base.
    const docs = load().map((d) => {
      const spec = d.spec as { router: object };
      return { ...d, spec: { ...spec, router: { ...spec.router, stopTimeout: 40 } } };
    }) as SpecDocument[];
    const live = await reconciler.plan(docs[0]!, ctx(docs));
    await live.apply(new AbortController().signal);
    expect(api.revisions.at(-1)!.tags).toContainEqual({ key: "ecs-log-operator/base", value: "1" });
  });

  it("notes a listing it is denied, and sweeps nothing", async () => {
    const api = new MemoryTaskDefinitionApi();
    api.add(base);
    const { AwsError } = await import("../../controllers/aws/errors.ts");
    const reconciler = new TaskDefinitionReconciler({
      api,
      tagged: {
        withTag: async () => {
          throw new AwsError("terminal", "tag", "GetResources", "AccessDeniedException", "denied");
        },
      },
      region: async () => "ap-northeast-1",
      patches: [logRouterPatch],
    });
    const [plan] = await reconciler.planOrphans("LogRouter", ctx([]));
    expect(plan?.notes?.[0]).toMatch(/cannot be listed \(AccessDeniedException\)/);
  });
});
