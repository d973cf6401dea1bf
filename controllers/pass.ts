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
  const levels = [...new Set(options.reconcilers.map((r) => r.order))].sort((a, b) => a - b);
  for (const level of levels) {
    const atLevel = options.reconcilers.filter((r) => r.order === level);
    const jobs: { key: string; source?: SourcePosition; run: () => Promise<ResourcePlan[]> }[] = [];
    for (const doc of options.documents) {
      const r = reconcilerFor(atLevel, doc.kind);
      if (r !== undefined) {
        jobs.push({ key: resourceKey(doc), source: doc.source, run: async () => [await r.plan(doc, ctx)] });
      }
    }
    if (options.complete) {
      for (const r of atLevel) {
        if (r.planOrphans !== undefined) {
          const orphans = r.planOrphans.bind(r);
          jobs.push({
            key: sweepKey(r.kind),
            run: async () => guardOrphanPlans(await orphans(ctx), ctx.ownerId),
          });
        }
      }
    }
    await pool(jobs, options.concurrency ?? 4, async (job) => {
      options.signal.throwIfAborted();
      try {
        for (const plan of await job.run()) {
          if (apply && plan.changes.length > 0) {
            await plan.apply(options.signal);
            options.logger.info("applied", { resource: plan.key, changes: plan.changes.length });
          }
          plans.push(plan);
        }
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
  return { plans, failures };
}
