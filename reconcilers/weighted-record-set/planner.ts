import type { Change } from "../../controllers/reconciler.ts";
import { costOf, fits, ROUTE53_BATCH_LIMITS, type BatchLimits } from "./batches.ts";
import {
  parseRegistry,
  REGISTRY_SET_ID_PREFIX,
  registryName,
  registryRecord,
  registrySetIdentifier,
  type RegistryEntry,
} from "./registry.ts";
import type { RecordChange, RecordSet } from "./route53-api.ts";
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
  /**
   * Targets that are serving but whose address could not be read this time (a task ECS has not placed yet, or a read
   * that answered without it). One that has a record of this spec keeps it at the address it holds; the rest wait.
   */
  readonly unaddressed?: readonly string[] | undefined;
  /** Every record set at `name` and below it, as listed. */
  readonly observed: readonly RecordSet[];
  /** The resources of every current spec: records one of them owns are not adopted by another. */
  readonly liveResources?: ReadonlySet<string> | undefined;
  /** Route 53's limit of weighted records per name and type; smaller in tests. */
  readonly maxPerName?: number;
}

/**
 * Changes that must travel in one batch, and the batch order they belong to. A unit holds every change at one record
 * name (its records, the registry record that lists them, and the registry twins of the format before that it
 * replaces), so that the proof of ownership changes in the batch that changes the records; names that a target moves
 * between are one unit when they fit in one batch together.
 */
export interface ChangeUnit {
  readonly phase: UnitPhase;
  readonly changes: readonly RecordChange[];
}

/**
 * The order of units when a plan is split over several batches, so that every batch leaves a valid zone: first the
 * names that gain or change records (2), then the top name's alias records, which need their shard names to exist (3),
 * and last the names that only lose records (4), so a target moving between names is never absent and an alias
 * record never points at a name already emptied. Lower goes first; 0 and 1 are free for units built elsewhere.
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
   * What a person reads in `plan`: one line per change of the batches, registry records (`_elo-...` TXT, which say
   * who owns the records) on lines of their own, since each is one change of a Route 53 batch.
   */
  readonly summary: readonly Change[];
  readonly layout: Layout;
  /** Records this operator wants to write but may not: each one a sentence. Nothing is written while any remain. */
  readonly conflicts: readonly string[];
  readonly notes: readonly string[];
}

