import type { ResourcePlan } from "./reconciler.ts";

/**
 * The prune guard: an emptied or sharply shrunk spec set deletes nothing by itself. A failed checkout, an unmounted
 * volume or a sync that replaced the files one rename too late all look like "every spec was removed"; acting on
 * that would delete every record and service the operator made. So, for each kind's orphan sweep, the deletions are
 * held (planned, shown, not made) when
 * - the whole spec set is empty, unless `allowEmpty` (Argo CD's `syncPolicy.automated.allowEmpty`); or
 * - some specs remain, and the deletions would remove what more than `maxCount` specs of the kind made, and those are
 *   more than `maxFraction` of the kind's specs before the removal (the live ones plus the removed ones).
 * Counted from what the sweep found in AWS, not from a previous read: a restarted operator, or `apply` in CI, holds
 * the same deletions a running one would.
 */
export interface PruneGuardPolicy {
  readonly allowEmpty: boolean;
  readonly maxCount: number;
  readonly maxFraction: number;
}

export const DEFAULT_PRUNE_GUARD: PruneGuardPolicy = { allowEmpty: false, maxCount: 1, maxFraction: 0.5 };

export type HoldReason = "SpecSetEmpty" | "SpecSetShrank";

/** Deletions the guard holds for one kind's sweep. */
export interface HeldDeletions {
  readonly kind: string;
  readonly reason: HoldReason;
  /** The plans whose deletions are held (one per removed spec's objects). */
  readonly resources: readonly string[];
  /** Said in `plan`, `apply`, the log and `/status`: what is held, why, and how to let it go. */
  readonly message: string;
}

export interface SweepCensus {
  readonly kind: string;
  /** The sweep's plans; those with any change count (a sweep only takes back what removed specs made). */
  readonly plans: readonly ResourcePlan[];
  /** Valid specs of this kind now. */
  readonly liveOfKind: number;
  /** Valid specs of every kind now (0: the spec set is empty). */
  readonly liveSpecs: number;
}

/** Whether the sweep's deletions are held, and why. Pure. */
export function guardDeletions(census: SweepCensus, policy: PruneGuardPolicy): HeldDeletions | undefined {
  // Every change a sweep plans takes back what a removed spec made: a delete, or for a task definition patch a new
  // revision without it (and the rollout to it). Each counts, whatever its action.
  const deleting = census.plans.filter((p) => p.changes.length > 0).map((p) => p.key);
  if (deleting.length === 0) return undefined;
  // Counted in removed specs, not plans: one revision can take back the patches of several removed specs.
  const removed = [
    ...new Set(census.plans.filter((p) => p.changes.length > 0).flatMap((p) => p.removes ?? [p.key])),
  ];
  const count = removed.length;
  const shown = removed.slice(0, 5).join(", ") + (count > 5 ? ` and ${count - 5} more` : "");
  if (census.liveSpecs === 0) {
    // Emptying the whole set is the one case the user opts into by name: with it, the shrink rule does not apply.
    if (policy.allowEmpty) return undefined;
    return {
      kind: census.kind,
      reason: "SpecSetEmpty",
      resources: deleting,
      message:
        `the spec set is empty: the deletions for ${count} removed ${census.kind} spec(s) are held (${shown}). ` +
        "An empty spec directory is more often a failed checkout or an unmounted volume than a decision; if it is " +
        "one, pass --allow-empty",
    };
  }
  const before = count + census.liveOfKind;
  if (count > policy.maxCount && count > policy.maxFraction * before) {
    return {
      kind: census.kind,
      reason: "SpecSetShrank",
      resources: deleting,
      message:
        `${count} of ${before} ${census.kind} spec(s) were removed at once: their deletions are held (${shown}), ` +
        `since more than ${policy.maxCount} and more than ${Math.round(policy.maxFraction * 100)}% of a kind ` +
        "going together is more often a broken checkout than a decision; if it is one, pass " +
        "--prune-guard-fraction 1 (or a higher --prune-guard-count) for this run",
    };
  }
  return undefined;
}

/** The plans as the guard leaves them: a held sweep keeps its changes to show, marked, and its apply does nothing. */
export function markHeld(plans: readonly ResourcePlan[], held: HeldDeletions): ResourcePlan[] {
  return plans.map((p) =>
    held.resources.includes(p.key) ? { ...p, held: held.message, apply: async () => undefined } : p,
  );
}
