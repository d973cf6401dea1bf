import { getEventListeners } from "node:events";
import { createActor, type Actor } from "xstate";
import { systemClock, type Clock } from "./clock.ts";
import { ConvergenceTracker, type WakeSource } from "./convergence.ts";
import { DeletionHolds } from "./deletion-holds.ts";
import { DesiredState } from "./desired-state.ts";
import type { WatchEvents } from "./events-queue.ts";
import type { WatchPoller } from "./informers.ts";
import { alwaysLeading, type LeadershipGate } from "./leadership.ts";
import { lifecycleEffects } from "./lifecycle-effects.ts";
import { controllerLifecycle, type LifecyclePhase } from "./lifecycle.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./metrics.ts";
import type { PruneGuardPolicy } from "./prune-guard.ts";
import type { ReadinessCheck } from "./readiness.ts";
import { KeyReconciler } from "./reconcile-key.ts";
import type { Reconciler } from "./reconciler.ts";
import { UnusableSpecsError, type SpecRead, type SpecSource } from "./spec-source.ts";
import { SpecReport } from "./spec-report.ts";
import { ResourceActivity } from "./status-activity.ts";
import { buildStatusDocument, type StatusDocument, type WatchedServiceStatus } from "./status-model.ts";
import { StatusStore } from "./status.ts";
import type { TickReads } from "./tick-reads.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

/** What `/healthz`, `/readyz` and `/status` answer. */
export interface ControllerEndpoints {
  /** The process can serve: `/healthz`. */
  alive(): boolean;
  /** Specs read, every key reconciled once, every readiness check met: `/readyz`. */
  ready(): { ready: boolean; phase: string };
  /** Each resource's state, what it did and what explains it: `/status`, and the page and `get` read it. */
  status(): StatusDocument;
}

/**
 * What explains the ECS services the specs watch (`WatchedServices`, fed by the informer's poll and the events
 * queue, both built in `cmd/`): the controller tells it which watch keys the specs hold and shows what it reports.
 */
export interface WatchedServicesReport {
  /** The watch keys the specs hold, each with the resources holding it; called with every new read of the specs. */
  setWatches(resourcesByWatchKey: ReadonlyMap<string, readonly string[]>): void;
  list(): readonly WatchedServiceStatus[];
}

/** The process's HTTP side: listening before the specs are read, closed last, after the writes in flight. */
export interface ControllerServer {
  listen(): Promise<void>;
  close(): Promise<void>;
  /** The port served on (useful with port 0). */
  readonly port: number;
  /** The address it was asked to listen on, for logs. */
  readonly address: string;
}

/**
 * Reconciles at once by default (`--workers`). A reconcile mostly waits: for Cloud Map's operations (250 ms at
 * least), for its zone's batch at Route 53's 5 requests a second. The first sync of 60 CloudMapServices and 40
 * WeightedRecordSets on a warm emulator took 4.8-5.0 s at 16, 4.3-4.4 s at 32 and 4.1 s at 64 (2026-12-02).
 */
export const DEFAULT_WORKERS = 64;

