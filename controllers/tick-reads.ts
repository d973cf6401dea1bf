import type { ReconcileContext, ResourcePlan } from "./reconciler.ts";

/**
 * The controller's side of the tick's shared read cache (`TickReadCache`): it starts a tick before the informers
 * list, says which watched state an event or a spec edit touched, and has a reconcile that is about to write read
 * AWS live.
 */
export interface TickReads {
  beginTick(): void;
  invalidateWatchKeys(watchKeys: Iterable<string>): number;
  live<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Plans from the tick's shared reads and, when that plan would write, plans again from live reads and returns that
 * plan instead: a write is never decided on a read that may be a tick old (a record someone else changed, an
 * instance that went). A converged plan, the common case, costs no request of its own; so does a plan whose writes
 * AWS checks itself (`ResourcePlan.guarded`). Without `reads`, one plan from live reads.
 */
export async function planForWrite<
  P extends { readonly changes: readonly unknown[]; readonly guarded?: boolean | undefined },
>(
  reads: TickReads | undefined,
  ctx: ReconcileContext,
  plan: (ctx: ReconcileContext) => Promise<P>,
): Promise<P> {
  if (reads === undefined) return plan(ctx);
  const shared = await plan({ ...ctx, sharedReads: true });
  if (shared.changes.length === 0 || shared.guarded === true) return shared;
  // A new context: what the reconciler memoised for the shared plan (keyed by its context) is not reused.
  return reads.live(() => plan({ ...ctx, sharedReads: false }));
}

/** Orphan sweeps: as `planForWrite`, over the list of plans a sweep returns. */
export async function planOrphansForWrite(
  reads: TickReads | undefined,
  ctx: ReconcileContext,
  plan: (ctx: ReconcileContext) => Promise<ResourcePlan[]>,
): Promise<ResourcePlan[]> {
  const planned = await planForWrite(reads, ctx, async (c) => {
    const plans = await plan(c);
    return { plans, changes: plans.flatMap((p) => p.changes) };
  });
  return planned.plans;
}

/** Runs a plan's writes (and the reads they make, such as a drain's check that a record is gone) with live reads. */
export function applyLive(reads: TickReads | undefined, apply: () => Promise<void>): Promise<void> {
  return reads === undefined ? apply() : reads.live(apply);
}
