import { describe, expect, it } from "vitest";
import { planRecords, type PlannerInput, type RecordPlan, type Target } from "./planner.ts";
import { registryRecord } from "./registry.ts";
import { recordKey, type RecordSet } from "./route53-api.ts";

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

/** What Route 53 would hold after the plan's changes, strict about DELETE values as Route 53 is. */
function applied(observed: readonly RecordSet[], plan: RecordPlan): RecordSet[] {
  // What `plan` prints is every change of the batches, registry twins included, each once: one line, one write.
  const verb = { CREATE: "create", UPSERT: "update", DELETE: "delete" } as const;
  const batched = plan.units.flatMap((u) => u.changes);
  expect(plan.summary.map((c) => c.action).sort()).toEqual(batched.map((c) => verb[c.action]).sort());
  expect(plan.summary.filter((c) => c.target.startsWith("registry _elo-")).length).toBe(
    batched.filter((c) => c.record.type === "TXT").length,
  );
  expect(new Set(plan.summary.map((c) => c.write))).toEqual(
    new Set(batched.length > 0 ? ["route53:ChangeResourceRecordSets"] : []),
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

function valueRecords(zone: readonly RecordSet[], name = NAME): RecordSet[] {
  return zone.filter((r) => r.name === name && r.type === "A");
}

describe("planRecords", () => {
  it("creates one weighted record and one registry twin per target, in one unit each", () => {
    const { plan, after } = converge(targets(3), []);
    expect(plan.layout).toEqual({ mode: "flat", names: [{ name: NAME, targets: 3 }] });
    expect(plan.units).toHaveLength(3);
    expect(plan.units[0]!.changes.map((c) => `${c.action} ${c.record.type} ${c.record.name}`)).toEqual([
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
    expect(after.find((r) => r.type === "TXT")?.values).toEqual([
      '"heritage=ecs-log-operator,owner=prod,resource=WeightedRecordSet/fluentd"',
    ]);
    expect(plan.summary.map((c) => `${c.action} ${c.target}`)).toEqual([
      `create ${NAME} A i-0000 10.0.0.1`,
      `create registry _elo-a.${NAME} TXT i-0000`,
      `create ${NAME} A i-0001 10.0.0.2`,
      `create registry _elo-a.${NAME} TXT i-0001`,
      `create ${NAME} A i-0002 10.0.0.3`,
      `create registry _elo-a.${NAME} TXT i-0002`,
    ]);
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
    expect(new Set(deleted)).toEqual(new Set(["i-0000", "i-0001"]));
    expect(plan.notes.join("\n")).toContain("left untouched");
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
    expect(plan.units.flatMap((u) => u.changes).map((c) => `${c.action} ${c.record.type}`)).toEqual([
      "UPSERT TXT",
    ]);
    expect(plan.summary[0]?.detail).toBe("adopted from WeightedRecordSet/old");
    const live = planRecords(
      input(targets(1), before, { liveResources: new Set([RESOURCE, "WeightedRecordSet/old"]) }),
    );
    expect(live.conflicts).toEqual([
      `${NAME} A set identifier i-0000: managed by WeightedRecordSet/old, another spec`,
    ]);
  });

  it("writes the spec's prune into every registry twin, and rewrites only the twins when it changes", () => {
    const { after } = converge(targets(2), [], { prune: true });
    const twins = after.filter((r) => r.type === "TXT");
    expect(twins.map((r) => r.values)).toEqual([
      [`"heritage=ecs-log-operator,owner=${OWNER},resource=${RESOURCE},prune=true"`],
      [`"heritage=ecs-log-operator,owner=${OWNER},resource=${RESOURCE},prune=true"`],
    ]);
    const back = planRecords(input(targets(2), after, { prune: false }));
    expect(back.units.flatMap((u) => u.changes).map((c) => `${c.action} ${c.record.type}`)).toEqual([
      "UPSERT TXT",
      "UPSERT TXT",
    ]);
    expect(back.summary.map((c) => c.detail)).toEqual(["prune true -> false", "prune true -> false"]);
    // A spec that never said prune writes the value records wrote before the marker existed: nothing changes.
    expect(converge(targets(2), []).after.filter((r) => r.type === "TXT")[0]?.values).toEqual([
      `"heritage=ecs-log-operator,owner=${OWNER},resource=${RESOURCE}"`,
    ]);
  });

  it("cleans up a registry record whose record was deleted by hand", () => {
    const orphanTwin = registryRecord(NAME, "A", "i-0042", OWNER, RESOURCE);
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
    const moves = step.plan.units.filter((u) => u.phase === 1).length;
    // 210 targets in 3 shards of 70: s1 and s2 give 13 each to s0.
    expect(moves).toBe(26);
    zone = step.after;
    const sizes = [0, 1, 2].map((k) => valueRecords(zone, `s${k}.${NAME}`).length);
    expect(sizes).toEqual([70, 70, 70]);
    // Scale out to 300: new targets only fill, nobody moves.
    const grow = converge(all, zone);
    expect(grow.plan.units.filter((u) => u.phase === 1)).toHaveLength(0);
    expect([0, 1, 2].map((k) => valueRecords(grow.after, `s${k}.${NAME}`).length)).toEqual([100, 100, 100]);
  });

  it("does not reshape for a group scaling back and forth around a boundary", () => {
    let zone = converge(targets(101), []).after;
    expect(zone.filter((r) => r.alias !== undefined)).toHaveLength(2);
    // 95 targets would fit one name, but not with room to spare: the two shards stay. The 6 that left were all in
    // s1 (51/50 -> 51/44), so 3 move to rebalance; going back to one name would have moved all 95.
    const down = converge(targets(95), zone);
    expect(down.plan.layout.names.map((n) => n.targets)).toEqual([48, 47]);
    expect(down.plan.units.filter((u) => u.phase === 1)).toHaveLength(3);
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
