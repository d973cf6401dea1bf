import { describe, expect, it } from "vitest";
import { DesiredState, specsChangedSince, sweepStillValid } from "./desired-state.ts";
import type { Reconciler, ResourcePlan } from "./reconciler.ts";
import type { SpecDocument } from "./spec/document.ts";
import type { SpecSnapshot } from "./spec-source.ts";

function doc(kind: string, name: string, watches: string[] = []): SpecDocument<{ watches: string[] }> {
  return {
    apiVersion: "ecs-log-operator/v1alpha1",
    kind,
    metadata: { name },
    spec: { watches },
    source: { file: `${name}.yaml`, line: 1, col: 1 },
    generation: "g",
    positionOf: () => ({ file: `${name}.yaml`, line: 1, col: 1 }),
  };
}

function reconciler(kind: string, sweeps: boolean): Reconciler {
  const plan = async (): Promise<ResourcePlan> => ({ key: "", kind, changes: [], apply: async () => {} });
  return {
    kind,
    order: 1,
    plan,
    watches: (d) => (d.spec as { watches: string[] }).watches,
    ...(sweeps ? { planOrphans: async () => [] } : {}),
  };
}

const snapshot = (documents: SpecDocument[], complete = true): SpecSnapshot => ({
  documents,
  complete,
  diagnostics: [],
  kept: [],
});

describe("DesiredState", () => {
  const reconcilers = [reconciler("Sweeping", true), reconciler("Plain", false)];

  it("wakes what changed, and the other specs of a group one of them is in", () => {
    const state = new DesiredState(reconcilers);
    const docs = [
      doc("Plain", "a", ["taskdef:f"]),
      doc("Plain", "b", ["taskdef:f", "ecs:c/service:s"]),
      doc("Plain", "c", ["ecs:c/service:s"]),
    ];
    state.update(snapshot(docs), { changed: ["Plain/a", "Plain/b", "Plain/c"], removed: [] });
    // An edit to a wakes b (same family group), not c (which only shares AWS state with b).
    expect(state.update(snapshot(docs), { changed: ["Plain/a"], removed: [] }).wake).toEqual([
      "Plain/a",
      "Plain/b",
    ]);
    expect(state.resourcesOf(["ecs:arn:aws:ecs:us-east-1:1:cluster/c/service:s"])).toEqual([
      "Plain/b",
      "Plain/c",
    ]);
    expect(state.watchKeys()).toEqual(["ecs:c/service:s", "taskdef:f"]);
  });

  it("holds the sweeps of kinds that lost a spec while a file is invalid, and runs every sweep once all are valid", () => {
    const state = new DesiredState(reconcilers);
    const all = [doc("Sweeping", "a"), doc("Plain", "b")];
    expect(state.update(snapshot(all), { changed: ["Plain/b", "Sweeping/a"], removed: [] }).wake).toEqual([
      "Plain/b",
      "Sweeping/a",
      "Sweeping/*",
    ]);
    expect(state.update(snapshot([], false), { changed: [], removed: ["Plain/b", "Sweeping/a"] })).toEqual({
      wake: [],
      heldSweeps: ["Plain", "Sweeping"],
      resweep: [],
    });
    expect(state.sweepKeys()).toEqual([]);
    // Valid again: the sweeps that were held run (a kind without a sweep has none).
    expect(state.update(snapshot([]), { changed: [], removed: [] })).toEqual({
      wake: ["Sweeping/*"],
      heldSweeps: [],
      resweep: [],
    });
    expect(state.update(snapshot([doc("Plain", "b")]), { changed: ["Plain/b"], removed: [] }).wake).toEqual([
      "Plain/b",
    ]);
    expect(state.update(snapshot([]), { changed: [], removed: ["Plain/b"] }).wake).toEqual([]);
  });

  it("sweeps again at every complete read the kinds whose deletions the prune guard holds", () => {
    const state = new DesiredState(reconcilers);
    state.update(snapshot([doc("Sweeping", "a")]), { changed: ["Sweeping/a"], removed: [] });
    const held = ["Sweeping", "Plain"];
    // Nothing changed, yet the held sweep runs again (a kind without a sweep has none to run).
    expect(state.update(snapshot([]), { changed: [], removed: ["Sweeping/a"] }, held).resweep).toEqual([
      "Sweeping/*",
    ]);
    expect(state.update(snapshot([]), { changed: [], removed: [] }, held)).toEqual({
      wake: [],
      heldSweeps: [],
      resweep: ["Sweeping/*"],
    });
    // While a file is invalid nothing is swept, held or not.
    expect(state.update(snapshot([], false), { changed: [], removed: [] }, held).resweep).toEqual([]);
  });

  it("names as live keys the loaded specs and every kind's sweep, whatever the read", () => {
    const state = new DesiredState(reconcilers);
    state.update(snapshot([doc("Plain", "b")], false), { changed: ["Plain/b"], removed: [] });
    expect([...state.liveKeys()].sort()).toEqual(["Plain/b", "Sweeping/*"]);
  });
});

describe("sweepStillValid", () => {
  const a = doc("Sweeping", "a");
  const b = doc("Sweeping", "b");
  const other = doc("Plain", "x");

  it("keeps a sweep whose specs are the same in the new read, a new snapshot of them included", () => {
    const planned = snapshot([a, other]);
    expect(sweepStillValid(planned, planned)).toBe(true);
    expect(sweepStillValid(planned, snapshot([other, a]))).toBe(true);
  });

  it("drops it when a spec came back, left or changed, or a file turned invalid", () => {
    const planned = snapshot([a, other]);
    expect(sweepStillValid(planned, snapshot([a, b, other]))).toBe(false);
    expect(sweepStillValid(planned, snapshot([other]))).toBe(false);
    expect(sweepStillValid(planned, snapshot([{ ...a, generation: "h" }, other]))).toBe(false);
    expect(sweepStillValid(planned, snapshot([a, other], false))).toBe(false);
  });

  it("drops it when a spec of another kind changed: a namespace sweep deletes services of CloudMapService specs", () => {
    const planned = snapshot([a, other]);
    expect(sweepStillValid(planned, snapshot([a, doc("Plain", "y")]))).toBe(false);
    expect(sweepStillValid(planned, snapshot([a, other, doc("Plain", "y")]))).toBe(false);
  });

  it("drops it when the whole spec set emptied or came back: the prune guard's judgement changes", () => {
    expect(sweepStillValid(snapshot([]), snapshot([other]))).toBe(false);
    expect(sweepStillValid(snapshot([other]), snapshot([]))).toBe(false);
  });
});

describe("specsChangedSince", () => {
  it("names the specs that are new, back or edited in the later read, of every kind", () => {
    const a = doc("Sweeping", "a");
    const x = doc("Plain", "x");
    expect(specsChangedSince(snapshot([a]), snapshot([a, x]))).toEqual(["Plain/x"]);
    expect(specsChangedSince(snapshot([a, x]), snapshot([{ ...a, generation: "h" }, x]))).toEqual([
      "Sweeping/a",
    ]);
    expect(specsChangedSince(snapshot([a, x]), snapshot([a]))).toEqual([]);
  });
});
