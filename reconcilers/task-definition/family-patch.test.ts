import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { formatIssue, patchFamily } from "./family-patch.ts";
import { TaskDefinitionPatches, type TaskDefinitionPatch } from "./task-definition-patch.ts";
import type { TaskDefinitionJson } from "./task-definition.ts";

// The engine on its own, with two made-up kinds: it knows nothing of what a patch sets, only the order, the
// grouping by family, where issues are reported and which config file is delivered.
interface TagSpec {
  family: string;
  tag: string;
  rollout?: { cluster: string; service: string }[];
}

function tagPatch(kind: string, order: number, applied: string[]): TaskDefinitionPatch<TagSpec> {
  return {
    kind,
    order,
    family: (spec) => spec.family,
    rolloutServices: (spec) => spec.rollout ?? [],
    prune: () => false,
    footprint: (spec) => ({ tag: spec.tag }),
    revert: () => ({ problems: [], notes: [] }),
    apply(td, spec, context) {
      applied.push(context.source);
      td.containerDefinitions.push({ name: `${kind}-${spec.tag}` });
      return {
        issues: spec.tag === "bad" ? [{ path: ["tag"], message: "bad tag", severity: "error" }] : [],
      };
    },
    // What the file says of the revision it is rendered from: its containers.
    configFile: (td, spec) => ({
      label: "note",
      text: `${kind} ${spec.tag}: ${td.containerDefinitions.map((c) => c.name).join(",")}`,
      delivery: "by hand",
      path: ["tag"],
    }),
  };
}

function doc(kind: string, name: string, spec: TagSpec): SpecDocument<TagSpec> {
  return {
    apiVersion: "ecs-log-operator/v1alpha1",
    kind,
    metadata: { name },
    spec,
    source: { file: `${name}.yaml`, line: 1, col: 1 },
    generation: "g",
    positionOf: (path) => ({ file: `${name}.yaml`, line: 1 + path.length, col: 1 }),
  };
}

const base = (): TaskDefinitionJson => ({ family: "f", containerDefinitions: [{ name: "app" }] });

describe("patchFamily (the engine)", () => {
  it("applies kinds in the patches' order, each kind's specs in the order given, to a copy", () => {
    const applied: string[] = [];
    const patches = new TaskDefinitionPatches([
      tagPatch("Second", 20, applied),
      tagPatch("First", 10, applied),
    ]);
    const td = base();
    const docs = [
      doc("Second", "s", { family: "f", tag: "2" }),
      doc("First", "b", { family: "f", tag: "b" }),
      doc("First", "a", { family: "f", tag: "a" }),
    ];
    const r = patchFamily(td, docs, { region: undefined }, patches);
    expect(applied).toEqual(["First/b", "First/a", "Second/s"]);
    expect(r.definition.containerDefinitions.map((c) => c.name)).toEqual([
      "app",
      "First-b",
      "First-a",
      "Second-2",
    ]);
    expect(td.containerDefinitions.map((c) => c.name)).toEqual(["app"]);
    // The last config file given is the family's, with the spec it came from, rendered from the revision every
    // patch made: a file of the first kind, rendered after its own patch only, would miss the second kind's container.
    expect(r.configFile?.text).toBe("Second 2: app,First-b,First-a,Second-2");
    expect(r.configFile?.doc.metadata.name).toBe("s");
    const earlyFile = new TaskDefinitionPatches([
      { ...tagPatch("Second", 20, applied), configFile: undefined },
      tagPatch("First", 10, applied),
    ]);
    expect(patchFamily(base(), docs, { region: undefined }, earlyFile).configFile).toMatchObject({
      text: "First a: app,First-b,First-a,Second-2",
      doc: { metadata: { name: "a" } },
    });
  });

  it("locates a patch's issues at its spec, and runs every family check, at its kind's first spec or the family's", () => {
    const applied: string[] = [];
    const linted = {
      ...tagPatch("Router", 10, applied),
      lintFamily: (td: TaskDefinitionJson) => [
        {
          path: ["family"],
          message: `${td.containerDefinitions.length} containers`,
          severity: "warning" as const,
        },
      ],
    };
    const patches = new TaskDefinitionPatches([linted, tagPatch("Volume", 20, applied)]);
    const volumeOnly = [doc("Volume", "v", { family: "f", tag: "bad" })];
    const r = patchFamily(base(), volumeOnly, { region: undefined }, patches);
    expect(r.errors.map(formatIssue)).toEqual(["v.yaml:3:1: Volume/v: bad tag"]);
    // The router kind's check runs on a family only the other kind patches, reported at that family's first spec.
    expect(r.warnings.map(formatIssue)).toEqual(["v.yaml:3:1: Volume/v: 2 containers"]);
    const both = [...volumeOnly, doc("Router", "r", { family: "f", tag: "x" })];
    expect(patchFamily(base(), both, { region: undefined }, patches).warnings.map(formatIssue)).toEqual([
      "r.yaml:3:1: Router/r: 3 containers",
    ]);
  });
});

describe("TaskDefinitionPatches", () => {
  const patches = new TaskDefinitionPatches([tagPatch("First", 10, []), tagPatch("Second", 20, [])]);

  it("groups specs by family in resource-key order, and knows no family for another kind's spec", () => {
    const docs = [
      doc("Second", "a", { family: "f", tag: "1" }),
      doc("First", "z", { family: "f", tag: "2" }),
      doc("First", "g", { family: "other", tag: "3" }),
      doc("Unrelated", "u", { family: "f", tag: "4" }),
    ];
    expect(patches.specsOfFamily(docs, "f").map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      "First/z",
      "Second/a",
    ]);
    expect(patches.familyOf(docs[3]!)).toBeUndefined();
  });

  it("lists each rolled-out service once, with the spec and index that name it", () => {
    const docs = [
      doc("First", "a", { family: "f", tag: "1", rollout: [{ cluster: "c", service: "s" }] }),
      doc("Second", "b", {
        family: "f",
        tag: "2",
        rollout: [
          { cluster: "c", service: "t" },
          { cluster: "c", service: "s" },
        ],
      }),
    ];
    expect(
      patches.rolloutServices(docs).map((s) => `${s.cluster}/${s.service} ${s.doc.metadata.name}#${s.index}`),
    ).toEqual(["c/s a#0", "c/t b#0"]);
  });

  it("refuses a second, different patch for one kind", () => {
    expect(() => patches.add(tagPatch("First", 30, []))).toThrow(/two task definition patches for First/);
  });
});