export interface ControllerOptions {
  /** Where the desired state comes from: the spec directory (`SpecWatcher`), or a source of whole revisions. */
  readonly specs: SpecSource;
  /** One per kind (`cmd/kinds.ts`). */
  readonly reconcilers: readonly Reconciler[];
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly ownerId: string;
  /** Lists the watched AWS state each interval (`Informer`); without one, only the resync and events wake keys. */
  readonly informer?: WatchPoller | undefined;
  /** Events that name watched state (`EventsQueue`: EventBridge through SQS). */
  readonly events?: WatchEvents | undefined;
  /** The watched ECS services' health, shown in `/status`; without one, `/status` has no services. */
  readonly watched?: WatchedServicesReport | undefined;
  /** Builds the HTTP server over the controller's endpoints (`HttpServer`); without one, nothing is served. */
  readonly server?: ((endpoints: ControllerEndpoints) => ControllerServer) | undefined;
  /** Whether this replica may write now; default: always (no leader election). */
  readonly leadership?: LeadershipGate | undefined;
  /**
   * The tick's shared read cache (`TickReadCache`, also in the AWS clients' stacks): a tick starts before the
   * informers list, events and spec edits drop what they touch, and plans that write read live.
   */
  readonly reads?: TickReads | undefined;
  /** More conditions `/readyz` waits for. */
  readonly readiness?: readonly ReadinessCheck[] | undefined;
  /** How often the informers list and the specs are re-read. Default 30 s. */
  readonly intervalMs?: number;
  /** How often every key is enqueued. Default: `intervalMs`. */
  readonly resyncIntervalMs?: number;
  /**
   * Reconciles at once (never two of one key). Default `DEFAULT_WORKERS`: a reconcile spends most of its time waiting
   * (for Cloud Map's operations, Route 53's batches, the rate limiters), and the per-service rate limiters, not the
   * workers, keep the requests under AWS's quotas.
   */
  readonly workers?: number;
  /** When a sweep's deletions are held (see prune-guard.ts). Default `DEFAULT_PRUNE_GUARD`. */
  readonly pruneGuard?: PruneGuardPolicy | undefined;
  /** How long one reconcile (observe, plan, apply) may take before its AWS calls are aborted. Default 5 min. */
  readonly reconcileTimeoutMs?: number | undefined;
  /** After SIGTERM, how long the writes in flight may take before they are aborted. Default 25 s. */
  readonly shutdownTimeoutMs?: number;
  readonly queue?: Omit<WorkQueueOptions, "clock" | "observer">;
  readonly clock?: Clock;
}

/**
 * The level-triggered controller: keys in a work queue, woken by spec changes, informers, events and a periodic
 * resync; each reconcile re-reads AWS through the kind's reconciler and applies its plan. Its parts are built in
 * `cmd/` and handed in; it runs them together and stops them together.
 */
