import { describe, expect, it } from "vitest";
import { findOrphans } from "./orphans.ts";
import { planRecords } from "./planner.ts";
import { legacyTwinRecord, parseRegistry } from "./registry.ts";
import type { RecordSet } from "./route53-api.ts";

function written(name: string, owner: string, count: number, maxPerName = 100, prune = false): RecordSet[] {
  const plan = planRecords({
    zoneId: "Z1",
    name,
    type: "A",
    ttl: 10,
    weight: 1,
    ownerId: owner,
    resource: `WeightedRecordSet/${name.split(".")[0]}`,
    prune,
    targets: Array.from({ length: count }, (_, i) => ({ id: `i-${name}-${i}`, address: `10.0.0.${i + 1}` })),
    observed: [],
    maxPerName,
  });
  return plan.units.flatMap((u) => u.changes.map((c) => c.record));
}

describe("findOrphans", () => {
  const zone = [
    ...written("a.example", "me", 2),
    ...written("b.example", "me", 4, 2),
    ...written("c.example", "other", 2),
    { name: "a.example", type: "A", setIdentifier: "manual", weight: 1, ttl: 60, values: ["192.168.0.1"] },
  ];

  it("finds this owner's names that no spec covers, shards grouped under their top name", () => {
    const groups = findOrphans(zone, "me", () => false);
    expect(groups.map((g) => [g.name, g.type, g.resource])).toEqual([
      ["a.example", "A", "WeightedRecordSet/a"],
      ["b.example", "A", "WeightedRecordSet/b"],
    ]);
    const b = groups[1]!;
    const plan = planRecords({
      zoneId: "Z1",
      name: b.name,
      type: "A",
      ttl: 0,
      weight: 0,
      ownerId: "me",
      resource: b.resource,
      targets: [],
      observed: b.observed,
    });
    expect(plan.units.flatMap((u) => u.changes).every((c) => c.action === "DELETE")).toBe(true);
    expect(plan.units.flatMap((u) => u.changes)).toHaveLength(b.observed.length);
  });

  it("skips covered names and never returns another owner's", () => {
    expect(findOrphans(zone, "me", (n) => n === "a.example" || n === "b.example")).toEqual([]);
    const a = findOrphans(zone, "me", (n) => n === "b.example")[0]!;
    const plan = planRecords({
      zoneId: "Z1",
      name: a.name,
      type: "A",
      ttl: 0,
      weight: 0,
      ownerId: "me",
      resource: a.resource,
      targets: [],
      observed: a.observed,
    });
    expect(plan.units.flatMap((u) => u.changes).map((c) => c.record.setIdentifier)).not.toContain("manual");
    expect(findOrphans(zone, "nobody", () => false)).toEqual([]);
  });

  it("says a name's records may go only when every registry record of this owner there says prune=true", () => {
    const records = [...written("p.example", "me", 2, 100, true), ...written("q.example", "me", 2)];
    const mixed = written("r.example", "me", 3, 100, true);
    const unmarked = written("r.example", "me", 3);
    // One of r's registry records (here its only one) was written before its spec said prune: true.
    mixed[mixed.length - 1] = unmarked[unmarked.length - 1]!;
    const groups = findOrphans([...records, ...mixed], "me", () => false);
    expect(groups.map((g) => [g.name, g.prune])).toEqual([
      ["p.example", true],
      ["q.example", false],
      ["r.example", false],
    ]);
  });
});

describe("findOrphans across the two registry formats", () => {
  /** What the operator before issue 16 wrote: each record with a TXT twin of its own. */
  function legacy(name: string, owner: string, ids: readonly string[], prune: boolean): RecordSet[] {
    return ids.flatMap((id, i) => [
      { name, type: "A", setIdentifier: id, weight: 1, ttl: 10, values: [`10.0.1.${i + 1}`] },
      legacyTwinRecord(name, "A", id, owner, `WeightedRecordSet/${name.split(".")[0]}`, prune),
    ]);
  }

  it("identifies a removed spec's records by their twins, with the prune marker, and deletes records and twins", () => {
    const zone = [
      ...legacy("old.example", "me", ["i-1", "i-2"], true),
      ...legacy("kept.example", "me", ["i-3"], false),
    ];
    const groups = findOrphans(zone, "me", () => false);
    expect(groups.map((g) => [g.name, g.resource, g.prune])).toEqual([
      ["old.example", "WeightedRecordSet/old", true],
      ["kept.example", "WeightedRecordSet/kept", false],
    ]);
    const plan = planRecords({
      zoneId: "Z1",
      name: "old.example",
      type: "A",
      ttl: 0,
      weight: 0,
      ownerId: "me",
      resource: "WeightedRecordSet/old",
      targets: [],
      observed: groups[0]!.observed,
    });
    const changes = plan.units.flatMap((u) => u.changes);
    expect(changes.every((c) => c.action === "DELETE")).toBe(true);
    expect(changes).toHaveLength(4);
  });

  it("groups a sharded name written in the new format under its top name, prune read from every registry record", () => {
    const zone = written("big.example", "me", 5, 3, true);
    expect(zone.filter((r) => parseRegistry(r)?.format === "list")).toHaveLength(3);
    expect(findOrphans(zone, "me", () => false).map((g) => [g.name, g.prune])).toEqual([
      ["big.example", true],
    ]);
    // One shard's registry record without the marker (written before the spec said prune) keeps them all.
    const i = zone.findIndex((r) => r.name === "_elo-a.s1.big.example");
    const unmarked = {
      ...zone[i]!,
      values: [zone[i]!.values![0]!.replace(",prune=true", ""), ...zone[i]!.values!.slice(1)],
    };
    const mixed = zone.map((r, j) => (j === i ? unmarked : r));
    expect(findOrphans(mixed, "me", () => false).map((g) => [g.name, g.prune])).toEqual([
      ["big.example", false],
    ]);
    expect(findOrphans(zone, "me", (n) => n === "big.example")).toEqual([]);
    expect(findOrphans(zone, "someone-else", () => false)).toEqual([]);
  });
});
