import type { ChangeUnit } from "./planner.ts";
import type { RecordChange } from "./route53-api.ts";

/**
 * ChangeResourceRecordSets limits: at most 1,000 ResourceRecord elements and 32,000 characters of values per request,
 * where an UPSERT counts twice for both.
 */
export interface BatchLimits {
  readonly values: number;
  readonly characters: number;
  readonly changes: number;
}

export const ROUTE53_BATCH_LIMITS: BatchLimits = { values: 1000, characters: 32_000, changes: 1000 };

export interface BatchCost {
  readonly values: number;
  readonly characters: number;
  readonly changes: number;
}

export function costOf(changes: readonly RecordChange[]): BatchCost {
  let values = 0;
  let characters = 0;
  for (const c of changes) {
    const factor = c.action === "UPSERT" ? 2 : 1;
    const vs = c.record.values ?? [];
    values += vs.length * factor;
    characters += vs.reduce((n, v) => n + v.length, 0) * factor;
  }
  return { values, characters, changes: changes.length };
}

export function fits(cost: BatchCost, limits: BatchLimits): boolean {
  return (
    cost.values <= limits.values && cost.characters <= limits.characters && cost.changes <= limits.changes
  );
}

/**
 * Packs units, in phase order, into as few batches as the limits allow; a unit is never split, so records and the
 * registry record that lists them, or both names of a move, land in the same batch. In each batch every DELETE comes
 * first: Route 53 applies a batch as a whole, and moto, which deletes every record of a set identifier whatever its
 * name, then cannot take a record that a later change of the batch creates or restates.
 */
export function packBatches(
  units: readonly ChangeUnit[],
  limits: BatchLimits = ROUTE53_BATCH_LIMITS,
): RecordChange[][] {
  const batches: RecordChange[][] = [];
  let current: RecordChange[] = [];
  let used: BatchCost = { values: 0, characters: 0, changes: 0 };
  for (const unit of [...units].sort((a, b) => a.phase - b.phase)) {
    const cost = costOf(unit.changes);
    if (!fits(cost, limits)) {
      throw new Error(`a change unit of ${cost.values} values does not fit in one Route 53 change batch`);
    }
    const together = {
      values: used.values + cost.values,
      characters: used.characters + cost.characters,
      changes: used.changes + cost.changes,
    };
    if (!fits(together, limits)) {
      batches.push(current);
      current = [...unit.changes];
      used = cost;
    } else {
      current.push(...unit.changes);
      used = together;
    }
  }
  if (current.length > 0) batches.push(current);
  return batches.map((b) => [
    ...b.filter((c) => c.action === "DELETE"),
    ...b.filter((c) => c.action !== "DELETE"),
  ]);
}
