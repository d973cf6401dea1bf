import type { Clock } from "./clock.ts";
import { deadline, DeadlineExceededError, DEFAULT_RECONCILE_TIMEOUT_MS } from "./deadline.ts";
import type { Logger } from "./logger.ts";
import { guardOrphanPlans } from "./orphan-guard.ts";
import { pool } from "./pool.ts";
import {
  sweepKey,
  type Detach,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "./reconciler.ts";
import {
  DEFAULT_PRUNE_GUARD,
  guardDeletions,
  markHeld,
  type HeldDeletions,
  type PruneGuardPolicy,
} from "./prune-guard.ts";
import { withRetries } from "./retries.ts";
import { resourceKey, type SourcePosition, type SpecDocument } from "./spec/document.ts";

export interface PassOptions {
  readonly reconcilers: readonly Reconciler[];
  readonly documents: readonly SpecDocument[];
  /** Only when every spec file loaded cleanly may orphans be planned for deletion. */
  readonly complete: boolean;
  readonly ownerId: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Resources planned at once within one ordering level. */
  readonly concurrency?: number;
  /** See `ReconcileContext.detach`; without it, long waits happen inside `apply`. */
  readonly detach?: Detach | undefined;
  /** How long one resource (its plan, and its apply) may take; its AWS calls are aborted then. Default 5 min. */
  readonly reconcileTimeoutMs?: number | undefined;
  /**
   * Tries of a resource that fails for a reason that may pass (throttled, a 5xx, a timeout, a race): planned again
   * from fresh reads after the operator's backoff. Default 4.
   */
  readonly attempts?: number | undefined;
  readonly clock?: Clock | undefined;
  /** When a sweep's deletions are held (see prune-guard.ts). Default `DEFAULT_PRUNE_GUARD`. */
  readonly pruneGuard?: PruneGuardPolicy | undefined;
}

export interface ResourceFailure {
  readonly key: string;
  readonly error: Error;
  /** Where the failing spec starts, when the failure belongs to one spec (not to an orphan sweep). */
  readonly source?: SourcePosition | undefined;
}

export interface PassResult {
  readonly plans: ResourcePlan[];
  readonly failures: ResourceFailure[];
  /** Deletions the prune guard held: planned and shown, not made. */
  readonly held: HeldDeletions[];
}

function reconcilerFor(reconcilers: readonly Reconciler[], kind: string): Reconciler | undefined {
  return reconcilers.find((r) => r.kind === kind);
}

/**
 * Plans every spec (and, when the spec set is complete, every orphan) in apply order. With `apply`, each resource is
 * planned then applied before the next ordering level is planned, so a service sees the namespace created for it.
 * A failure in one resource is recorded and the others go on.
 */
export async function runPass(options: PassOptions, apply: boolean): Promise<PassResult> {
  const ctx: ReconcileContext = {
    signal: options.signal,
    logger: options.logger,
    ownerId: options.ownerId,
    documents: options.documents,
    sweeping: options.complete,
    ...(options.detach !== undefined ? { detach: options.detach } : {}),
  };
  const plans: ResourcePlan[] = [];
  const failures: ResourceFailure[] = [];
  const held: HeldDeletions[] = [];
  const guard = (kind: string, planned: ResourcePlan[]): ResourcePlan[] => {
    const hold = guardDeletions(
      {
        kind,
        plans: planned,
        liveOfKind: options.documents.filter((d) => d.kind === kind).length,
        liveSpecs: options.documents.length,
      },
      options.pruneGuard ?? DEFAULT_PRUNE_GUARD,
    );
    if (hold === undefined) return planned;
    if (!held.some((h) => h.kind === kind)) held.push(hold);
    options.logger.warn("deletions held", {
      kind,
      reason: hold.reason,
      resources: hold.resources,
      message: hold.message,
    });
    return markHeld(planned, hold);
  };
  const levels = [...new Set(options.reconcilers.map((r) => r.order))].sort((a, b) => a - b);
  for (const level of levels) {
    const atLevel = options.reconcilers.filter((r) => r.order === level);
    const jobs: {
      key: string;
      source?: SourcePosition;
      run: (ctx: ReconcileContext) => Promise<ResourcePlan[]>;
    }[] = [];
    for (const doc of options.documents) {
      const r = reconcilerFor(atLevel, doc.kind);
      if (r !== undefined) {
        jobs.push({ key: resourceKey(doc), source: doc.source, run: async (c) => [await r.plan(doc, c)] });
      }
    }
    if (options.complete) {
      for (const r of atLevel) {
        if (r.planOrphans !== undefined) {
          const orphans = r.planOrphans.bind(r);
          // A sweep's plans pass the orphan guard (the default owner id removes no orphan), then the prune guard,
          // before any of them is applied.
          jobs.push({
            key: sweepKey(r.kind),
            run: async (c) => guard(r.kind, guardOrphanPlans(await orphans(c), ctx.ownerId)),
          });
        }
      }
    }
    await pool(jobs, options.concurrency ?? 4, async (job) => {
      options.signal.throwIfAborted();
      try {
        const planned = await withRetries(
          // Each try has its own deadline, and a retry plans from fresh reads (a pass of its own).
          (attempt) =>
            withDeadline(options, job.key, async (signal) => {
              const done: ResourcePlan[] = [];
              for (const plan of await job.run({ ...ctx, signal, pass: attempt === 0 ? ctx : {} })) {
                if (apply && plan.changes.length > 0 && plan.held === undefined) {
                  await plan.apply(signal);
                  options.logger.info("applied", { resource: plan.key, changes: plan.changes.length });
                }
                done.push(plan);
              }
              return done;
            }),
          {
            attempts: options.attempts ?? 4,
            clock: options.clock,
            signal: options.signal,
            onRetry: (error, attempt, delayMs) =>
              options.logger.info("retrying", { resource: job.key, attempt, delayMs, error }),
          },
        );
        plans.push(...planned);
      } catch (error) {
        if (options.signal.aborted) throw error;
        const err = error instanceof Error ? error : new Error(String(error));
        failures.push({ key: job.key, error: err, source: job.source });
        options.logger.warn("reconcile failed", { resource: job.key, error: err });
      }
    });
  }
  const order = new Map(options.reconcilers.map((r) => [r.kind, r.order]));
  plans.sort((a, b) => (order.get(a.kind) ?? 0) - (order.get(b.kind) ?? 0) || (a.key < b.key ? -1 : 1));
  return { plans, failures, held };
}

/** Runs one resource's work under its own deadline (the pass's signal still aborts it). */
async function withDeadline<T>(
  options: PassOptions,
  key: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const limit = deadline(
    options.signal,
    options.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS,
    key,
    options.clock,
  );
  try {
    return await work(limit.signal);
  } catch (error) {
    const reason: unknown = limit.signal.reason;
    if (limit.expired && reason instanceof DeadlineExceededError) {
      throw new DeadlineExceededError(key, reason.ms, { cause: error });
    }
    throw error;
  } finally {
    limit.dispose();
  }
}