/** The targets among `ids` that have a value record of this spec (`mine`), at the address that record holds. */
function keptTargets(
  ids: readonly string[],
  records: Iterable<RecordSet>,
  mine: (r: RecordSet) => boolean,
): Target[] {
  if (ids.length === 0) return [];
  const wanted = new Set(ids);
  const kept = new Map<string, Target>();
  for (const r of records) {
    const id = r.setIdentifier!;
    if (!wanted.has(id) || kept.has(id) || r.alias !== undefined || r.values?.length !== 1 || !mine(r))
      continue;
    kept.set(id, { id, address: r.values[0]! });
  }
  return [...kept.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** How full the smaller layout must be able to stay before fewer names are used. */
const SHRINK_FILL = 0.8;

/**
 * What the names a move connects may cost together to be one unit: a batch's limits, less room for the fence's two
 * token changes (route53-fence.ts).
 */
const MERGED_UNIT_LIMITS: BatchLimits = {
  values: ROUTE53_BATCH_LIMITS.values - 10,
  characters: ROUTE53_BATCH_LIMITS.characters - 1000,
  changes: ROUTE53_BATCH_LIMITS.changes - 10,
};

type Ownership =
  { kind: "mine"; adoptedFrom?: string | undefined } | { kind: "free" } | { kind: "conflict"; why: string };

/** One change and the line `plan` prints for it. */
interface Write {
  readonly change: RecordChange;
  readonly line: Change;
}

/**
 * Plans the writes that make the zone hold one weighted record per target, spread over shard names when one name
 * cannot hold them all, and at each such name one registry record listing the set identifiers this owner's spec owns
 * there. Pure. Only records that a registry record of this owner proves its own are changed or deleted; every other
 * record is read to count Route 53's per-name limit and to detect set identifiers already taken, never written.
 */
export function planRecords(input: PlannerInput): RecordPlan {
  const max = input.maxPerName ?? MAX_WEIGHTED_PER_NAME;
  const top = input.name;
  const type = input.type;
  const owner = input.ownerId;
  const isValueName = (name: string): boolean => name === top || shardIndexOf(name, top) !== undefined;
  const conflicts: string[] = [];
  const notes: string[] = [];
  const key = (name: string, setIdentifier: string): string => `${name}|${setIdentifier}`;

  // Observed records at the top name and at shard names, and the registry records beside them.
  const records = new Map<string, RecordSet>();
  for (const r of input.observed) {
    if (r.type !== type || !isValueName(r.name)) continue;
    if (r.setIdentifier === undefined || r.weight === undefined || r.otherRouting === true) {
      conflicts.push(
        `${r.name} ${type} has a record without weighted routing; weighted records cannot share its name and type`,
      );
      continue;
    }
    records.set(key(r.name, r.setIdentifier), r);
  }
  const prefix = registryName("", type);
  const twins = new Map<string, RegistryEntry>();
  const lists = new Map<string, RegistryEntry[]>();
  /** TXT records at a twin's place that are not a registry record: someone else's. */
  const unreadable = new Map<string, RecordSet>();
  /** Every TXT record with a set identifier at a registry name, by value name and set identifier. */
  const txtAt = new Map<string, RecordSet>();
  for (const r of input.observed) {
    if (r.type !== "TXT" || r.setIdentifier === undefined || !r.name.startsWith(prefix)) continue;
    const name = r.name.slice(prefix.length);
    if (!isValueName(name)) continue;
    txtAt.set(key(name, r.setIdentifier), r);
    const entry = parseRegistry(r);
    if (entry === undefined) {
      if (!r.setIdentifier.startsWith(REGISTRY_SET_ID_PREFIX)) unreadable.set(key(name, r.setIdentifier), r);
    } else if (entry.format === "twin") twins.set(key(name, r.setIdentifier), entry);
    else lists.set(name, [...(lists.get(name) ?? []), entry]);
  }
  const ourListId = (name: string): string => registrySetIdentifier(owner, input.resource, name);
  const isOurs = (e: RegistryEntry, name: string): boolean =>
    e.format === "list" &&
    e.record.setIdentifier === ourListId(name) &&
    e.owner === owner &&
    e.resource === input.resource;
  /** A registry record this plan may replace: this spec's, or this owner's for a spec that is gone (adopted). */
  const replaceable = (e: RegistryEntry): boolean =>
    e.owner === owner && (e.resource === input.resource || input.liveResources?.has(e.resource) !== true);

  const idSets = new Map<RegistryEntry, Set<string>>();
  const listedIn = (e: RegistryEntry): Set<string> => {
    let ids = idSets.get(e);
    if (ids === undefined) idSets.set(e, (ids = new Set(e.setIdentifiers)));
    return ids;
  };
  const ownershipMemo = new Map<string, Ownership>();
  const ownershipOf = (name: string, setIdentifier: string): Ownership => {
    const k = key(name, setIdentifier);
    const known = ownershipMemo.get(k);
    if (known !== undefined) return known;
    const found = decide(name, setIdentifier);
    ownershipMemo.set(k, found);
    return found;
  };
  const decide = (name: string, setIdentifier: string): Ownership => {
    const other = unreadable.get(key(name, setIdentifier));
    if (other !== undefined) {
      return { kind: "conflict", why: `${other.name} TXT holds a record this operator did not write` };
    }
    const twin = twins.get(key(name, setIdentifier));
    const claims = [
      ...(twin === undefined ? [] : [twin]),
      ...(lists.get(name) ?? []).filter((e) => listedIn(e).has(setIdentifier)),
    ];
    if (claims.length === 0) {
      return records.has(key(name, setIdentifier))
        ? {
            kind: "conflict",
            why: "a record with this set identifier exists and is not owned by this operator",
          }
        : { kind: "free" };
    }
    const foreign = claims.find((c) => c.owner !== owner);
    if (foreign !== undefined) {
      return { kind: "conflict", why: `owned by operator owner id "${foreign.owner}" (${foreign.resource})` };
    }
    // Another spec of this run (the same zone named once by name and once by id escapes the loader's claims check).
    const live = claims.find(
      (c) => c.resource !== input.resource && input.liveResources?.has(c.resource) === true,
    );
    if (live !== undefined) return { kind: "conflict", why: `managed by ${live.resource}, another spec` };
    return { kind: "mine", adoptedFrom: claims.find((c) => c.resource !== input.resource)?.resource };
  };
  const mine = (r: RecordSet): boolean => ownershipOf(r.name, r.setIdentifier!).kind === "mine";

  const foreignWeighted = new Map<string, number>();
  const foreignTtls = new Map<string, number>();
  for (const r of records.values()) {
    if (mine(r)) continue;
    foreignWeighted.set(r.name, (foreignWeighted.get(r.name) ?? 0) + 1);
    if (r.alias === undefined && r.ttl !== undefined) foreignTtls.set(r.name, r.ttl);
  }

  // A serving target without an address this time keeps its record: an unanswered read is a doubt, never a deletion.
  // The record goes once the target is no longer serving.
  const kept = keptTargets(input.unaddressed ?? [], records.values(), mine);
  if (kept.length > 0) {
    notes.push(
      `address not read, record kept as it is: ${kept.map((t) => `${t.id} ${t.address}`).join(", ")}`,
    );
  }
  // Layout: one name while it has room, shards behind alias records otherwise.
  const targets = dedupeTargets([...input.targets, ...kept]);
  const room = (name: string): number => max - (foreignWeighted.get(name) ?? 0);
  /** name -> set identifier -> the record wanted. */
  const desired = new Map<string, Map<string, RecordSet>>();
  const want = (r: RecordSet): void => {
    const at = desired.get(r.name) ?? new Map<string, RecordSet>();
    at.set(r.setIdentifier!, r);
    desired.set(r.name, at);
  };
  const addValue = (name: string, t: Target): void =>
    want({ name, type, setIdentifier: t.id, weight: input.weight, ttl: input.ttl, values: [t.address] });
  // Hysteresis: a layout grows as soon as it must, and shrinks only once the targets fit in SHRINK_FILL of the
  // smaller layout, so a group scaling back and forth around a boundary does not move every target each time.
  const shardsNow = [...records.values()].filter(
    (r) => r.name === top && r.alias !== undefined && mine(r),
  ).length;
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
    for (const r of records.values()) {
      const k = shardIndexOf(r.name, top);
      if (k !== undefined && mine(r) && !current.has(r.setIdentifier!)) current.set(r.setIdentifier!, k);
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
      // The alias weight is the shard's size, so every address gets the same share of answers (sizes stay <= 100,
      // inside Route 53's 0-255).
      want({
        name: top,
        type,
        setIdentifier: shardSetIdentifier(k),
        weight: ids.length,
        alias: { hostedZoneId: input.zoneId, dnsName: name, evaluateTargetHealth: false },
      });
    });
    layout = {
      mode: "sharded",
      names: shards.map((ids, k) => ({ name: shardName(top, k), targets: ids.length })),
    };
  }

  // Route 53 gives every weighted record of one name and type the TTL written last: writing another TTL beside
  // records this operator does not own would change theirs.
  for (const [name, ttl] of foreignTtls) {
    const valuesThere = [...(desired.get(name)?.values() ?? [])].some((r) => r.alias === undefined);
    if (valuesThere && ttl !== input.ttl) {
      conflicts.push(
        `weighted records at ${name} ${type} not owned by this operator have TTL ${ttl}, and Route 53 keeps one TTL ` +
          `per name and type: writing TTL ${input.ttl} would change theirs (set ttl: ${ttl}, or change them)`,
      );
    }
  }

  // Diff, name by name, from indexes by name (a zone of 10,000 targets has 100 names).
  const recordsAt = groupBy([...records.values()], (r) => r.name);
  const twinsAt = groupBy([...twins.values()], (e) => e.recordName);
  const names = new Set<string>([
    ...desired.keys(),
    ...[...records.values()].filter(mine).map((r) => r.name),
    ...[...twins.values()].filter(replaceable).map((e) => e.recordName),
    ...[...lists.entries()].filter(([, es]) => es.some(replaceable)).map(([n]) => n),
  ]);
  const perName = new Map<string, { deletes: Write[]; writes: Write[]; registry: Write[] }>();
  const created = new Map<string, string>();
  const deleted = new Map<string, string>();
  for (const name of [...names].sort()) {
    const deletes: Write[] = [];
    const writes: Write[] = [];
    const registry: Write[] = [];
    const wanted = desired.get(name) ?? new Map<string, RecordSet>();
    const listed: string[] = [];
    const written = new Set<string>();
    for (const [setIdentifier, r] of wanted) {
      const own = ownershipOf(name, setIdentifier);
      if (own.kind === "conflict") {
        conflicts.push(`${name} ${type} set identifier ${setIdentifier}: ${own.why}`);
        continue;
      }
      listed.push(setIdentifier);
      const have = records.get(key(name, setIdentifier));
      if (have === undefined) {
        writes.push({ change: { action: "CREATE", record: r }, line: recordLine("create", r) });
        created.set(setIdentifier, name);
        written.add(setIdentifier);
      } else {
        const diffs = differences(have, r);
        if (diffs.length > 0) {
          writes.push({
            change: { action: "UPSERT", record: r },
            line: recordLine("update", r, diffs.join(", ")),
          });
          written.add(setIdentifier);
        }
      }
    }
    for (const r of recordsAt.get(name) ?? []) {
      if (wanted.has(r.setIdentifier!) || !mine(r)) continue;
      // Route 53 rejects a DELETE whose values differ from the current record: send the record exactly as listed.
      deletes.push({ change: { action: "DELETE", record: r }, line: recordLine("delete", r) });
      deleted.set(r.setIdentifier!, name);
      written.add(r.setIdentifier!);
    }
    const ourId = ourListId(name);
    const ours = (lists.get(name) ?? []).find((e) => isOurs(e, name));
    const occupied = txtAt.get(key(name, ourId));
    if (ours === undefined && occupied !== undefined) {
      conflicts.push(
        `${occupied.name} TXT set identifier ${ourId} holds a record this operator did not write`,
      );
      continue;
    }
    // Twins and other lists of this owner at the name are replaced by this spec's list, in the same unit.
    const replaced: RegistryEntry[] = [];
    for (const e of twinsAt.get(name) ?? []) {
      if (!replaceable(e)) continue;
      if (ownershipOf(name, e.setIdentifiers[0]!).kind === "conflict") continue;
      replaced.push(e);
      const hasRecord = records.has(key(name, e.setIdentifiers[0]!));
      deletes.push({
        change: { action: "DELETE", record: e.record },
        line: registryLine(
          "delete",
          e.record,
          hasRecord
            ? `registry twin of the format before, replaced by ${ourId}`
            : "registry record without its record",
        ),
      });
      // moto deletes every record of a set identifier, whatever its name, when one is deleted (Route 53 deletes the
      // one named): a record whose twin goes and that is otherwise unchanged is sent again after the DELETE in the
      // same batch. On Route 53 that UPSERT changes nothing; it is paid once, when the twins are replaced.
      const stays = wanted.get(e.setIdentifiers[0]!);
      if (
        hasRecord &&
        stays !== undefined &&
        !written.has(e.setIdentifiers[0]!) &&
        listed.includes(stays.setIdentifier!)
      ) {
        writes.push({
          change: { action: "UPSERT", record: stays },
          line: recordLine("update", stays, "unchanged; sent again beside the removal of its registry twin"),
        });
      }
    }
    for (const e of lists.get(name) ?? []) {
      if (isOurs(e, name) || !replaceable(e)) continue;
      if (e.setIdentifiers.some((id) => ownershipOf(name, id).kind === "conflict")) continue;
      replaced.push(e);
      deletes.push({
        change: { action: "DELETE", record: e.record },
        line: registryLine("delete", e.record, `${e.resource}'s, adopted by ${input.resource}`),
      });
    }
    if (listed.length > 0) {
      const record = registryRecord(name, type, owner, input.resource, listed, input.prune === true);
      const adopted = replaced.find((e) => e.resource !== input.resource)?.resource;
      if (ours === undefined) {
        // moto refuses a CREATE beside a DELETE of the same name and type in one batch (Route 53 accepts it): where
        // twins are replaced, the list is an UPSERT, which Route 53 also takes for a record that does not exist.
        const action = replaced.length > 0 ? "UPSERT" : "CREATE";
        const detail =
          `owner ${owner}, ${input.resource}: ${listed.length} set identifier(s)` +
          (replaced.some((e) => e.format === "twin")
            ? `, replacing ${replaced.filter((e) => e.format === "twin").length} registry twin(s)`
            : "") +
          (adopted !== undefined ? `, adopted from ${adopted}` : "");
        registry.push({
          change: { action, record },
          line: registryLine(action === "CREATE" ? "create" : "update", record, detail),
        });
      } else if (!sameRecord(ours.record, record)) {
        const before = new Set(ours.setIdentifiers);
        const now = new Set(listed);
        const added = listed.filter((id) => !before.has(id)).length;
        const removed = ours.setIdentifiers.filter((id) => !now.has(id)).length;
        const parts = [
          ...(added > 0 ? [`+${added}`] : []),
          ...(removed > 0 ? [`-${removed}`] : []),
          ...(ours.prune !== (input.prune === true)
            ? [`prune ${ours.prune} -> ${input.prune === true}`]
            : []),
          ...(adopted !== undefined ? [`adopted from ${adopted}`] : []),
        ];
        registry.push({
          change: { action: "UPSERT", record },
          line: registryLine("update", record, parts.join(", ") || "rewritten"),
        });
      }
    } else if (ours !== undefined) {
      registry.push({
        change: { action: "DELETE", record: ours.record },
        line: registryLine("delete", ours.record, `no records of ${input.resource} left at ${name}`),
      });
    }
    if (deletes.length + writes.length + registry.length > 0)
      perName.set(name, { deletes, writes, registry });
  }

  // Units: a name's changes together; names a target moves between together when they fit in one batch.
  const groupOf = new Map<string, string>([...perName.keys()].map((n) => [n, n]));
  const root = (n: string): string => {
    let r = n;
    while (groupOf.get(r) !== r) r = groupOf.get(r)!;
    return r;
  };
  const groupCost = new Map(
    [...perName].map(([n, p]) => [
      n,
      costOf([...p.deletes, ...p.writes, ...p.registry].map((w) => w.change)),
    ]),
  );
  let moves = 0;
  for (const [setIdentifier, to] of created) {
    const from = deleted.get(setIdentifier);
    if (from === undefined || from === to || setIdentifier.startsWith("shard-s")) continue;
    moves++;
    const a = root(from);
    const b = root(to);
    if (a === b) continue;
    const x = groupCost.get(a)!;
    const y = groupCost.get(b)!;
    const both = {
      values: x.values + y.values,
      characters: x.characters + y.characters,
      changes: x.changes + y.changes,
    };
    if (!fits(both, MERGED_UNIT_LIMITS)) continue;
    groupOf.set(b, a);
    groupCost.set(a, both);
  }
  const groups = new Map<string, string[]>();
  for (const n of perName.keys()) groups.set(root(n), [...(groups.get(root(n)) ?? []), n]);
  const units: ChangeUnit[] = [...groups.values()].map((ns) => {
    const changes = unitChanges(ns.map((n) => perName.get(n)!));
    const phase: UnitPhase = changes.some((c) => c.record.alias !== undefined)
      ? 3
      : changes.every((c) => c.action === "DELETE")
        ? 4
        : 2;
    return { phase, changes };
  });
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
  const twinCount = [...twins.values()].filter(replaceable).length;
  if (twinCount > 0 && conflicts.length === 0) {
    notes.push(
      `registry: ${twinCount} registry twin(s) of the format before replaced by one registry record per name, in ` +
        `the batches that write them`,
    );
  }

  // Deletes first, then updates, then creates; each record before the registry record that lists it.
  const lines = [...perName.values()].flatMap((p) =>
    [...p.deletes, ...p.writes, ...p.registry].map((w) => w.line),
  );
  const sorted = lines
    .map((line, i) => ({ line, i }))
    .sort((a, b) => order(a.line) - order(b.line) || registryLast(a.line) - registryLast(b.line) || a.i - b.i)
    .map((x) => x.line);
  return {
    units: conflicts.length > 0 ? [] : units,
    summary: conflicts.length > 0 ? [] : sorted,
    layout,
    conflicts,
    notes,
  };
}

/**
 * The changes of names planned together: every DELETE first (the registry twins and lists replaced among them), then
 * the records written (values before aliases, which need their targets), then the registry records that list them.
 */
function unitChanges(
  parts: readonly { deletes: Write[]; writes: Write[]; registry: Write[] }[],
): RecordChange[] {
  const writes = parts.flatMap((p) => p.writes.map((w) => w.change));
  return [
    ...parts.flatMap((p) => p.deletes.map((w) => w.change)),
    ...writes.filter((c) => c.record.alias === undefined),
    ...writes.filter((c) => c.record.alias !== undefined),
    ...parts.flatMap((p) => p.registry.map((w) => w.change)),
  ];
}

function groupBy<T>(items: readonly T[], by: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = by(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

function registryLast(c: Change): number {
  return c.target.startsWith("registry ") ? 1 : 0;
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
