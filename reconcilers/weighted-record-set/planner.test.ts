import { describe, expect, it } from "vitest";
import { planRecords, type PlannerInput, type RecordPlan, type Target } from "./planner.ts";
import { costOf, packBatches, type BatchLimits } from "./batches.ts";
import { legacyTwinRecord, parseRegistry, registryRecord, registrySetIdentifier } from "./registry.ts";
import { recordKey, type RecordChange, type RecordSet } from "./route53-api.ts";

const NAME = "fluentd.logs.internal";
const OWNER = "prod";
const RESOURCE = "WeightedRecordSet/fluentd";

function targets(n: number, from = 0): Target[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `i-${String(from + i).padStart(4, "0")}`,
    address: `10.0.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}`,
  }));
}

function input(
  t: readonly Target[],
  observed: readonly RecordSet[],
  extra: Partial<PlannerInput> = {},
): PlannerInput {
  return {
    zoneId: "ZONE1",
    name: NAME,
    type: "A",
    ttl: 10,
    weight: 10,
    ownerId: OWNER,
    resource: RESOURCE,
    targets: t,
    observed,
    ...extra,
  };
}

/** What `plan` prints is every change of the batches, registry records included, each once: one line, one write. */
function checkLines(plan: RecordPlan, batched: readonly RecordChange[]): void {
  const verb = { CREATE: "create", UPSERT: "update", DELETE: "delete" } as const;
  expect(plan.summary.map((c) => c.action).sort()).toEqual(batched.map((c) => verb[c.action]).sort());
  expect(plan.summary.filter((c) => c.target.startsWith("registry _elo-")).length).toBe(
    batched.filter((c) => c.record.type === "TXT").length,
  );
  expect(new Set(plan.summary.map((c) => c.write))).toEqual(
    new Set(batched.length > 0 ? ["route53:ChangeResourceRecordSets"] : []),
  );
}

/** What Route 53 would hold after the plan's changes, strict about DELETE values as Route 53 is. */
function applied(observed: readonly RecordSet[], plan: RecordPlan, checkSummary = true): RecordSet[] {
  if (checkSummary)
    checkLines(
      plan,
      plan.units.flatMap((u) => u.changes),
    );
  const zone = new Map(observed.map((r) => [recordKey(r), r]));
  for (const unit of plan.units) {
    for (const c of unit.changes) {
      const key = recordKey(c.record);
      if (c.action === "DELETE") {
        expect(zone.get(key), `DELETE ${key} must carry the current values`).toEqual(c.record);
        zone.delete(key);
      } else if (c.action === "CREATE") {
        expect(zone.has(key), `CREATE ${key} of an existing record`).toBe(false);
        zone.set(key, c.record);
      } else {
        zone.set(key, c.record);
      }
    }
  }
  return [...zone.values()];
}

function converge(t: readonly Target[], observed: readonly RecordSet[], extra: Partial<PlannerInput> = {}) {
  const plan = planRecords(input(t, observed, extra));
  expect(plan.conflicts).toEqual([]);
  const after = applied(observed, plan);
  expect(planRecords(input(t, after, extra)).units, "a second plan changes nothing").toEqual([]);
  return { plan, after };
}

const manual: RecordSet = {
  name: NAME,
  type: "A",
  setIdentifier: "manual",
  weight: 5,
  ttl: 10,
  values: ["192.168.0.9"],
};
const unrelated: RecordSet = { name: `other.${NAME}`, type: "CNAME", ttl: 300, values: ["example.com"] };

/** The targets the plan moves between names, as its layout note says. */
function movesOf(plan: RecordPlan): number {
  return Number(/(\d+) target\(s\) move/.exec(plan.notes[0] ?? "")?.[1] ?? 0);
}

function valueRecords(zone: readonly RecordSet[], name = NAME): RecordSet[] {
  return zone.filter((r) => r.name === name && r.type === "A");
}

