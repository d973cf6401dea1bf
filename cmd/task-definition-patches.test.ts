import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../controllers/spec/document.ts";
import { parseSpecText } from "../controllers/spec/load.ts";
import { formatIssue, patchFamily as patchWith } from "../reconcilers/task-definition/family-patch.ts";
import type { PatchOptions } from "../reconcilers/task-definition/patch-issue.ts";
import { TaskDefinitionPatches } from "../reconcilers/task-definition/task-definition-patch.ts";
import type { TaskDefinitionJson } from "../reconcilers/task-definition/task-definition.ts";
import { silentLogger } from "../controllers/logger.ts";
import { TaskDefinitionReconciler } from "../reconcilers/task-definition/task-definition-reconciler.ts";
import { MemoryTaskDefinitionApi } from "../test/memory-task-definitions.ts";
import { allKinds, taskDefinitionPatches } from "./kinds.ts";

// The task-definition engine with every patch the registry plugs into it, as `apply` and `render` run it: families
// that a SidecarVolume patches, alone or beside a LogRouter, and the FireLens checks that run on every family.
const patches = new TaskDefinitionPatches(taskDefinitionPatches());
const patchFamily = (base: TaskDefinitionJson, docs: readonly SpecDocument[], options: PatchOptions) =>
  patchWith(base, docs, options, patches);
const json = (file: string): TaskDefinitionJson =>
  JSON.parse(readFileSync(`test/fixtures/task-definitions/${file}`, "utf8")) as TaskDefinitionJson;
const specs = (file: string, environment?: string): SpecDocument[] => {
  const r = parseSpecText(file, readFileSync(file, "utf8"), allKinds(), { environment });
  expect(r.diagnostics).toEqual([]);
  return r.documents;
};
const yaml = (text: string): SpecDocument[] => {
  const r = parseSpecText("t.yaml", text, allKinds());
  expect(r.diagnostics).toEqual([]);
  return r.documents;
};
const region = "ap-northeast-1";

describe("patchFamily on the seed task definitions", () => {
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
});

describe("TaskDefinitionReconciler with both patching kinds", () => {
  it("lets the first spec of a family carry the plan and notes it on the others", async () => {
    const api = new MemoryTaskDefinitionApi();
    const reconciler = new TaskDefinitionReconciler({
      api,
      region: async () => region,
      patches: taskDefinitionPatches(),
    });
    api.add(json("gaze-heatmap.base.json"));
    const docs = specs("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml");
    const sidecar = parseSpecText(
      "sv.yaml",
      "apiVersion: ecs-log-operator/v1alpha1\nkind: SidecarVolume\nmetadata: { name: a }\n" +
        "spec: { family: gaze-heatmap, source: { container: gaze-heatmap }, consumers: [{ container: logrouter }] }\n",
      allKinds(),
    ).documents;
    const all = [
      ...sidecar,
      ...docs.map((d) => ({ ...d, spec: { ...(d.spec as object), rollout: undefined } })),
    ];
    const plan = await reconciler.plan(all[0]!, {
      signal: new AbortController().signal,
      logger: silentLogger,
      ownerId: "test",
      documents: all,
    });
    expect(plan.changes).toEqual([]);
    expect(plan.notes).toEqual([
      "patched together with LogRouter/gaze-heatmap: one revision of family gaze-heatmap",
    ]);
  });
});
