import type { Change } from "../../controllers/reconciler.ts";
import { parseOwnership, registryName, registryRecord } from "./registry.ts";
import { recordKey, type RecordChange, type RecordSet } from "./route53-api.ts";
import {
  assignShards,
  MAX_WEIGHTED_PER_NAME,
  shardIndexOf,
  shardName,
  shardSetIdentifier,
  shardsNeeded,
} from "./shards.ts";

/** One address that should receive traffic: an instance or a task. */
export interface Target {
  /** Set identifier: the instance id or task id. */
  readonly id: string;
  readonly address: string;
}

export interface PlannerInput {
  readonly zoneId: string;
  /** Normalised record name. */
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly weight: number;
  readonly ownerId: string;
  /** `WeightedRecordSet/<name>`, written into the registry. */
  readonly resource: string;
  /** The spec's `prune`, written into the registry beside every record. Default false. */
  readonly prune?: boolean | undefined;
  readonly targets: readonly Target[];
  /** Every record set at `name` and below it, as listed. */
  readonly observed: readonly RecordSet[];
  /** The resources of every current spec: records one of them owns are not adopted by another. */
  readonly liveResources?: ReadonlySet<string> | undefined;
  /** Route 53's limit of weighted records per name and type; smaller in tests. */
  readonly maxPerName?: number;
}

/**
 * Changes that must travel in one batch (a record and its registry twin; a target moving between names), and the
 * batch order they belong to.
 */
export interface ChangeUnit {
  readonly phase: UnitPhase;
  readonly changes: readonly RecordChange[];
}

/**
 * The order of units when a plan is split over several batches, so that every batch leaves a valid zone: targets that
 * left go first (room for the rest), then moves, then new records, then the alias records at the top name that need
 * their shard names to exist, and last the alias records of shards that are gone.
 */
export type UnitPhase = 0 | 1 | 2 | 3 | 4;

export interface Layout {
  readonly mode: "flat" | "sharded";
  /** Names and the number of targets each holds; for `flat`, the top name alone. */
  readonly names: readonly { readonly name: string; readonly targets: number }[];
}

export interface RecordPlan {
  readonly units: readonly ChangeUnit[];
  /**
   * What a person reads in `plan`: one line per record written, each target's or alias record's registry twin
   * (`_elo-...` TXT) on its own line, since each is one change of a Route 53 batch.
   */
  readonly summary: readonly Change[];
  readonly layout: Layout;
  /** Records this operator wants to write but may not: each one a sentence. Nothing is written while any remain. */
  readonly conflicts: readonly string[];
  readonly notes: readonly string[];
}

/** How full the smaller layout must be able to stay before fewer names are used. */
const SHRINK_FILL = 0.8;

type Ownership =
  { kind: "mine"; adoptedFrom?: string } | { kind: "free" } | { kind: "conflict"; why: string };

/** A record set and its registry twin, as observed or desired. */
interface Pair {
  readonly name: string;
  readonly setIdentifier: string;
  readonly value: RecordSet | undefined;
  readonly registry: RecordSet | undefined;
}

/**
 * Plans the writes that make the zone hold one weighted record per target, spread over shard names when one name
 * cannot hold them all. Pure. Only records whose registry twin names this owner are changed or deleted; every other
 * record is read to count Route 53's per-name limit and to detect set identifiers already taken, never written.
 */
