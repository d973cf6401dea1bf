import { guardOrphanPlans } from "./orphan-guard.ts";
import { AwsError } from "./aws/errors.ts";
import { isNotLeaderError } from "./leader-election/term.ts";
import type { Clock } from "./clock.ts";
import type { ConvergenceTracker } from "./convergence.ts";
import { deadline, DeadlineExceededError, DEFAULT_RECONCILE_TIMEOUT_MS } from "./deadline.ts";
import type { DeletionHolds } from "./deletion-holds.ts";
import { specsChangedSince, sweepStillValid, type DesiredState } from "./desired-state.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics, ReconcileResult } from "./metrics.ts";
import {
  DependencyNotReadyError,
  StalePlanError,
  sweepKey,
  TerminalError,
  type Change,
  type Detach,
  type ReconcileContext,
  type Reconciler,
} from "./reconciler.ts";
import type { SpecSnapshot } from "./spec-source.ts";
import type { ResourceActivity } from "./status-activity.ts";
import type { StatusStore } from "./status.ts";
import { applyLive, planForWrite, planOrphansForWrite, type TickReads } from "./tick-reads.ts";
import type { WorkQueue } from "./work-queue.ts";

export interface KeyReconcilerOptions {
  readonly state: DesiredState;
  readonly status: StatusStore;
  /** The changes, targets and decisions `/status` shows beside the conditions. */
  readonly activity: ResourceActivity;
  readonly queue: WorkQueue;
  readonly metrics: ControllerMetrics;
  readonly convergence: ConvergenceTracker;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly ownerId: string;
  /** The prune guard: a sweep's deletions pass it before any is applied. */
  readonly holds: DeletionHolds;
  /** How long one reconcile (observe, plan, apply) may take before its AWS calls are aborted. Default 5 min. */
  readonly reconcileTimeoutMs?: number | undefined;
  /** Aborted at shutdown: no plan is applied any more. */
  readonly stopping: AbortSignal;
  /** Runs a reconciler's long wait beside the queue (`ReconcileContext.detach`), until shutdown or the term's end. */
  readonly detach: (
    key: string,
    what: string,
    work: (signal: AbortSignal) => Promise<void>,
    term: AbortSignal,
    logger: Logger,
  ) => void;
  /** The tick's shared read cache: plans read from it, and a plan that writes is made again from live reads. */
  readonly reads?: TickReads | undefined;
}

/**
 * One reconcile of one key: re-read AWS through the kind's reconciler, apply its plan, record the outcome (status,
 * metrics, convergence, drift) and, on failure, how the key is retried.
 */
export class KeyReconciler {
  private readonly o: KeyReconcilerOptions;

  constructor(options: KeyReconcilerOptions) {
    this.o = options;
  }

  /**
   * `signal` stops the reads and writes in flight (shutting down timed out, or the leadership term ended); `term`, when
   * aborted, also keeps a plan from being applied.
   */
  async reconcile(key: string, signal: AbortSignal, term: AbortSignal): Promise<void> {
    // Every reconcile has a deadline, and its signal reaches every SDK call: a hung endpoint holds a worker for at
    // most this long, then the key goes back to its backoff and /status says it timed out.
    const limit = deadline(
      signal,
      this.o.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS,
      `reconcile of ${key}`,
      this.o.clock,
    );
    try {
      await this.reconcileWithin(key, signal, limit.signal, () => limit.expired, term);
    } finally {
      limit.dispose();
    }
  }