describe("planRecords", () => {
  it("creates one weighted record per target and one registry record listing them, in one unit", () => {
    const { plan, after } = converge(targets(3), []);
    expect(plan.layout).toEqual({ mode: "flat", names: [{ name: NAME, targets: 3 }] });
    expect(plan.units).toHaveLength(1);
    expect(plan.units[0]!.changes.map((c) => `${c.action} ${c.record.type} ${c.record.name}`)).toEqual([
      `CREATE A ${NAME}`,
      `CREATE A ${NAME}`,
      `CREATE A ${NAME}`,
      `CREATE TXT _elo-a.${NAME}`,
    ]);
    expect(valueRecords(after)).toEqual(
      targets(3).map((t) => ({
        name: NAME,
        type: "A",
        setIdentifier: t.id,
        weight: 10,
        ttl: 10,
        values: [t.address],
      })),
    );
    const listId = registrySetIdentifier(OWNER, RESOURCE, NAME);
    expect(after.filter((r) => r.type === "TXT")).toEqual([
      {
        name: `_elo-a.${NAME}`,
        type: "TXT",
        setIdentifier: listId,
        weight: 0,
        ttl: 300,
        values: [
          '"heritage=ecs-log-operator,owner=prod,resource=WeightedRecordSet/fluentd"',
          '"i-0000 i-0001 i-0002"',
        ],
      },
    ]);
    expect(plan.summary.map((c) => `${c.action} ${c.target}`)).toEqual([
      `create ${NAME} A i-0000 10.0.0.1`,
      `create ${NAME} A i-0001 10.0.0.2`,
      `create ${NAME} A i-0002 10.0.0.3`,
      `create registry _elo-a.${NAME} TXT ${listId}`,
    ]);
    expect(plan.summary.at(-1)?.detail).toBe("owner prod, WeightedRecordSet/fluentd: 3 set identifier(s)");
  });

  it("leaves a record of the same name with another set identifier, and unrelated records, alone", () => {
    const start = [manual, unrelated];
    const grown = converge(targets(12), start).after;
    const shrunk = converge(targets(2), grown).after;
    expect(shrunk).toContainEqual(manual);
    expect(shrunk).toContainEqual(unrelated);
    expect(valueRecords(shrunk)).toHaveLength(3);
    expect(converge([], shrunk).after.sort((a, b) => (recordKey(a) < recordKey(b) ? -1 : 1))).toEqual(
      [manual, unrelated].sort((a, b) => (recordKey(a) < recordKey(b) ? -1 : 1)),
    );
  });

  it("deletes with the values Route 53 holds, not the ones the spec asks for", () => {
    const before = converge(targets(2), [], { ttl: 60 }).after;
    const plan = planRecords(input(targets(1), before, { ttl: 10 }));
    const del = plan.units
      .flatMap((u) => u.changes)
      .filter((c) => c.action === "DELETE" && c.record.type === "A");
    expect(del.map((c) => c.record.ttl)).toEqual([60]);
    applied(before, plan);
  });

  it("upserts only what differs", () => {
    const before = converge(targets(3), []).after;
    const moved = targets(3).map((t, i) => (i === 1 ? { ...t, address: "10.9.9.9" } : t));
    const plan = planRecords(input(moved, before));
    expect(
      plan.units
        .flatMap((u) => u.changes)
        .map((c) => `${c.action} ${c.record.type} ${c.record.setIdentifier}`),
    ).toEqual(["UPSERT A i-0001"]);
    expect(plan.summary).toEqual([
      {
        action: "update",
        target: `${NAME} A i-0001 10.9.9.9`,
        detail: "10.0.0.2 -> 10.9.9.9",
        write: "route53:ChangeResourceRecordSets",
      },
    ]);
  });

  it("proves ownership from the registry: a restarted operator removes its own records, another owner's never", () => {
    const mine = converge(targets(2), []).after;
    const theirs = converge(targets(2, 100), [], { ownerId: "staging" }).after;
    const zone = [...mine, ...theirs];
    const plan = planRecords(input([], zone));
    const deleted = plan.units.flatMap((u) => u.changes).map((c) => c.record.setIdentifier);
    expect(new Set(deleted)).toEqual(
      new Set(["i-0000", "i-0001", registrySetIdentifier(OWNER, RESOURCE, NAME)]),
    );
    // Theirs stay, their registry record with them.
    const after = applied(zone, plan);
    expect(after.filter((r) => r.type === "TXT").map((r) => r.setIdentifier)).toEqual([
      registrySetIdentifier("staging", RESOURCE, NAME),
    ]);
    expect(plan.notes.join("\n")).toContain("left untouched");
  });

  it("keeps the record of a serving target whose address was not read, and creates none for one without a record", () => {
    const zone = converge(targets(3), []).after;
    // i-0001's address went unanswered (a DescribeContainerInstances failure); i-0009 is new and unplaced.
    const t = targets(3).filter((x) => x.id !== "i-0001");
    const { plan, after } = converge(t, zone, { unaddressed: ["i-0001", "i-0009"] });
    expect(plan.units).toEqual([]);
    expect(after).toEqual(zone);
    expect(plan.notes.join("\n")).toContain("record kept as it is: i-0001 10.0.0.2");
    // Once it is no longer serving (no longer unaddressed), its record goes.
    const gone = planRecords(input(t, zone));
    expect(gone.units.flatMap((u) => u.changes.filter((c) => c.action === "DELETE"))).toEqual([
      expect.objectContaining({ record: expect.objectContaining({ setIdentifier: "i-0001" }) }),
    ]);
  });

  it("keeps an unaddressed target's record in shards too, and never keeps one it does not own", () => {
    const zone = converge(targets(150), []).after;
    const t = targets(150).filter((x) => x.id !== "i-0120");
    expect(planRecords(input(t, zone, { unaddressed: ["i-0120"] })).units).toEqual([]);
    const theirs = converge(targets(1, 500), [], { ownerId: "staging" }).after;
    const plan = planRecords(input([], theirs, { unaddressed: ["i-0500"] }));
    expect(plan.units).toEqual([]);
    expect(plan.notes.join("\n")).not.toContain("record kept");
  });

  it("refuses to write a set identifier someone else holds", () => {
    const theirs = converge(targets(1), [], { ownerId: "staging" }).after;
    const plan = planRecords(input(targets(1), theirs));
    expect(plan.conflicts).toEqual([
      `${NAME} A set identifier i-0000: owned by operator owner id "staging" (${RESOURCE})`,
    ]);
    expect(plan.units).toEqual([]);
    const handMade: RecordSet = { ...manual, setIdentifier: "i-0000" };
    expect(planRecords(input(targets(1), [handMade])).conflicts[0]).toMatch(/not owned by this operator/);
  });

  it("refuses a TTL other than that of weighted records it does not own at the name", () => {
    const plan = planRecords(input(targets(1), [{ ...manual, ttl: 60 }]));
    expect(plan.conflicts).toEqual([
      `weighted records at ${NAME} A not owned by this operator have TTL 60, and Route 53 keeps one TTL per name and type: writing TTL 10 would change theirs (set ttl: 60, or change them)`,
    ]);
    expect(plan.units).toEqual([]);
    // In shards the top name holds alias records only, which have no TTL.
    expect(planRecords(input(targets(3), [{ ...manual, ttl: 60 }], { maxPerName: 3 })).conflicts).toEqual([]);
  });

  it("refuses to share a name with a simple record", () => {
    const simple: RecordSet = { name: NAME, type: "A", ttl: 60, values: ["10.1.1.1"] };
    expect(planRecords(input(targets(1), [simple])).conflicts[0]).toMatch(/without weighted routing/);
  });

  it("adopts records of a renamed spec of the same owner", () => {
    const before = converge(targets(1), [], { resource: "WeightedRecordSet/old" }).after;
    const plan = planRecords(input(targets(1), before));
    // The old spec's registry record goes, this spec's takes its set identifiers, in one batch.
    expect(plan.units.flatMap((u) => u.changes).map((c) => `${c.action} ${c.record.type}`)).toEqual([
      "DELETE TXT",
      "UPSERT TXT",
    ]);
    expect(plan.summary.map((c) => c.detail)).toEqual([
      "WeightedRecordSet/old's, adopted by WeightedRecordSet/fluentd",
      "owner prod, WeightedRecordSet/fluentd: 1 set identifier(s), adopted from WeightedRecordSet/old",
    ]);
    expect(planRecords(input(targets(1), applied(before, plan))).units).toEqual([]);
    const live = planRecords(
      input(targets(1), before, { liveResources: new Set([RESOURCE, "WeightedRecordSet/old"]) }),
    );
    expect(live.conflicts).toEqual([
      `${NAME} A set identifier i-0000: managed by WeightedRecordSet/old, another spec`,
    ]);
  });

  it("writes the spec's prune into the registry record, and rewrites only it when it changes", () => {
    const { after } = converge(targets(2), [], { prune: true });
    const lists = after.filter((r) => r.type === "TXT");
    expect(lists.map((r) => r.values?.[0])).toEqual([
      `"heritage=ecs-log-operator,owner=${OWNER},resource=${RESOURCE},prune=true"`,
    ]);
    const back = planRecords(input(targets(2), after, { prune: false }));
    expect(back.units.flatMap((u) => u.changes).map((c) => `${c.action} ${c.record.type}`)).toEqual([
      "UPSERT TXT",
    ]);
    expect(back.summary.map((c) => c.detail)).toEqual(["prune true -> false"]);
    // A spec that never said prune writes the header records wrote before the marker existed.
    expect(converge(targets(2), []).after.filter((r) => r.type === "TXT")[0]?.values?.[0]).toEqual(
      `"heritage=ecs-log-operator,owner=${OWNER},resource=${RESOURCE}"`,
    );
  });

  it("cleans up a registry record whose record was deleted by hand", () => {
    const orphanTwin = legacyTwinRecord(NAME, "A", "i-0042", OWNER, RESOURCE);
    const { plan } = converge([], [orphanTwin]);
    expect(plan.units.flatMap((u) => u.changes)).toEqual([{ action: "DELETE", record: orphanTwin }]);
  });

  it("counts records it does not own against the per-name limit", () => {
    const plan = planRecords(input(targets(4), [manual], { maxPerName: 4 }));
    expect(plan.layout.mode).toBe("sharded");
  });
});