export function planRecords(input: PlannerInput): RecordPlan {
  const max = input.maxPerName ?? MAX_WEIGHTED_PER_NAME;
  const top = input.name;
  const type = input.type;
  const byKey = new Map(input.observed.map((r) => [recordKey(r), r]));
  const isValueName = (name: string): boolean => name === top || shardIndexOf(name, top) !== undefined;
  const conflicts: string[] = [];
  const notes: string[] = [];

  // Observed pairs at the top name and at shard names.
  const observedPairs = new Map<string, Pair>();
  const foreignWeighted = new Map<string, number>();
  const foreignTtls = new Map<string, number>();
  for (const r of input.observed) {
    if (r.type !== type || !isValueName(r.name)) continue;
    if (r.setIdentifier === undefined || r.weight === undefined || r.otherRouting === true) {
      conflicts.push(
        `${r.name} ${type} has a record without weighted routing; weighted records cannot share its name and type`,
      );
      continue;
    }
    const registry = byKey.get(
      recordKey({ name: registryName(r.name, type), type: "TXT", setIdentifier: r.setIdentifier }),
    );
    observedPairs.set(`${r.name}|${r.setIdentifier}`, {
      name: r.name,
      setIdentifier: r.setIdentifier,
      value: r,
      registry,
    });
    if (ownershipOf(registry, input).kind !== "mine") {
      foreignWeighted.set(r.name, (foreignWeighted.get(r.name) ?? 0) + 1);
      if (r.alias === undefined && r.ttl !== undefined) foreignTtls.set(r.name, r.ttl);
    }
  }
  for (const r of input.observed) {
    if (r.type !== "TXT" || r.setIdentifier === undefined) continue;
    const valueName = r.name.startsWith(registryName("", type))
      ? r.name.slice(registryName("", type).length)
      : "";
    if (!isValueName(valueName) || observedPairs.has(`${valueName}|${r.setIdentifier}`)) continue;
    // A registry record whose record is gone (deleted by hand): ours to clean up, or to reuse.
    observedPairs.set(`${valueName}|${r.setIdentifier}`, {
      name: valueName,
      setIdentifier: r.setIdentifier,
      value: undefined,
      registry: r,
    });
  }

  // Layout: one name while it has room, shards behind alias records otherwise.
  const targets = dedupeTargets(input.targets);
  const room = (name: string): number => max - (foreignWeighted.get(name) ?? 0);
  const desired = new Map<string, Pair>();
  const twin = (name: string, setIdentifier: string): RecordSet =>
    registryRecord(name, type, setIdentifier, input.ownerId, input.resource, input.prune === true);
  const addValue = (name: string, t: Target): void => {
    desired.set(`${name}|${t.id}`, {
      name,
      setIdentifier: t.id,
      value: { name, type, setIdentifier: t.id, weight: input.weight, ttl: input.ttl, values: [t.address] },
      registry: twin(name, t.id),
    });
  };
  // Hysteresis: a layout grows as soon as it must, and shrinks only once the targets fit in SHRINK_FILL of the
  // smaller layout, so a group scaling back and forth around a boundary does not move every target each time.
  const shardsNow = new Set(
    [...observedPairs.values()]
      .filter(
        (p) =>
          p.name === top && p.value?.alias !== undefined && ownershipOf(p.registry, input).kind === "mine",
      )
      .map((p) => p.setIdentifier),
  ).size;
  const shrinkTo = Math.ceil(targets.length / SHRINK_FILL);
  let layout: Layout;
  if (targets.length <= room(top) && (shardsNow === 0 || shrinkTo <= room(top))) {
    for (const t of targets) addValue(top, t);
    layout = { mode: "flat", names: [{ name: top, targets: targets.length }] };
  } else {
    const capacityOf = (k: number): number => room(shardName(top, k));
    const needed = shardsNeeded(targets.length, capacityOf);
    const count = shardsNow > needed ? Math.min(shardsNow, shardsNeeded(shrinkTo, capacityOf)) : needed;
    if (count > room(top)) {
      conflicts.push(`${targets.length} targets need ${count} shards, more than ${top} has room for`);
    }
    const current = new Map<string, number>();
    for (const p of observedPairs.values()) {
      const k = shardIndexOf(p.name, top);
      if (
        k !== undefined &&
        p.value !== undefined &&
        ownershipOf(p.registry, input).kind === "mine" &&
        !current.has(p.setIdentifier)
      )
        current.set(p.setIdentifier, k);
    }
    const capacities = Array.from({ length: count }, (_, k) => room(shardName(top, k)));
    const shards = assignShards(
      targets.map((t) => t.id),
      current,
      capacities,
    );
    const byId = new Map(targets.map((t) => [t.id, t]));
    shards.forEach((ids, k) => {
      const name = shardName(top, k);
      for (const id of ids) addValue(name, byId.get(id)!);
      const setIdentifier = shardSetIdentifier(k);
      desired.set(`${top}|${setIdentifier}`, {
        name: top,
        setIdentifier,
        // The alias weight is the shard's size, so every address gets the same share of answers (sizes stay <= 100,
        // inside Route 53's 0-255).
        value: {
          name: top,
          type,
          setIdentifier,
          weight: ids.length,
          alias: { hostedZoneId: input.zoneId, dnsName: name, evaluateTargetHealth: false },
        },
        registry: twin(top, setIdentifier),
      });
    });
    layout = {
      mode: "sharded",
      names: shards.map((ids, k) => ({ name: shardName(top, k), targets: ids.length })),
    };
  }

  // Route 53 gives every weighted record of one name and type the TTL written last: writing another TTL beside
  // records this operator does not own would change theirs.
  const valueNames = new Set(
    [...desired.values()].filter((p) => p.value?.alias === undefined).map((p) => p.name),
  );
  for (const [name, ttl] of foreignTtls) {
    if (valueNames.has(name) && ttl !== input.ttl) {
      conflicts.push(
        `weighted records at ${name} ${type} not owned by this operator have TTL ${ttl}, and Route 53 keeps one TTL ` +
          `per name and type: writing TTL ${input.ttl} would change theirs (set ttl: ${ttl}, or change them)`,
      );
    }
  }

  // Diff, pair by pair.
  const writes: {
    pair: Pair;
    changes: RecordChange[];
    lines: Change[];
    alias: boolean;
    removal: boolean;
    created: boolean;
  }[] = [];
  for (const [key, want] of desired) {
    const have = observedPairs.get(key);
    const own = ownershipOf(have?.registry, input, have?.value);
    if (own.kind === "conflict") {
      conflicts.push(`${want.name} ${type} set identifier ${want.setIdentifier}: ${own.why}`);
      continue;
    }
    const changes: RecordChange[] = [];
    const lines: Change[] = [];
    if (have?.value === undefined) {
      changes.push({ action: "CREATE", record: want.value! });
      lines.push(recordLine("create", want.value!));
    } else {
      const diffs = differences(have.value, want.value!);
      if (diffs.length > 0) {
        changes.push({ action: "UPSERT", record: want.value! });
        lines.push(recordLine("update", want.value!, diffs.join(", ")));
      }
    }
    if (have?.registry === undefined) {
      changes.push({ action: "CREATE", record: want.registry! });
      lines.push(registryLine("create", want.registry!, `owner ${input.ownerId}, ${input.resource}`));
    } else if (!sameRecord(have.registry, want.registry!)) {
      changes.push({ action: "UPSERT", record: want.registry! });
      const before = parseOwnership(have.registry);
      lines.push(
        registryLine(
          "update",
          want.registry!,
          own.kind === "mine" && own.adoptedFrom !== undefined
            ? `adopted from ${own.adoptedFrom}`
            : before !== undefined && before.prune !== (input.prune === true)
              ? `prune ${before.prune} -> ${input.prune === true}`
              : `owner ${input.ownerId}, ${input.resource}`,
        ),
      );
    }
    if (changes.length === 0) continue;
    const alias = want.value!.alias !== undefined;
    writes.push({ pair: want, changes, lines, alias, removal: false, created: have?.value === undefined });
  }
  for (const [key, have] of observedPairs) {
    if (desired.has(key) || ownershipOf(have.registry, input, have.value).kind !== "mine") continue;
    // Route 53 rejects a DELETE whose values differ from the current record: send the record exactly as listed.
    const changes: RecordChange[] = [];
    const lines: Change[] = [];
    if (have.value !== undefined) {
      changes.push({ action: "DELETE", record: have.value });
      lines.push(recordLine("delete", have.value));
    }
    if (have.registry !== undefined) {
      changes.push({ action: "DELETE", record: have.registry });
      lines.push(
        registryLine(
          "delete",
          have.registry,
          have.value === undefined ? "registry record without its record" : undefined,
        ),
      );
    }
    writes.push({
      pair: have,
      changes,
      lines,
      alias: have.value?.alias !== undefined,
      removal: true,
      created: false,
    });
  }

  // Units: a target deleted at one name and created at another moves in one unit.
  const units: ChangeUnit[] = [];
  const valueWrites = writes.filter((w) => !w.alias);
  const bySetId = new Map<string, typeof valueWrites>();
  for (const w of valueWrites)
    bySetId.set(w.pair.setIdentifier, [...(bySetId.get(w.pair.setIdentifier) ?? []), w]);
  let moves = 0;
  for (const ws of bySetId.values()) {
    const removals = ws.filter((w) => w.removal);
    const others = ws.filter((w) => !w.removal);
    if (removals.length > 0 && others.some((w) => w.created)) {
      moves++;
      units.push({ phase: 1, changes: [...removals, ...others].flatMap((w) => w.changes) });
    } else {
      for (const w of ws) units.push({ phase: w.removal ? 0 : 2, changes: w.changes });
    }
  }
  for (const w of writes.filter((x) => x.alias)) units.push({ phase: w.removal ? 4 : 3, changes: w.changes });
  units.sort((a, b) => a.phase - b.phase);

  if (layout.mode === "sharded") {
    notes.push(
      `layout: ${layout.names.length} shards behind weighted alias records at ${top} (` +
        layout.names.map((n) => `${n.name.slice(0, n.name.indexOf("."))}: ${n.targets}`).join(", ") +
        `), at most ${max} weighted records per name` +
        (moves > 0 ? `; ${moves} target(s) move` : ""),
    );
  } else {
    notes.push(
      `layout: ${targets.length} weighted record(s) at ${top}` +
        (moves > 0 ? `; ${moves} target(s) move` : ""),
    );
  }
  const foreign = [...foreignWeighted.entries()].map(([n, c]) => `${c} at ${n}`);
  if (foreign.length > 0)
    notes.push(`left untouched: weighted records not owned by this operator (${foreign.join(", ")})`);

  // Each record, then its registry twin; deletes first, then updates, then creates.
  const first = (w: (typeof writes)[number]): Change => w.lines[0]!;
  const sortedWrites = [...writes].sort(
    (a, b) => order(first(a)) - order(first(b)) || (first(a).target < first(b).target ? -1 : 1),
  );
  return {
    units: conflicts.length > 0 ? [] : units,
    summary: conflicts.length > 0 ? [] : sortedWrites.flatMap((w) => w.lines),
    layout,
    conflicts,
    notes,
  };
}