  /** `outer` is the worker's signal; `signal` is it under the reconcile's deadline, which `expired` says ran out. */
  private async reconcileWithin(
    key: string,
    outer: AbortSignal,
    signal: AbortSignal,
    expired: () => boolean,
    term: AbortSignal,
  ): Promise<void> {
    const { state, status, activity, queue, metrics, clock } = this.o;
    const kind = key.slice(0, key.indexOf("/"));
    const reconciler = state.reconcilerOf(kind);
    const logger = this.o.logger.child({ resource: key });
    if (reconciler === undefined) {
      logger.warn("no reconciler for kind; skipped", { kind });
      return;
    }
    const started = clock.now();
    // The specs this reconcile works from: a read that lands while it runs swaps `state.snapshot`, not these.
    const snapshot = state.snapshot;
    // A context per reconcile, over the snapshot it started with: what a reconciler shares through `PassMemo`
    // (keyed by the context) lives as long as this one reconcile.
    const ctx: ReconcileContext = {
      signal,
      logger,
      ownerId: this.o.ownerId,
      documents: snapshot.documents,
      detach: ((what, work) => this.o.detach(key, what, work, term, logger)) satisfies Detach,
    };
    const seconds = (): number => (clock.now() - started) / 1000;
    const mayApply = (): string | undefined =>
      this.o.stopping.aborted ? "shutting down" : term.aborted ? "leadership lost" : undefined;
    let generation: string | undefined;
    let applied = 0;
    try {
      if (key === sweepKey(kind)) {
        const swept = await this.sweep(key, kind, reconciler, snapshot, ctx, mayApply);
        if (swept === undefined) return;
        applied = swept;
      } else {
        const doc = state.document(key);
        // A spec that is gone: its kind's sweep removes what it made, when every spec file is valid.
        if (doc === undefined) {
          queue.forget(key);
          return;
        }
        generation = doc.generation;
        const plan = await planForWrite(this.o.reads, ctx, (c) => reconciler.plan(doc, c));
        if (plan.targets !== undefined) {
          activity.setTargets(
            key,
            plan.targets.map((t) => ({ id: t.id, address: t.address ?? null })),
          );
        }
        if (plan.changes.length > 0) {
          const stop = mayApply();
          if (stop !== undefined) return logger.info(`${stop}; plan not applied`);
          await applyLive(this.o.reads, () => plan.apply(signal));
          applied = plan.changes.length;
          // Drift: the spec converged before and is unchanged, and nothing this key watches was seen to change
          // (a task starting or a group scaling is the workload moving, not drift): someone else changed AWS.
          const drift =
            plan.changes.some((c) => c.bookkeeping !== true) &&
            status.synced(key) &&
            status.observedGeneration(key) === generation &&
            this.o.convergence.unprompted(key, started);
          if (drift) metrics.driftCorrectedFor(kind);
          logger.info(drift ? "drift corrected" : "applied", {
            generation,
            changes: plan.changes.map((c) => `${c.action} ${c.target}`),
          });
          activity.changed(key, plan.changes);
          activity.decided(key, drift ? "drift-corrected" : "applied", changeList(plan.changes));
        } else {
          logger.debug("in sync", { generation });
        }
      }
    } catch (error) {
      if (outer.aborted) return;
      const reason: unknown = signal.reason;
      const err =
        expired() && reason instanceof DeadlineExceededError
          ? new DeadlineExceededError(`reconcile of ${key}`, reason.ms, { cause: error })
          : error;
      this.failed(key, kind, err, seconds(), logger);
      return;
    }
    queue.forget(key);
    status.record(key, { result: "success", generation, changes: applied });
    metrics.reconciled(kind, "success", seconds());
    this.o.convergence.converged(key, started);
  }

  /**
   * A kind's orphan sweep: plans from live reads, passes the orphan guard and the prune guard, and applies each plan
   * while the specs it was planned from are still the specs. The changes applied, or undefined when the sweep ended
   * without finishing (requeued as stale, shutting down, leadership lost): nothing is recorded as done then.
   */
  private async sweep(
    key: string,
    kind: string,
    reconciler: Reconciler,
    snapshot: SpecSnapshot,
    ctx: ReconcileContext,
    mayApply: () => string | undefined,
  ): Promise<number | undefined> {
    const { state, activity, queue } = this.o;
    const { signal, logger } = ctx;
    let applied = 0;
    if (!snapshot.complete || reconciler.planOrphans === undefined) return undefined;
    const planOrphans = reconciler.planOrphans.bind(reconciler);
    // The sweep's plans pass the orphan guard (the default owner id removes no orphan) inside the planning, so a
    // sweep it keeps from removing anything plans no write and is not planned again from live reads; then the
    // prune guard, over the plans that would be applied: an emptied or shrunk spec set holds them. (While it
    // holds, each sweep plans from live reads again: a rare state, and the guard must judge what AWS holds now.)
    // The guard judges the spec set the sweep was planned from, never a later read; and a sweep whose specs
    // changed since it started (a spec came back, left or was edited, or a file turned invalid) is neither judged
    // nor applied: what it found orphaned may be managed again. It is made again from the new read.
    const planned = await planOrphansForWrite(this.o.reads, ctx, async (c) =>
      guardOrphanPlans(await planOrphans(c), ctx.ownerId),
    );
    const requeuedAsStale = (orphan?: string): boolean => {
      if (sweepStillValid(snapshot, state.snapshot)) return false;
      queue.add(key);
      logger.info("the specs changed while the sweep ran; swept again from the new read", { orphan });
      return true;
    };
    if (requeuedAsStale()) return undefined;
    const plans = this.o.holds.guard(kind, planned, snapshot);
    // A deletion can wait inside a writer before it is sent (Route 53's zone batch, Cloud Map's operations): a
    // read that makes the sweep stale aborts what has not gone out yet.
    const stale = new AbortController();
    const stopWatching = state.onSwap(() => {
      if (!sweepStillValid(snapshot, state.snapshot))
        stale.abort(new StalePlanError("the specs changed while the sweep ran"));
    });
    const applySignal = AbortSignal.any([signal, stale.signal]);
    let sent = false;
    try {
      for (const plan of plans) {
        if (plan.changes.length === 0 || plan.held !== undefined) continue;
        const stop = mayApply();
        if (stop !== undefined) {
          logger.info(`${stop}; plan not applied`, { orphan: plan.key });
          return undefined;
        }
        // Each deletion awaits AWS: a read may land between two of them.
        if (requeuedAsStale(plan.key)) return undefined;
        sent = true;
        try {
          await applyLive(this.o.reads, () => plan.apply(applySignal));
        } catch (error) {
          if (!stale.signal.aborted || signal.aborted) throw error;
          // What was still waiting was not sent; what had gone out is what the wake below puts back.
          requeuedAsStale(plan.key);
          return undefined;
        }
        applied += plan.changes.length;
        logger.info("orphan removed", { orphan: plan.key, changes: plan.changes.length });
        activity.decided(key, "orphan-removed", `${plan.key}: ${changeList(plan.changes)}`);
      }
    } finally {
      stopWatching();
      // A spec that came back (or changed) while its objects were being deleted may have been reconciled before
      // the delete landed, and seen nothing to do: it is reconciled again now.
      if (sent) for (const restored of specsChangedSince(snapshot, state.snapshot)) queue.add(restored);
    }
    return applied;
  }