describe("planRecords with more targets than one name holds", () => {
  it("spreads 250 targets over shards of at most 100, each reachable from the top name", () => {
    const { plan, after } = converge(targets(250), [manual]);
    expect(plan.layout).toEqual({
      mode: "sharded",
      names: [
        { name: `s0.${NAME}`, targets: 84 },
        { name: `s1.${NAME}`, targets: 83 },
        { name: `s2.${NAME}`, targets: 83 },
      ],
    });
    expect(plan.notes[0]).toContain("3 shards");
    const aliases = valueRecords(after).filter((r) => r.alias !== undefined);
    expect(aliases.map((a) => [a.setIdentifier, a.weight, a.alias?.dnsName])).toEqual([
      ["shard-s0", 84, `s0.${NAME}`],
      ["shard-s1", 83, `s1.${NAME}`],
      ["shard-s2", 83, `s2.${NAME}`],
    ]);
    const reachable = aliases.flatMap((a) =>
      valueRecords(after, a.alias!.dnsName).flatMap((r) => r.values ?? []),
    );
    expect(new Set(reachable)).toEqual(new Set(targets(250).map((t) => t.address)));
    expect(after).toContainEqual(manual);
    // Aliases come after the records they point at.
    const phases = plan.units.map((u) => u.phase);
    expect(phases).toEqual([...phases].sort());
  });

  it("keeps shards balanced with few moves as the group scales", () => {
    const all = targets(300);
    let zone = converge(all.slice(0, 250), []).after;
    // Scale in: 40 targets of the first shard leave.
    const leaving = new Set(
      valueRecords(zone, `s0.${NAME}`)
        .slice(0, 40)
        .map((r) => r.setIdentifier),
    );
    const kept = all.slice(0, 250).filter((t) => !leaving.has(t.id));
    const step = converge(kept, zone);
    // 210 targets in 3 shards of 70: s1 and s2 give 13 each to s0, in one unit with s0.
    expect(movesOf(step.plan)).toBe(26);
    expect(step.plan.units).toHaveLength(2);
    zone = step.after;
    const sizes = [0, 1, 2].map((k) => valueRecords(zone, `s${k}.${NAME}`).length);
    expect(sizes).toEqual([70, 70, 70]);
    // Scale out to 300: new targets only fill, nobody moves.
    const grow = converge(all, zone);
    expect(movesOf(grow.plan)).toBe(0);
    expect([0, 1, 2].map((k) => valueRecords(grow.after, `s${k}.${NAME}`).length)).toEqual([100, 100, 100]);
  });

  it("does not reshape for a group scaling back and forth around a boundary", () => {
    let zone = converge(targets(101), []).after;
    expect(zone.filter((r) => r.alias !== undefined)).toHaveLength(2);
    // 95 targets would fit one name, but not with room to spare: the two shards stay. The 6 that left were all in
    // s1 (51/50 -> 51/44), so 3 move to rebalance; going back to one name would have moved all 95.
    const down = converge(targets(95), zone);
    expect(down.plan.layout.names.map((n) => n.targets)).toEqual([48, 47]);
    expect(movesOf(down.plan)).toBe(3);
    zone = converge(targets(101), down.after).after;
    // At 80 (80% of one name) it goes back to one name.
    expect(converge(targets(80), zone).plan.layout.mode).toBe("flat");
    // Three shards stay down to 160 targets, two below.
    const three = converge(targets(201), []).after;
    expect(converge(targets(161), three).plan.layout.names).toHaveLength(3);
    expect(converge(targets(160), three).plan.layout.names).toHaveLength(2);
  });

  it("goes back to one name when the group shrinks, and deletes the shards", () => {
    const big = converge(targets(150), []).after;
    const { after } = converge(targets(5), big);
    expect(after.filter((r) => r.name !== NAME && !r.name.startsWith("_elo-a." + NAME))).toEqual([]);
    expect(valueRecords(after)).toHaveLength(5);
    expect(after.filter((r) => r.alias !== undefined)).toEqual([]);
  });
});