export class Controller {
  readonly status: StatusStore;
  readonly activity: ResourceActivity;
  readonly queue: WorkQueue;
  readonly endpoints: ControllerEndpoints;
  private readonly options: ControllerOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly resyncIntervalMs: number;
  private readonly specs: SpecSource;
  private readonly state: DesiredState;
  private readonly report: SpecReport;
  private readonly convergence: ConvergenceTracker;
  private readonly holds: DeletionHolds;
  private readonly keys: KeyReconciler;
  private readonly leadership: LeadershipGate;
  private readonly server: ControllerServer | undefined;
  /** Aborted on STOP: the loops end, no plan is applied any more. */
  private readonly stopping = new AbortController();
  /** Work reconcilers detached from their keys (lifecycle-hook drains), until it settles. */
  private readonly detached = new Set<Promise<void>>();
  /** Aborted only when shutting down times out: the signal of reads and writes in flight. */
  private readonly work = new AbortController();
  private abortedWrites = false;
  /** The informers' listing in progress, if one is (see `pollInformer`). */
  private informerListing: Promise<void> | undefined;
  private readonly actor: Actor<typeof controllerLifecycle>;
  private readonly background: Promise<void>[] = [];
  private initialKeys = new Set<string>();
  /** Why starting failed, as thrown: `start` rethrows it, so that `run` can tell a usage error from the rest. */
  private startFailure: unknown;
  private initialDone: (() => void) | undefined;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 30_000;
    this.resyncIntervalMs = options.resyncIntervalMs ?? this.intervalMs;
    this.specs = options.specs;
    this.leadership = options.leadership ?? alwaysLeading;
    this.status = new StatusStore(() => new Date(this.clock.now()));
    this.activity = new ResourceActivity({ clock: this.clock });
    this.queue = new WorkQueue({ ...options.queue, clock: this.clock, observer: options.metrics });
    options.metrics.observeQueue(this.queue);
    this.state = new DesiredState(options.reconcilers);
    this.report = new SpecReport({
      metrics: options.metrics,
      logger: this.logger,
      status: this.status,
      activity: this.activity,
      kinds: options.reconcilers.map((r) => r.kind),
    });
    this.convergence = new ConvergenceTracker(options.metrics, this.clock);
    this.holds = new DeletionHolds({
      metrics: options.metrics,
      logger: this.logger,
      status: this.status,
      policy: options.pruneGuard,
    });
    this.keys = new KeyReconciler({
      state: this.state,
      status: this.status,
      activity: this.activity,
      queue: this.queue,
      metrics: options.metrics,
      convergence: this.convergence,
      logger: this.logger,
      clock: this.clock,
      ownerId: options.ownerId,
      holds: this.holds,
      reconcileTimeoutMs: options.reconcileTimeoutMs,
      stopping: this.stopping.signal,
      detach: (key, what, work, term, logger) => this.detach(key, what, work, term, logger),
      reads: options.reads,
    });
    this.endpoints = {
      alive: () => this.phase !== "failed",
      ready: () => this.readiness(),
      status: () => {
        const { ready, phase } = this.readiness();
        return buildStatusDocument({
          phase: this.phase,
          ready,
          notReadyReason: ready ? undefined : phase,
          now: new Date(this.clock.now()),
          resources: this.status.list(),
          services: options.watched?.list(),
          watches: (key) => this.state.watchesOfKey(key),
          targets: (key) => this.activity.targetsOf(key),
          changes: (key) => this.activity.changesOf(key),
          decisions: this.activity.decisions(),
          deletionsHeld: this.holds.held(),
        });
      },
    };
    this.server = options.server?.(this.endpoints);
    this.actor = createActor(
      controllerLifecycle.provide({
        actors: lifecycleEffects({
          loadSpecs: (signal) =>
            this.startUp(signal).catch((error: unknown) => {
              this.startFailure = error;
              throw error;
            }),
          initialSync: (signal) => this.initialSync(signal),
          shutDown: () => this.shutDown(),
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

  /** The port `/metrics` is served on (useful with port 0); 0 without a server. */
  get port(): number {
    return this.server?.port ?? 0;
  }

  /** Starts, and resolves once ready (specs loaded, every key reconciled once). */
  async start(): Promise<void> {
    this.actor.start();
    const s = await waitForState(this.actor, (p) => p !== "starting" && p !== "syncing");
    if (s === "failed") {
      // What did start (the server, the loops) is stopped, so that the process can exit.
      await this.shutDown();
      if (this.startFailure instanceof Error) throw this.startFailure;
      throw new Error(this.actor.getSnapshot().context.error ?? "controller failed to start");
    }
  }

  /** Stops taking work, lets the writes in flight finish, closes the server. */
  async stop(): Promise<void> {
    if (this.actor.getSnapshot().status === "active") this.actor.send({ type: "STOP" });
    await waitForState(this.actor, (p) => p === "stopped" || p === "failed");
  }

  /**
   * Whether stopping had to abort writes in flight (the shutdown timeout ran out). A request aborted here may still
   * be on the wire, so a leader must not hand over by releasing its lease: the standby waits out the lease instead.
   */
  get writesAbortedAtShutdown(): boolean {
    return this.abortedWrites;
  }

  private readiness(): { ready: boolean; phase: string } {
    const phase = this.phase;
    if (phase !== "ready") return { ready: false, phase };
    for (const check of this.options.readiness ?? []) {
      const reason = check.reason();
      if (reason !== undefined) return { ready: false, phase: reason };
    }
    return { ready: true, phase };
  }

  private async startUp(signal: AbortSignal): Promise<void> {
    if (this.server !== undefined) {
      await this.server.listen();
      this.logger.info("serving", { address: this.server.address, port: this.server.port });
    }
    const read = await this.specs.load();
    signal.throwIfAborted();
    // Ready means the specs were read: a source with nothing to read, or read without the overlay asked for, is
    // no desired state to start from (nor one to sweep against).
    if (read.snapshot.unusable !== undefined) throw new UnusableSpecsError(read.snapshot.unusable);
    this.initialKeys = new Set([...read.changes.changed, ...this.state.sweepKeys(read.snapshot)]);
    this.takeRead(read);
    this.enqueueSweeps();
    this.specs.watch((r) => this.takeRead(r));
    this.leadership.onTermStarted?.(() => {
      // A standby receives no events, so its last tick's reads may miss what changed while it stood by.
      this.options.reads?.beginTick();
      void this.resync();
    });
    for (let i = 0; i < (this.options.workers ?? DEFAULT_WORKERS); i++) this.background.push(this.worker());
    this.background.push(this.loop(this.intervalMs, () => this.poll()));
    if (this.resyncIntervalMs !== this.intervalMs) {
      this.background.push(this.loop(this.resyncIntervalMs, () => this.resync()));
    }
    if (this.options.events !== undefined) {
      this.background.push(
        this.options.events.run(this.stopping.signal, (watchKeys, at) => this.wake(watchKeys, "event", at)),
      );
    }
    // The informers' first listing is only their baseline.
    void this.pollInformer().catch(() => undefined);
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

  private async shutDown(): Promise<void> {
    this.stopping.abort();
    this.specs.close();
    const inFlight = this.queue.inFlight;
    if (inFlight > 0) this.logger.info("shutting down: finishing the reconciles in flight", { inFlight });
    const timeout = new AbortController();
    void this.clock.sleep(this.options.shutdownTimeoutMs ?? 25_000, timeout.signal).then(
      () => {
        this.logger.warn("shutdown timed out; aborting the writes in flight", {
          inFlight: this.queue.inFlight,
        });
        this.abortedWrites = true;
        this.work.abort(new Error("shutdown timed out"));
      },
      () => undefined,
    );
    try {
      await this.queue.shutDown();
      await Promise.allSettled([...this.background, ...this.detached]);
    } finally {
      timeout.abort();
      await this.server?.close();
    }
  }

  /**
   * Runs `tick` every `ms`, counted from one tick's start to the next: a tick that takes a while (the informers'
   * listing waits on the ECS rate limit at a few hundred services) does not stretch the interval, and one that takes
   * longer than it is followed at once by the next.
   */
  private async loop(ms: number, tick: () => Promise<void>): Promise<void> {
    const signal = this.stopping.signal;
    let took = 0;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(Math.max(0, ms - took), signal);
        const started = this.clock.now();
        try {
          await tick();
        } finally {
          took = this.clock.now() - started;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn("periodic work failed", { error });
      }
    }
  }

  /** Once an interval: re-read the specs, list the watched AWS state, and (when due) enqueue everything. */
  private async poll(): Promise<void> {
    const read = await this.specs.load();
    if (this.stopping.signal.aborted) return;
    this.takeRead(read);
    // The tick's reads start here: the informers' listing fills the cache the resync's reconciles then read.
    this.options.reads?.beginTick();
    await this.pollInformer();
    if (this.resyncIntervalMs === this.intervalMs) await this.resync();
  }

  /**
   * The informers' listing, waited for at most one interval: the resync after it must come every interval, even when
   * the listing is slow (its reads wait on the rate limits behind the reconciles) or hangs. A listing still running
   * is waited for again at the next tick, never started a second time beside itself.
   */
  private async pollInformer(): Promise<void> {
    const informer = this.options.informer;
    if (informer === undefined) return;
    const listing = (this.informerListing ??= (async () => {
      try {
        const changed = await informer.poll(this.state.watchKeys(), this.stopping.signal);
        if (changed.length > 0) this.wake(changed, "informer", this.clock.now());
      } finally {
        this.informerListing = undefined;
      }
    })());
    const stop = new AbortController();
    const late = this.clock.sleep(this.intervalMs, stop.signal).then(
      () => true,
      () => false,
    );
    try {
      if (await Promise.race([listing.then(() => false), late])) {
        this.logger.warn(
          "the informers' listing took longer than the interval; resyncing without waiting for it",
          {
            intervalMs: this.intervalMs,
          },
        );
      }
    } finally {
      stop.abort();
    }
  }

  private async resync(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const keys = this.state.keys();
    for (const key of keys) this.queue.add(key);
    this.enqueueSweeps();
    this.logger.debug("resync", { resources: keys.length });
  }

  private enqueueSweeps(): void {
    for (const key of this.state.sweepKeys()) this.queue.add(key);
  }

  /** Takes a new read of the specs: reports it, swaps it in, wakes what it changed. */
  private takeRead(read: SpecRead): void {
    if (this.stopping.signal.aborted) return;
    const { snapshot, changes } = read;
    this.report.report(snapshot, changes);
    const now = this.clock.now();
    const update = this.state.update(snapshot, changes, this.holds.kinds());
    // An edited spec is planned from a fresh look at what it watches.
    this.options.reads?.invalidateWatchKeys(
      changes.changed.flatMap((key) => {
        const doc = this.state.document(key);
        return doc === undefined ? [] : (this.state.reconcilerOf(doc.kind)?.watches?.(doc) ?? []);
      }),
    );
    this.options.watched?.setWatches(this.state.watchers());
    this.retainLiveKeys();
    for (const key of update.wake) this.enqueue(key, "spec", now);
    // While the prune guard holds a kind's deletions, every read sweeps it again: restored specs release it at once.
    for (const key of update.resweep) this.queue.add(key);
    for (const kind of update.heldSweeps) {
      this.logger.warn(
        "spec removed while another file is invalid; nothing is deleted until every file is valid",
        {
          kind,
        },
      );
    }
  }

  /**
   * Per-key state follows the spec set: every structure keyed by resource holds exactly the live keys (the specs and
   * the kinds' sweeps), so the controller's memory grows with the specs, never with time.
   */
  private retainLiveKeys(): void {
    const live = this.state.liveKeys();
    for (const key of live) if (this.state.document(key) === undefined) this.status.track(key, undefined);
    this.status.retain(live);
    this.queue.retain(live);
    this.convergence.retain(live);
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
      pending: this.convergence.keys(),
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
    const resources = this.state.resourcesOf(watchKeys);
    // An event says the state changed after the tick read it; the informers' own listing is already fresh. The
    // EventBridge rule covers the account: only what a spec watches makes cached reads stale, or a busy account's
    // events for other services would have the tick's reads made again and again.
    if (source === "event") {
      const watched = watchKeys.filter((k) => this.state.resourcesOf([k]).length > 0);
      if (watched.length > 0) this.options.reads?.invalidateWatchKeys(watched);
    }
    for (const key of resources) this.enqueue(key, source, at);
    if (resources.length > 0) this.logger.info("woken", { source, watches: watchKeys, resources });
    else if (source === "event") this.logger.debug("event for nothing watched", { watches: watchKeys });
  }

  private enqueue(key: string, source: WakeSource, at: number): void {
    this.convergence.woken(key, source, at);
    if (source === "spec") this.logger.info("spec changed", { resource: key });
    this.queue.add(key);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const term = this.leadership.term();
        if (term === undefined) {
          this.logger.debug("standing by; not reconciled", { resource: key });
        } else {
          await this.keys.reconcile(key, this.underTerm(this.work.signal, term), term);
        }
      } catch (error) {
        this.logger.error("reconcile crashed", { resource: key, error });
      } finally {
        this.queue.done(key);
        if (this.initialKeys.delete(key) && this.initialKeys.size === 0) this.initialDone?.();
      }
    }
  }

  private underTerm(signal: AbortSignal, term: AbortSignal): AbortSignal {
    return underTermOf(this.leadership, signal, term);
  }

  /**
   * Runs a reconciler's long wait beside the queue (see `ReconcileContext.detach`). Shutdown, or the end of the
   * leadership term, aborts it and waits for it to unwind; a failure retries the resource with backoff, whose next
   * reconcile starts the work again from what AWS shows.
   */
  private detach(
    key: string,
    what: string,
    work: (signal: AbortSignal) => Promise<void>,
    term: AbortSignal,
    logger: Logger,
  ): void {
    if (this.stopping.signal.aborted || term.aborted) return;
    const signal = this.underTerm(this.stopping.signal, term);
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
}

/** `signal`, also aborted when the term ends; without leader election (one endless term), `signal` itself. */
function underTermOf(leadership: LeadershipGate, signal: AbortSignal, term: AbortSignal): AbortSignal {
  return leadership === alwaysLeading ? signal : AbortSignal.any([signal, term]);
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