  private failed(key: string, kind: string, error: unknown, seconds: number, logger: Logger): void {
    const { queue, status, metrics } = this.o;
    const err = error instanceof Error ? error : new Error(String(error));
    if (hasInChain(err, isNotLeaderError)) {
      // This replica does not lead (any more): the work is dropped, not retried. The next leader resyncs every key.
      queue.forget(key);
      logger.info("not leading; the work is dropped", { error: err.message });
      return;
    }
    let result: ReconcileResult;
    let reason: string;
    if (err instanceof DeadlineExceededError) {
      result = "error";
      reason = "DeadlineExceeded";
      const retryInMs = queue.backoffOf(key);
      queue.addRateLimited(key);
      logger.warn("reconcile timed out; retrying", { error: err, cause: err.cause, retryInMs });
    } else if (hasInChain(err, (e) => e instanceof DependencyNotReadyError)) {
      result = "requeue";
      reason = "DependencyNotReady";
      queue.addRateLimited(key);
      logger.info("waiting for a dependency", { error: err, retryInMs: queue.backoffOf(key) });
    } else if (isTerminal(err)) {
      result = "terminal";
      reason = err instanceof AwsError ? `Aws${pascal(err.errorClass)}` : "Terminal";
      queue.forget(key);
      logger.error("reconcile failed; no backoff retries, tried again at the next resync or spec change", {
        error: err,
      });
    } else {
      result = "error";
      reason = err instanceof AwsError ? `Aws${pascal(err.errorClass)}` : "ReconcileError";
      const retryInMs = queue.backoffOf(key);
      queue.addRateLimited(key);
      logger.warn("reconcile failed; retrying", { error: err, retryInMs, retries: queue.retries(key) });
    }
    status.record(key, { result, reason, message: err.message });
    this.o.activity.decided(key, result === "requeue" ? "waiting" : "failed", `${reason}: ${err.message}`);
    metrics.reconciled(kind, result, seconds);
  }
}

/** `create instance a, delete instance b`, or the first ten and how many more. */
function changeList(changes: readonly Change[]): string {
  const shown = changes.slice(0, 10).map((c) => `${c.action} ${c.target}`);
  return (
    shown.join(", ") + (changes.length > shown.length ? ` and ${changes.length - shown.length} more` : "")
  );
}

function isTerminal(err: Error): boolean {
  return hasInChain(
    err,
    (e) =>
      e instanceof TerminalError ||
      (e instanceof AwsError && (e.errorClass === "invalid" || e.errorClass === "terminal")),
  );
}

function hasInChain(err: unknown, test: (e: unknown) => boolean): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (test(e)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

function pascal(s: string): string {
  return s
    .split("-")
    .map((w) => (w[0] ?? "").toUpperCase() + w.slice(1))
    .join("");
}