/** A zone as the operator wrote it before issue 16: every record with a registry twin of its own. */
function legacyZone(
  t: readonly Target[],
  names: (i: number) => string = () => NAME,
  prune = false,
): RecordSet[] {
  return t.flatMap((x, i) => [
    { name: names(i), type: "A", setIdentifier: x.id, weight: 10, ttl: 10, values: [x.address] },
    legacyTwinRecord(names(i), "A", x.id, OWNER, RESOURCE, prune),
  ]);
}

/** Applies a plan batch by batch, checking after each that every record but the hand-made one is proven by a registry record. */
function appliedProvenEachBatch(
  observed: readonly RecordSet[],
  plan: RecordPlan,
  limits?: BatchLimits,
): RecordSet[] {
  let zone = [...observed];
  for (const batch of packBatches(plan.units, limits)) {
    zone = applied(zone, { ...plan, units: [{ phase: 2, changes: batch }] }, false);
    const proven = new Set(
      zone.flatMap((r) => {
        const e = parseRegistry(r);
        return e === undefined ? [] : e.setIdentifiers.map((id) => `${e.recordName}|${id}`);
      }),
    );
    for (const r of zone.filter((x) => x.type === "A" && x.setIdentifier !== "manual")) {
      expect(proven.has(`${r.name}|${r.setIdentifier}`), `${r.name} ${r.setIdentifier} proven`).toBe(true);
    }
  }
  return zone;
}