/** One record of a Route 53 change batch, as `plan` lists it. */
function recordLine(action: Change["action"], r: RecordSet, detail?: string): Change {
  return { action, target: describe(r), detail, write: "route53:ChangeResourceRecordSets" };
}

/** A registry twin (`_elo-...` TXT, which says who owns the record), as `plan` lists it. */
function registryLine(action: Change["action"], r: RecordSet, detail?: string): Change {
  return {
    action,
    target: `registry ${r.name} TXT ${r.setIdentifier ?? ""}`.trimEnd(),
    detail,
    write: "route53:ChangeResourceRecordSets",
  };
}

function order(c: Change): number {
  return c.action === "delete" ? 0 : c.action === "update" ? 1 : 2;
}

function dedupeTargets(targets: readonly Target[]): Target[] {
  const byId = new Map<string, Target>();
  for (const t of targets) if (!byId.has(t.id)) byId.set(t.id, t);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function ownershipOf(registry: RecordSet | undefined, input: PlannerInput, value?: RecordSet): Ownership {
  if (registry === undefined) {
    return value === undefined
      ? { kind: "free" }
      : {
          kind: "conflict",
          why: "a record with this set identifier exists and is not owned by this operator",
        };
  }
  const o = parseOwnership(registry);
  if (o === undefined) {
    return { kind: "conflict", why: `${registry.name} TXT holds a record this operator did not write` };
  }
  if (o.owner !== input.ownerId) {
    return { kind: "conflict", why: `owned by operator owner id "${o.owner}" (${o.resource})` };
  }
  if (o.resource === input.resource) return { kind: "mine" };
  // Another spec of this run (the same zone named once by name and once by id escapes the loader's claims check).
  if (input.liveResources?.has(o.resource) === true) {
    return { kind: "conflict", why: `managed by ${o.resource}, another spec` };
  }
  return { kind: "mine", adoptedFrom: o.resource };
}

function differences(have: RecordSet, want: RecordSet): string[] {
  const out: string[] = [];
  if (have.weight !== want.weight) out.push(`weight ${have.weight ?? "-"} -> ${want.weight ?? "-"}`);
  if (want.alias === undefined && have.ttl !== want.ttl)
    out.push(`ttl ${have.ttl ?? "-"} -> ${want.ttl ?? "-"}`);
  if (!sameValues(have.values, want.values)) {
    out.push(`${(have.values ?? []).join(" ") || "-"} -> ${(want.values ?? []).join(" ") || "-"}`);
  }
  if (!sameAlias(have, want))
    out.push(`alias ${have.alias?.dnsName ?? "-"} -> ${want.alias?.dnsName ?? "-"}`);
  if (have.healthCheckId !== undefined) out.push("health check removed");
  return out;
}

function sameRecord(a: RecordSet, b: RecordSet): boolean {
  return differences(a, b).length === 0;
}

function sameValues(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...(b ?? [])].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameAlias(a: RecordSet, b: RecordSet): boolean {
  if (a.alias === undefined || b.alias === undefined) return a.alias === b.alias;
  return (
    a.alias.dnsName === b.alias.dnsName &&
    a.alias.hostedZoneId.replace(/^\/hostedzone\//, "") ===
      b.alias.hostedZoneId.replace(/^\/hostedzone\//, "") &&
    a.alias.evaluateTargetHealth === b.alias.evaluateTargetHealth
  );
}

function describe(r: RecordSet): string {
  const what = r.alias !== undefined ? `alias ${r.alias.dnsName}` : (r.values ?? []).join(" ");
  return `${r.name} ${r.type} ${r.setIdentifier ?? ""} ${what}`.replace(/ +/g, " ");
}
