import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { DEFAULT_PRUNE_GUARD, guardDeletions, markHeld, type PruneGuardPolicy } from "./prune-guard.ts";
import { sweepKey, type ResourcePlan } from "./reconciler.ts";
import type { SpecSnapshot } from "./spec-source.ts";
import type { StatusStore } from "./status.ts";

export interface DeletionHoldsOptions {
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly status: StatusStore;
  /** When a sweep's deletions are held (see prune-guard.ts). Default `DEFAULT_PRUNE_GUARD`. */
  readonly policy?: PruneGuardPolicy | undefined;
}

/**
 * The prune guard under `run`: which kinds' sweeps it holds now, and why. A hold (or its end) is logged once, shown
 * on the sweep's status (`Kind/*`) as a DeletionHeld condition, and counted in `ecs_log_operator_deletions_held`.
 * Bounded by the kinds.
 */
export class DeletionHolds {
  private readonly o: DeletionHoldsOptions;
  /** Kind -> the guard's message, while it holds that kind's deletions. */
  private readonly holds = new Map<string, string>();

  constructor(options: DeletionHoldsOptions) {
    this.o = options;
  }

  /** The kinds whose deletions are held now: each new read of the specs sweeps them again. */
  kinds(): string[] {
    return [...this.holds.keys()];
  }

  /** Kind -> why its deletions are held: `/status`'s `deletionsHeld`. */
  held(): Record<string, string> {
    return Object.fromEntries(this.holds);
  }

  /** Passes a sweep's plans, made over `snapshot`, through the guard: held plans are marked and apply nothing. */
  guard(kind: string, plans: ResourcePlan[], snapshot: SpecSnapshot): ResourcePlan[] {
    const { metrics, logger, status } = this.o;
    const hold = guardDeletions(
      {
        kind,
        plans,
        liveOfKind: snapshot.documents.filter((d) => d.kind === kind).length,
        liveSpecs: snapshot.documents.length,
      },
      this.o.policy ?? DEFAULT_PRUNE_GUARD,
    );
    const key = sweepKey(kind);
    const before = this.holds.get(kind);
    metrics.deletionsHeld(kind, hold?.resources.length ?? 0);
    if (hold === undefined) {
      if (before !== undefined) {
        this.holds.delete(kind);
        status.released(key);
        logger.info("deletions no longer held", { kind });
      }
      return plans;
    }
    if (before !== hold.message) {
      this.holds.set(kind, hold.message);
      status.held(key, hold.reason, hold.message);
      logger.warn("deletions held", {
        kind,
        reason: hold.reason,
        resources: hold.resources,
        message: hold.message,
      });
    }
    return markHeld(plans, hold);
  }
}