describe("planRecords migrating registry twins of the format before", () => {
  it("reads twins as proof, replaces them with one registry record in the same unit, and changes no record", () => {
    const before = [...legacyZone(targets(3)), manual];
    const plan = planRecords(input(targets(3), before));
    expect(plan.conflicts).toEqual([]);
    expect(plan.units).toHaveLength(1);
    const changes = plan.units[0]!.changes;
    // Twins out, each record restated after them (moto deletes by set identifier), the list in: one atomic unit.
    expect(changes.map((c) => `${c.action} ${c.record.type} ${c.record.setIdentifier}`)).toEqual([
      "DELETE TXT i-0000",
      "DELETE TXT i-0001",
      "DELETE TXT i-0002",
      "UPSERT A i-0000",
      "UPSERT A i-0001",
      "UPSERT A i-0002",
      `UPSERT TXT ${registrySetIdentifier(OWNER, RESOURCE, NAME)}`,
    ]);
    // The restated records are exactly what Route 53 holds: nothing a resolver sees changes.
    for (const c of changes.filter((x) => x.record.type === "A")) expect(before).toContainEqual(c.record);
    expect(plan.notes.join("\n")).toContain("3 registry twin(s) of the format before replaced");
    const after = appliedProvenEachBatch(before, plan);
    expect(after).toContainEqual(manual);
    expect(valueRecords(after).filter((r) => r.setIdentifier !== "manual")).toEqual(
      valueRecords(before).filter((r) => r.setIdentifier !== "manual"),
    );
    expect(after.filter((r) => r.type === "TXT")).toHaveLength(1);
    expect(planRecords(input(targets(3), after)).units, "converged after one pass").toEqual([]);
  });

  it("migrates while the targets change, and keeps the prune marker", () => {
    const before = legacyZone(targets(4), undefined, true);
    const now = [...targets(3).slice(1), ...targets(1, 50)];
    const plan = planRecords(input(now, before, { prune: true }));
    const after = appliedProvenEachBatch(before, plan);
    expect(valueRecords(after).map((r) => r.setIdentifier)).toEqual(["i-0001", "i-0002", "i-0050"]);
    const list = after.filter((r) => r.type === "TXT");
    expect(list.map((r) => parseRegistry(r))).toMatchObject([
      { format: "list", prune: true, setIdentifiers: ["i-0001", "i-0002", "i-0050"] },
    ]);
    // A removed record and its twin go together; a kept one is restated once, a new one created once.
    const actions = plan.units
      .flatMap((u) => u.changes)
      .map((c) => `${c.action} ${c.record.type} ${c.record.setIdentifier}`);
    expect(actions.filter((a) => a.endsWith("i-0000"))).toEqual(["DELETE A i-0000", "DELETE TXT i-0000"]);
    expect(actions.filter((a) => a.endsWith("i-0050"))).toEqual(["CREATE A i-0050"]);
  });

  it("migrates 250 targets in shards, name by name, every record proven after every batch", () => {
    const zone0 = converge(targets(250), []).after;
    // The same layout in the format before: each record (and each alias) with its twin, no lists.
    const legacy = zone0
      .filter((r) => r.type === "A")
      .flatMap((r) => [r, legacyTwinRecord(r.name, "A", r.setIdentifier!, OWNER, RESOURCE)]);
    const plan = planRecords(input(targets(250), legacy));
    expect(plan.units).toHaveLength(4);
    // Small batches: one unit each, so the migration spans four batches.
    const after = appliedProvenEachBatch(legacy, plan, { values: 400, characters: 32_000, changes: 400 });
    expect(after.filter((r) => r.type === "A")).toEqual(zone0.filter((r) => r.type === "A"));
    expect(after.filter((r) => r.type === "TXT").map((r) => parseRegistry(r)?.format)).toEqual([
      "list",
      "list",
      "list",
      "list",
    ]);
    expect(planRecords(input(targets(250), after)).units).toEqual([]);
  });

  it("leaves another owner's twins at the same name as they are", () => {
    const theirs: RecordSet[] = [
      { name: NAME, type: "A", setIdentifier: "i-9000", weight: 10, ttl: 10, values: ["10.9.0.1"] },
      legacyTwinRecord(NAME, "A", "i-9000", "staging", "WeightedRecordSet/other"),
    ];
    const before = [...legacyZone(targets(2)), ...theirs];
    const plan = planRecords(input(targets(2), before));
    const after = appliedProvenEachBatch(before, plan);
    for (const r of theirs) expect(after).toContainEqual(r);
    expect(plan.units.flatMap((u) => u.changes).some((c) => c.record.setIdentifier === "i-9000")).toBe(false);
  });
});

