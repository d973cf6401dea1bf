import { getEventListeners } from "node:events";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createActor, type Actor } from "xstate";
import { AwsError } from "./aws/errors.ts";
import { systemClock, type Clock } from "./clock.ts";
import { EventsQueue } from "./events-queue.ts";
import { HttpServer } from "./http-server.ts";
import { Informer, parseWatchKey, WatchIndex, type WatchLister } from "./informers.ts";
import { lifecycleEffects } from "./lifecycle-effects.ts";
import { controllerLifecycle, type LifecyclePhase } from "./lifecycle.ts";
import { deadline, DeadlineExceededError, DEFAULT_RECONCILE_TIMEOUT_MS, type Deadline } from "./deadline.ts";
import { DEFAULT_PRUNE_GUARD, guardDeletions, markHeld, type PruneGuardPolicy } from "./prune-guard.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics, ReconcileResult } from "./metrics.ts";
import {
  DependencyNotReadyError,
  sweepKey,
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "./reconciler.ts";
import { resourceKey, type KindDefinition, type SpecDocument } from "./spec/document.ts";
import { formatDiagnostic } from "./spec/load.ts";
import { SpecWatcher, type SpecChanges, type SpecSnapshot } from "./spec-watcher.ts";
import { StatusStore } from "./status.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

export interface ControllerOptions {
  readonly specDir: string;
  readonly kinds: readonly KindDefinition[];
  readonly reconcilers: readonly Reconciler[];
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly ownerId: string;
  readonly environment?: string | undefined;
  /** How often the informers list and the spec directory is re-read. Default 30 s. */
  readonly intervalMs?: number;
  /** How often every key is enqueued. Default: `intervalMs`. */
  readonly resyncIntervalMs?: number;
  /** `/metrics`, `/healthz`, `/readyz`, `/status`. Default `:9464`. */
  readonly bindAddress?: string;
  /** Lists the watched AWS state; without one, only the resync and events wake keys. */
  readonly lister?: WatchLister | undefined;
  /** An SQS queue fed by EventBridge. */
  readonly events?:
    { readonly sqs: SQSClient; readonly queueUrl: string; readonly waitSeconds?: number } | undefined;
  /** Reconciles at once (never two of one key). Default 4. */
  readonly workers?: number;
  /** When a sweep's deletions are held (see prune-guard.ts). Default `DEFAULT_PRUNE_GUARD`. */
  readonly pruneGuard?: PruneGuardPolicy | undefined;
  /** How long one reconcile (observe, plan, apply) may take before its AWS calls are aborted. Default 5 min. */
  readonly reconcileTimeoutMs?: number;
  /** After SIGTERM, how long the writes in flight may take before they are aborted. Default 25 s. */
  readonly drainTimeoutMs?: number;
  readonly debounceMs?: number;
  readonly queue?: Omit<WorkQueueOptions, "clock" | "observer">;
  readonly clock?: Clock;
}

type WakeSource = "spec" | "informer" | "event";

/**
 * The level-triggered controller: keys in a work queue, woken by spec changes, informers, events and a periodic
 * resync; each reconcile re-reads AWS through the kind's reconciler and applies its plan.
 */
export class Controller {
  readonly status: StatusStore;
  readonly queue: WorkQueue;
  private readonly options: ControllerOptions;
  private readonly logger: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly resyncIntervalMs: number;
  private readonly watcher: SpecWatcher;
  private readonly http: HttpServer;
  private readonly informer: Informer | undefined;
  private readonly events: EventsQueue | undefined;
  /** Aborted on STOP: the loops end, no plan is applied any more. */
  private readonly stopping = new AbortController();
  /** Work reconcilers detached from their keys (drains), until it settles. */
  private readonly detached = new Set<Promise<void>>();
  /** Aborted only when the drain times out: the signal of reads and writes in flight. */
  private readonly work = new AbortController();
  private readonly actor: Actor<typeof controllerLifecycle>;
  private documents = new Map<string, SpecDocument>();
  private snapshot: SpecSnapshot = { documents: [], complete: false, diagnostics: [], kept: [] };
  private index = new WatchIndex();
  private readonly pending = new Map<string, { at: number; source: WakeSource }>();
  /** Kind -> the prune guard's message, while it holds that kind's deletions (bounded by the kinds). */
  private readonly holds = new Map<string, string>();
  private readonly background: Promise<void>[] = [];
  private initialKeys = new Set<string>();
  private initialDone: (() => void) | undefined;
  private lastDiagnostics = "";

  constructor(options: ControllerOptions) {
    this.options = options;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 30_000;
    this.resyncIntervalMs = options.resyncIntervalMs ?? this.intervalMs;
    this.status = new StatusStore(() => new Date(this.clock.now()));
    this.queue = new WorkQueue({ ...options.queue, clock: this.clock, observer: this.metrics });
    this.metrics.observeQueue(this.queue);
    this.watcher = new SpecWatcher({
      dir: options.specDir,
      kinds: options.kinds,
      environment: options.environment,
      logger: this.logger,
      debounceMs: options.debounceMs,
      onReload: (snapshot, changes) => this.applySnapshot(snapshot, changes),
    });
    this.http = new HttpServer({
      bindAddress: options.bindAddress ?? ":9464",
      registry: this.metrics.registry,
      alive: () => this.phase !== "failed",
      ready: () => ({ ready: this.phase === "ready", phase: this.phase }),
      status: () => ({
        phase: this.phase,
        // Kind -> why the prune guard holds its deletions; each also a DeletionHeld condition on `Kind/*`.
        deletionsHeld: Object.fromEntries(this.holds),
        resources: this.status.list(),
      }),
    });
    if (options.lister !== undefined) {
      this.informer = new Informer({
        lister: options.lister,
        logger: this.logger,
        onChange: (watchKeys) => this.wake(watchKeys, "informer", this.clock.now()),
      });
    }
    if (options.events !== undefined) {
      this.events = new EventsQueue({
        sqs: options.events.sqs,
        queueUrl: options.events.queueUrl,
        waitSeconds: options.events.waitSeconds,
        logger: this.logger,
        clock: this.clock,
        onKeys: (watchKeys, at) => this.wake(watchKeys, "event", at),
      });
    }
    this.actor = createActor(
      controllerLifecycle.provide({
        actors: lifecycleEffects({
          loadSpecs: (signal) => this.startUp(signal),
          initialSync: (signal) => this.initialSync(signal),
          drain: () => this.drain(),
        }),
      }),
    );
    let phase: string | undefined;
    this.actor.subscribe((s) => {
      if (s.value !== phase) {
        phase = String(s.value);
        this.logger.info("lifecycle", { phase, ...(s.context.error ? { error: s.context.error } : {}) });
      }
    });
  }

  get phase(): LifecyclePhase {
    return this.actor.getSnapshot().value as LifecyclePhase;
  }

  /** The port `/metrics` is served on (useful with port 0). */
  get port(): number {
    return this.http.port;
  }

  /** Starts, and resolves once ready (specs loaded, every key reconciled once). */
  async start(): Promise<void> {
    this.actor.start();
    const s = await waitForState(this.actor, (p) => p !== "starting" && p !== "syncing");
    if (s === "failed") {
      // What did start (the server, the loops) is stopped, so that the process can exit.
      await this.drain();
      throw new Error(this.actor.getSnapshot().context.error ?? "controller failed to start");
    }
  }

  /** Stops taking work, lets the writes in flight finish, closes the server. */
  async stop(): Promise<void> {
    if (this.actor.getSnapshot().status === "active") this.actor.send({ type: "STOP" });
    await waitForState(this.actor, (p) => p === "stopped" || p === "failed");
  }

  private async startUp(signal: AbortSignal): Promise<void> {
    await this.http.listen();
    this.logger.info("serving", { address: this.options.bindAddress ?? ":9464", port: this.http.port });
    const { snapshot, changes } = await this.watcher.load();
    signal.throwIfAborted();
    this.initialKeys = new Set([...changes.changed, ...this.sweepKeys(snapshot)]);
    this.applySnapshot(snapshot, changes);
    this.enqueueSweeps();
    this.watcher.watch();
    for (let i = 0; i < (this.options.workers ?? 4); i++) this.background.push(this.worker());
    this.background.push(this.loop(this.intervalMs, () => this.poll()));
    if (this.resyncIntervalMs !== this.intervalMs) {
      this.background.push(this.loop(this.resyncIntervalMs, () => this.resync()));
    }
    if (this.events !== undefined) this.background.push(this.events.run(this.stopping.signal));
    // The informers' first listing is only their baseline.
    void this.informer?.poll(this.index.watchKeys(), this.stopping.signal).catch(() => undefined);
  }

  private initialSync(signal: AbortSignal): Promise<void> {
    if (this.initialKeys.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      this.initialDone = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private async drain(): Promise<void> {
    this.stopping.abort();
    this.watcher.close();
    const inFlight = this.queue.inFlight;
    if (inFlight > 0) this.logger.info("draining", { inFlight });
    const timeout = setTimeout(() => {
      this.logger.warn("drain timed out; aborting the writes in flight", { inFlight: this.queue.inFlight });
      this.work.abort(new Error("shutdown drain timed out"));
    }, this.options.drainTimeoutMs ?? 25_000);
    try {
      await this.queue.shutDown();
      await Promise.allSettled([...this.background, ...this.detached]);
    } finally {
      clearTimeout(timeout);
      await this.http.close();
    }
  }

  private async loop(ms: number, tick: () => Promise<void>): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(ms, signal);
        await tick();
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn("periodic work failed", { error });
      }
    }
  }

  /** Once an interval: re-read the specs, list the watched AWS state, and (when due) enqueue everything. */
  private async poll(): Promise<void> {
    const { snapshot, changes } = await this.watcher.load();
    if (this.stopping.signal.aborted) return;
    this.applySnapshot(snapshot, changes);
    await this.informer?.poll(this.index.watchKeys(), this.stopping.signal);
    if (this.resyncIntervalMs === this.intervalMs) await this.resync();
  }

  private async resync(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const keys = [...this.documents.keys()];
    for (const key of keys) this.queue.add(key);
    this.enqueueSweeps();
    this.logger.debug("resync", { resources: keys.length });
  }

  private sweepKeys(snapshot: SpecSnapshot): string[] {
    if (!snapshot.complete) return [];
    return this.options.reconcilers.filter((r) => r.planOrphans !== undefined).map((r) => sweepKey(r.kind));
  }

  private enqueueSweeps(): void {
    for (const key of this.sweepKeys(this.snapshot)) this.queue.add(key);
  }

  /** Takes a new read of the specs: wakes what changed, and the sweep of kinds that lost a spec. */
  private applySnapshot(snapshot: SpecSnapshot, changes: SpecChanges): void {
    if (this.stopping.signal.aborted) return;
    const wasComplete = this.snapshot.complete;
    this.snapshot = snapshot;
    this.documents = new Map(snapshot.documents.map((d) => [resourceKey(d), d]));
    const now = this.clock.now();
    this.retainLiveKeys();
    const text = snapshot.diagnostics.map(formatDiagnostic).join("\n");
    this.metrics.specsRead(snapshot.diagnostics.length, text !== this.lastDiagnostics);
    if (text !== this.lastDiagnostics) {
      this.lastDiagnostics = text;
      for (const d of snapshot.diagnostics) {
        this.logger.warn("invalid spec; what it managed is left as it is", {
          diagnostic: formatDiagnostic(d),
        });
      }
      if (snapshot.diagnostics.length === 0) this.logger.info("every spec file is valid");
    }
    const kept = new Set(snapshot.kept);
    for (const key of this.documents.keys()) {
      const doc = this.documents.get(key);
      if (kept.has(key) && doc !== undefined) {
        const problems = snapshot.diagnostics.filter((d) => d.file === doc.source.file).map(formatDiagnostic);
        this.status.invalid(key, `file is invalid; keeping the last valid spec: ${problems.join("; ")}`);
      } else {
        this.status.valid(key);
      }
    }
    const counts = new Map<string, number>();
    for (const doc of snapshot.documents) counts.set(doc.kind, (counts.get(doc.kind) ?? 0) + 1);
    this.metrics.setManagedObjects(
      counts,
      this.options.kinds.map((k) => k.kind),
    );
    this.index = new WatchIndex(
      snapshot.documents.map((doc) => ({
        resource: resourceKey(doc),
        watches: this.reconcilerOf(doc.kind)?.watches?.(doc) ?? [],
      })),
    );
    for (const key of changes.changed) this.enqueue(key, "spec", now);
    // A watch key that names no AWS state (such as `taskdef:FAMILY`) groups specs that are reconciled together: an
    // edit to one wakes the others, since one of them may be the one that applies the group's changes.
    const groups = changes.changed.flatMap((key) => {
      const doc = this.documents.get(key);
      const watches = doc === undefined ? [] : (this.reconcilerOf(doc.kind)?.watches?.(doc) ?? []);
      return watches.filter((w) => parseWatchKey(w) === undefined);
    });
    const changedKeys = new Set(changes.changed);
    for (const key of this.index.resourcesOf(groups)) {
      if (!changedKeys.has(key)) this.enqueue(key, "spec", now);
    }
    // While the prune guard holds a kind's deletions, every read sweeps it again: restored specs release it at once.
    for (const kind of this.holds.keys()) this.queue.add(sweepKey(kind));
    if (snapshot.complete && !wasComplete) {
      // Specs removed while a file was invalid were not swept then.
      for (const key of this.sweepKeys(snapshot)) this.enqueue(key, "spec", now);
    }
    const lostKinds = new Set(changes.removed.map((k) => k.slice(0, k.indexOf("/"))));
    for (const kind of lostKinds) {
      if (!snapshot.complete) {
        this.logger.warn(
          "spec removed while another file is invalid; nothing is deleted until every file is valid",
          {
            kind,
          },
        );
        continue;
      }
      if (this.reconcilerOf(kind)?.planOrphans !== undefined) this.enqueue(sweepKey(kind), "spec", now);
    }
  }

  /**
   * Per-key state follows the spec set: every structure keyed by resource holds exactly the live keys (the specs and
   * the kinds' sweeps), so the controller's memory grows with the specs, never with time.
   */
  private retainLiveKeys(): void {
    const live = new Set(this.documents.keys());
    for (const [key, doc] of this.documents) this.status.track(key, doc.generation);
    for (const r of this.options.reconcilers) {
      if (r.planOrphans === undefined) continue;
      live.add(sweepKey(r.kind));
      this.status.track(sweepKey(r.kind), undefined);
    }
    this.status.retain(live);
    this.queue.retain(live);
    for (const key of [...this.pending.keys()]) if (!live.has(key)) this.pending.delete(key);
  }

  /**
   * Passes a sweep's plans through the prune guard. A hold (or its end) is logged once, shown on the sweep's status
   * as a DeletionHeld condition, and counted in `ecs_log_operator_deletions_held`; while held, every new read of the
   * specs sweeps again, so a restored spec set releases it at once.
   */
  private guardSweep(kind: string, plans: ResourcePlan[]): ResourcePlan[] {
    const hold = guardDeletions(
      {
        kind,
        plans,
        liveOfKind: this.snapshot.documents.filter((d) => d.kind === kind).length,
        liveSpecs: this.snapshot.documents.length,
      },
      this.options.pruneGuard ?? DEFAULT_PRUNE_GUARD,
    );
    const key = sweepKey(kind);
    const before = this.holds.get(kind);
    this.metrics.deletionsHeld(kind, hold?.resources.length ?? 0);
    if (hold === undefined) {
      if (before !== undefined) {
        this.holds.delete(kind);
        this.status.released(key);
        this.logger.info("deletions no longer held", { kind });
      }
      return plans;
    }
    if (before !== hold.message) {
      this.holds.set(kind, hold.message);
      this.status.held(key, hold.reason, hold.message);
      this.logger.warn("deletions held", {
        kind,
        reason: hold.reason,
        resources: hold.resources,
        message: hold.message,
      });
    }
    return markHeld(plans, hold);
  }

  /** What each per-key structure holds, and the listeners on the process-lifetime signals: for tests and the soak. */
  keysHeld(): {
    status: string[];
    pending: string[];
    queue: ReturnType<WorkQueue["keysHeld"]>;
    detached: number;
    signalListeners: { stopping: number; work: number };
  } {
    return {
      status: this.status.keys(),
      pending: [...this.pending.keys()].sort(),
      queue: this.queue.keysHeld(),
      detached: this.detached.size,
      signalListeners: {
        stopping: getEventListeners(this.stopping.signal, "abort").length,
        work: getEventListeners(this.work.signal, "abort").length,
      },
    };
  }

  /** Wakes the resources that watch any of these keys. */
  private wake(watchKeys: readonly string[], source: WakeSource, at: number): void {
    if (this.stopping.signal.aborted) return;
    const resources = this.index.resourcesOf(watchKeys);
    for (const key of resources) this.enqueue(key, source, at);
    if (resources.length > 0 || source === "event") {
      this.logger.info("woken", { source, watches: watchKeys, resources });
    }
  }

  private enqueue(key: string, source: WakeSource, at: number): void {
    const p = this.pending.get(key);
    if (p === undefined || at < p.at) this.pending.set(key, { at, source });
    if (source === "spec") this.logger.info("spec changed", { resource: key });
    this.queue.add(key);
  }

  private reconcilerOf(kind: string): Reconciler | undefined {
    return this.options.reconcilers.find((r) => r.kind === kind);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcile(key);
      } catch (error) {
        this.logger.error("reconcile crashed", { resource: key, error });
      } finally {
        this.queue.done(key);
        if (this.initialKeys.delete(key) && this.initialKeys.size === 0) this.initialDone?.();
      }
    }
  }

  /** One reconcile of one key: re-read AWS through the reconciler, apply its plan, record the outcome. */
  private async reconcile(key: string): Promise<void> {
    // Every reconcile has a deadline, and its signal reaches every SDK call: a hung endpoint holds a worker for at
    // most this long, then the key goes back to its backoff and /status says it timed out.
    const limit = deadline(
      this.work.signal,
      this.options.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS,
      `reconcile of ${key}`,
      this.clock,
    );
    try {
      await this.reconcileWithin(key, limit);
    } finally {
      limit.dispose();
    }
  }

  private async reconcileWithin(key: string, limit: Deadline): Promise<void> {
    const slash = key.indexOf("/");
    const kind = key.slice(0, slash);
    const reconciler = this.reconcilerOf(kind);
    const logger = this.logger.child({ resource: key });
    if (reconciler === undefined) {
      logger.warn("no reconciler for kind; skipped", { kind });
      return;
    }
    const started = this.clock.now();
    const ctx: ReconcileContext = {
      signal: limit.signal,
      logger,
      ownerId: this.options.ownerId,
      documents: this.snapshot.documents,
      detach: (what, work) => this.detach(key, what, work, logger),
    };
    const seconds = (): number => (this.clock.now() - started) / 1000;
    let generation: string | undefined;
    let applied = 0;
    try {
      if (key === sweepKey(kind)) {
        if (!this.snapshot.complete || reconciler.planOrphans === undefined) return;
        for (const plan of this.guardSweep(kind, await reconciler.planOrphans(ctx))) {
          if (plan.changes.length === 0 || plan.held !== undefined) continue;
          if (this.stopping.signal.aborted)
            return logger.info("shutting down; plan not applied", { orphan: plan.key });
          await plan.apply(limit.signal);
          applied += plan.changes.length;
          logger.info("orphan removed", { orphan: plan.key, changes: plan.changes.length });
        }
      } else {
        const doc = this.documents.get(key);
        // A spec that is gone: its kind's sweep removes what it made, when every spec file is valid.
        if (doc === undefined) {
          this.queue.forget(key);
          return;
        }
        generation = doc.generation;
        const plan = await reconciler.plan(doc, ctx);
        if (plan.changes.length > 0) {
          if (this.stopping.signal.aborted) return logger.info("shutting down; plan not applied");
          await plan.apply(limit.signal);
          applied = plan.changes.length;
          // Drift: the spec converged before and is unchanged, and nothing this key watches was seen to change
          // (a task starting or a group scaling is the workload moving, not drift): someone else changed AWS.
          const woken = this.pending.get(key);
          const drift =
            this.status.synced(key) &&
            this.status.observedGeneration(key) === generation &&
            (woken === undefined || woken.at > started);
          if (drift) this.metrics.driftCorrectedFor(kind);
          logger.info(drift ? "drift corrected" : "applied", {
            generation,
            changes: plan.changes.map((c) => `${c.action} ${c.target}`),
          });
        } else {
          logger.debug("in sync", { generation });
        }
      }
    } catch (error) {
      if (this.work.signal.aborted) return;
      const reason: unknown = limit.signal.reason;
      const err =
        limit.expired && reason instanceof DeadlineExceededError
          ? new DeadlineExceededError(`reconcile of ${key}`, reason.ms, { cause: error })
          : error;
      this.failed(key, kind, err, seconds(), logger);
      return;
    }
    this.queue.forget(key);
    this.status.record(key, { result: "success", generation, changes: applied });
    this.metrics.reconciled(kind, "success", seconds());
    const p = this.pending.get(key);
    if (p !== undefined && p.at <= started) {
      this.pending.delete(key);
      this.metrics.converged(p.source, (this.clock.now() - p.at) / 1000);
    }
  }

  /**
   * Runs a reconciler's long wait beside the queue (see `ReconcileContext.detach`). Shutdown aborts it and waits for
   * it to unwind; a failure retries the resource with backoff, whose next reconcile starts the work again from what
   * AWS shows.
   */
  private detach(
    key: string,
    what: string,
    work: (signal: AbortSignal) => Promise<void>,
    logger: Logger,
  ): void {
    const signal = this.stopping.signal;
    if (signal.aborted) return;
    logger.info("detached", { work: what });
    const done: Promise<void> = work(signal).then(
      () => logger.info("detached work done", { work: what }),
      (error: unknown) => {
        if (signal.aborted) return logger.info("detached work abandoned at shutdown", { work: what });
        const err = error instanceof Error ? error : new Error(String(error));
        logger.warn("detached work failed; retrying the resource", { work: what, error: err });
        this.status.record(key, {
          result: "error",
          reason: "DetachedWorkFailed",
          message: `${what}: ${err.message}`,
        });
        this.queue.addRateLimited(key);
      },
    );
    this.detached.add(done);
    void done.finally(() => this.detached.delete(done));
  }

  private failed(key: string, kind: string, error: unknown, seconds: number, logger: Logger): void {
    const err = error instanceof Error ? error : new Error(String(error));
    let result: ReconcileResult;
    let reason: string;
    if (err instanceof DeadlineExceededError) {
      result = "error";
      reason = "DeadlineExceeded";
      const retryInMs = this.queue.backoffOf(key);
      this.queue.addRateLimited(key);
      logger.warn("reconcile timed out; retrying", { error: err, cause: err.cause, retryInMs });
    } else if (hasInChain(err, (e) => e instanceof DependencyNotReadyError)) {
      result = "requeue";
      reason = "DependencyNotReady";
      this.queue.addRateLimited(key);
      logger.info("waiting for a dependency", { error: err, retryInMs: this.queue.backoffOf(key) });
    } else if (isTerminal(err)) {
      result = "terminal";
      reason = err instanceof AwsError ? `Aws${pascal(err.errorClass)}` : "Terminal";
      this.queue.forget(key);
      logger.error("reconcile failed; no backoff retries, tried again at the next resync or spec change", {
        error: err,
      });
    } else {
      result = "error";
      reason = err instanceof AwsError ? `Aws${pascal(err.errorClass)}` : "ReconcileError";
      const retryInMs = this.queue.backoffOf(key);
      this.queue.addRateLimited(key);
      logger.warn("reconcile failed; retrying", { error: err, retryInMs, retries: this.queue.retries(key) });
    }
    this.status.record(key, { result, reason, message: err.message });
    this.metrics.reconciled(kind, result, seconds);
  }
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

function waitForState(
  actor: Actor<typeof controllerLifecycle>,
  done: (phase: LifecyclePhase) => boolean,
): Promise<LifecyclePhase> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const phase = actor.getSnapshot().value as LifecyclePhase;
      if (!done(phase)) return false;
      resolve(phase);
      return true;
    };
    if (check()) return;
    const sub = actor.subscribe(() => {
      if (check()) sub.unsubscribe();
    });
  });
}
