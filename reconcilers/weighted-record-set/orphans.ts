import { parseRegistry } from "./registry.ts";
import { atOrBelow, type RecordSet } from "./route53-api.ts";
import { shardIndexOf } from "./shards.ts";

/** Records this owner wrote at one top name (and its shards) that no current spec manages any more. */
export interface OrphanGroup {
  /** The top record name. */
  readonly name: string;
  readonly type: string;
  /** The resource the registry names, e.g. `WeightedRecordSet/fluentd`. */
  readonly resource: string;
  /**
   * Every registry record of this owner at the name says `prune=true`: the spec that wrote them asked for their
   * removal with it. Otherwise they are left as they are, no longer managed.
   */
  readonly prune: boolean;
  /** Every record set at the name and below it: what the planner needs to delete them exactly. */
  readonly observed: readonly RecordSet[];
}

/**
 * Finds, in one zone's records, the names holding registry records of `ownerId` that `covered` (the current specs)
 * does not claim. Pure. Only registry records prove ownership, so records of other owners and hand-made ones are never
 * in a group's deletions (the planner deletes only pairs whose registry names this owner).
 */
export function findOrphans(
  records: readonly RecordSet[],
  ownerId: string,
  covered: (name: string) => boolean,
): OrphanGroup[] {
  // Registry records of both formats: one per record (before) or one per name listing set identifiers.
  const mine = records.flatMap((r) => {
    const entry = r.type === "TXT" ? parseRegistry(r) : undefined;
    return entry !== undefined && entry.owner === ownerId ? [entry] : [];
  });
  const aliasTops = new Set(
    mine.filter((e) => e.setIdentifiers.some((id) => /^shard-s\d+$/.test(id))).map((e) => e.recordName),
  );
  const groups = new Map<string, { type: string; resource: string; prune: boolean }>();
  for (const e of mine) {
    const m = /^s\d+\.(.+)$/.exec(e.recordName);
    const top =
      m !== null && aliasTops.has(m[1]!) && shardIndexOf(e.recordName, m[1]!) !== undefined
        ? m[1]!
        : e.recordName;
    if (covered(top)) continue;
    const group = groups.get(`${top}|${e.type}`);
    if (group !== undefined) group.prune &&= e.prune;
    else groups.set(`${top}|${e.type}`, { type: e.type, resource: e.resource, prune: e.prune });
  }
  return [...groups].map(([key, g]) => {
    const name = key.slice(0, key.indexOf("|"));
    return {
      name,
      type: g.type,
      resource: g.resource,
      prune: g.prune,
      observed: records.filter((r) => atOrBelow(r.name, name)),
    };
  });
}