describe("planRecords with two owners or two specs at one name", () => {
  it("gives each owner its own registry record, so neither overwrites the other's proof", () => {
    const a = converge(targets(2), []).after;
    const b = converge(targets(2, 10), a, { ownerId: "staging" }).after;
    expect(
      b
        .filter((r) => r.type === "TXT")
        .map((r) => parseRegistry(r)?.owner)
        .sort(),
    ).toEqual(["prod", "staging"]);
    // prod scales out and back in: staging's registry record and records are never in a change.
    const grown = converge(targets(5), b).after;
    const shrunk = converge(targets(1), grown);
    for (const p of [planRecords(input(targets(5), b)), shrunk.plan]) {
      const touched = p.units.flatMap((u) => u.changes).map((c) => c.record.setIdentifier);
      expect(touched).not.toContain(registrySetIdentifier("staging", RESOURCE, NAME));
      expect(touched).not.toContain("i-0010");
    }
    expect(shrunk.after.filter((r) => parseRegistry(r)?.owner === "staging")).toEqual(
      b.filter((r) => parseRegistry(r)?.owner === "staging"),
    );
  });

  it("gives two live specs of one owner a registry record each; neither adopts the other's records", () => {
    const live = new Set([RESOURCE, "WeightedRecordSet/second"]);
    const first = converge(targets(2), [], { liveResources: live }).after;
    const both = converge(targets(2, 20), first, {
      resource: "WeightedRecordSet/second",
      liveResources: live,
    }).after;
    expect(both.filter((r) => r.type === "TXT")).toHaveLength(2);
    // The first spec shrinking to nothing deletes its records and registry record only.
    const { after } = converge([], both, { liveResources: live });
    expect(valueRecords(after).map((r) => r.setIdentifier)).toEqual(["i-0020", "i-0021"]);
    expect(after.filter((r) => r.type === "TXT").map((r) => parseRegistry(r)?.resource)).toEqual([
      "WeightedRecordSet/second",
    ]);
  });
});

