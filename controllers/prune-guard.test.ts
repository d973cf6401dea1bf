import { describe, expect, it } from "vitest";
import { DEFAULT_PRUNE_GUARD, guardDeletions, markHeld, type PruneGuardPolicy } from "./prune-guard.ts";
import type { ResourcePlan } from "./reconciler.ts";

const deleting = (n: number): ResourcePlan[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `Thing/r${i}`,
    kind: "Thing",
    changes: [{ action: "delete", target: `object ${i}` }],
    apply: async () => undefined,
  }));
const note: ResourcePlan = {
  key: "Thing/kept",
  kind: "Thing",
  changes: [],
  notes: ["left"],
  apply: async () => undefined,
};

const cases: [string, number, number, number, Partial<PruneGuardPolicy>, string | undefined][] = [
  // what, deletions, live of the kind, live specs, policy, held reason
  ["nothing to delete", 0, 0, 0, {}, undefined],
  ["one spec of several removed", 1, 3, 10, {}, undefined],
  ["two of ten removed", 2, 8, 10, {}, undefined],
  ["the last spec of a kind removed, others remain", 1, 0, 5, {}, undefined],
  ["every spec removed: the set is empty", 1, 0, 0, {}, "SpecSetEmpty"],
  [
    "every spec removed, allowEmpty: the one case opted into by name",
    3,
    0,
    0,
    { allowEmpty: true },
    undefined,
  ],
  ["a whole kind of three removed, others remain", 3, 0, 4, {}, "SpecSetShrank"],
  ["three of five removed", 3, 2, 10, {}, "SpecSetShrank"],
  ["three of six removed: exactly half", 3, 3, 10, {}, undefined],
  ["three of five, a count of 3 allowed", 3, 2, 10, { maxCount: 3 }, undefined],
];

describe("guardDeletions", () => {
  it.each(cases)("%s", (_what, d, liveOfKind, liveSpecs, policy, reason) => {
    const held = guardDeletions(
      { kind: "Thing", plans: [...deleting(d), note], liveOfKind, liveSpecs },
      { ...DEFAULT_PRUNE_GUARD, ...policy },
    );
    expect(held?.reason).toBe(reason);
    if (held !== undefined) expect(held.resources).toHaveLength(d);
  });

  it("says what is held, why, and the flag that lets it go", () => {
    const empty = guardDeletions(
      { kind: "Thing", plans: deleting(2), liveOfKind: 0, liveSpecs: 0 },
      DEFAULT_PRUNE_GUARD,
    );
    expect(empty?.message).toBe(
      "the spec set is empty: the deletions for 2 removed Thing spec(s) are held (Thing/r0, Thing/r1). An empty spec " +
        "directory is more often a failed checkout or an unmounted volume than a decision; if it is one, pass --allow-empty",
    );
    const shrank = guardDeletions(
      { kind: "Thing", plans: deleting(7), liveOfKind: 1, liveSpecs: 1 },
      DEFAULT_PRUNE_GUARD,
    );
    expect(shrank?.message).toMatch(
      /^7 of 8 Thing spec\(s\) were removed at once: .*Thing\/r4 and 2 more\).*--prune-guard-fraction 1/,
    );
  });

  it("counts removed specs, not plans: one revision taking back two specs' patches is two removals", () => {
    const revert: ResourcePlan = {
      key: "SidecarVolume/a",
      kind: "SidecarVolume",
      changes: [{ action: "create", target: "task definition api, new revision" }],
      removes: ["SidecarVolume/a", "SidecarVolume/b"],
      apply: async () => undefined,
    };
    // Two of three SidecarVolumes of one family removed at once: more than one, and more than half.
    const held = guardDeletions(
      { kind: "SidecarVolume", plans: [revert], liveOfKind: 1, liveSpecs: 4 },
      DEFAULT_PRUNE_GUARD,
    );
    expect(held).toMatchObject({ reason: "SpecSetShrank", resources: ["SidecarVolume/a"] });
    expect(held?.message).toMatch(
      /^2 of 3 SidecarVolume spec\(s\) were removed at once: .*SidecarVolume\/b\)/,
    );
  });

  it("holds a sweep that takes a removed spec's patch back with a new revision, not a delete", () => {
    const revert: ResourcePlan = {
      key: "LogRouter/api",
      kind: "LogRouter",
      changes: [{ action: "create", target: "task definition api, new revision" }],
      apply: async () => undefined,
    };
    const held = guardDeletions(
      { kind: "LogRouter", plans: [revert], liveOfKind: 0, liveSpecs: 0 },
      DEFAULT_PRUNE_GUARD,
    );
    expect(held).toMatchObject({ reason: "SpecSetEmpty", resources: ["LogRouter/api"] });
  });

  it("marks the held plans and makes their apply do nothing", async () => {
    const plans = [...deleting(2), note];
    const held = guardDeletions({ kind: "Thing", plans, liveOfKind: 0, liveSpecs: 0 }, DEFAULT_PRUNE_GUARD)!;
    const marked = markHeld(plans, held);
    expect(marked.map((p) => p.held !== undefined)).toEqual([true, true, false]);
    expect(marked[0]?.changes).toEqual(plans[0]?.changes);
  });
});
