import { parseOwnership } from "./registry.ts";
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
  const mine = records.filter(
    (r) => r.type === "TXT" && r.name.startsWith("_elo-") && parseOwnership(r)?.owner === ownerId,
  );
  const aliasTops = new Set(
    mine
      .filter((r) => /^shard-s\d+$/.test(r.setIdentifier ?? ""))
      .map((r) => r.name.slice(r.name.indexOf(".") + 1)),
  );
  const groups = new Map<string, { type: string; resource: string; prune: boolean }>();
  for (const r of mine) {
    const label = r.name.slice(0, r.name.indexOf("."));
    const type = label.slice("_elo-".length).toUpperCase();
    const valueName = r.name.slice(label.length + 1);
    const m = /^s\d+\.(.+)$/.exec(valueName);
    const top =
      m !== null && aliasTops.has(m[1]!) && shardIndexOf(valueName, m[1]!) !== undefined ? m[1]! : valueName;
    if (covered(top)) continue;
    const own = parseOwnership(r)!;
    const group = groups.get(`${top}|${type}`);
    if (group !== undefined) group.prune &&= own.prune;
    else groups.set(`${top}|${type}`, { type, resource: own.resource, prune: own.prune });
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