describe("planRecords within Route 53's batch limits", () => {
  it("writes 10,000 targets cold in 12 batches, where the records alone need 10 (1,000 values each)", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      id: `i-${i.toString(16).padStart(17, "0")}`,
      address: `172.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`,
    }));
    const plan = planRecords(input(many, []));
    expect(plan.layout.names).toHaveLength(100);
    const batches = packBatches(plan.units);
    for (const b of batches) {
      const cost = costOf(b);
      expect(cost.values).toBeLessThanOrEqual(1000);
      expect(cost.characters).toBeLessThanOrEqual(32_000);
    }
    // 100 names of 100 records and one registry value each (101 values, about 3,400 characters): 9 a batch.
    expect(batches).toHaveLength(12);
    // Each registry record lists its name's 100 ids in one value of at most 4,000 characters.
    const lists = plan.units.flatMap((u) => u.changes).filter((c) => c.record.type === "TXT");
    expect(lists).toHaveLength(101);
    for (const c of lists) {
      for (const v of c.record.values ?? []) expect(v.length).toBeLessThanOrEqual(4000);
      expect(parseRegistry(c.record)?.setIdentifiers).toHaveLength(100);
    }
  });

  it("splits long lists into strings of at most 255 characters and values of at most 4,000", () => {
    const ids = Array.from({ length: 300 }, (_, i) => `${"t".repeat(31)}${i % 10}-${i}`);
    const r = registryRecord(NAME, "A", OWNER, RESOURCE, ids);
    for (const v of r.values!.slice(1)) {
      expect(v.length).toBeLessThanOrEqual(4000);
      for (const m of v.matchAll(/"([^"]*)"/g)) expect(m[1]!.length).toBeLessThanOrEqual(255);
    }
    expect(r.values!.length).toBeGreaterThan(2);
    expect(parseRegistry(r)?.setIdentifiers).toEqual([...ids].sort());
    const odd = registryRecord(NAME, "A", OWNER, RESOURCE, ['a "quoted" id', "x y"]);
    expect(parseRegistry(odd)?.setIdentifiers).toEqual(['a "quoted" id', "x y"]);
  });
});
