import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createActor, type Actor } from "xstate";
import { systemClock, timerClockOf, type Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { validateLeaderElectionConfig, type LeaderElectionConfig } from "./config.ts";
import { electorEffects } from "./elector-effects.ts";
import { electorMachine, type ElectorEmitted } from "./elector-machine.ts";
import type { LeaseLock, LeaseRecord } from "./lease-lock.ts";
import type { LeaderElectionMetrics } from "./metrics.ts";
import { Term, type LeaderTerm, type TermEndReason } from "./term.ts";

/**
 * Node's `performance.now()`: monotonic, never stepped by NTP or a wall-clock change. (Linux's monotonic clock does
 * not count a suspended machine; ECS hosts are not suspended.) Timers in Node run on the same clock.
 */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
};

/** A candidate name unique per process: the host, the pid and a random suffix (a restarted process is new). */
export function defaultIdentity(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** Who leads, as `/status` shows it. Times are the holder's wall clock, for people only. */
export interface LeaderInfo {
  readonly holder: string;
  readonly epoch: number;
  /** ISO 8601, the holder's wall clock when it acquired this term. */
  readonly since: string;
}

export interface LeaderStatus {
  readonly identity: string;
  readonly resourceName: string;
  readonly lock: string;
  readonly role: "leader" | "standby" | "stopped";
  /** This replica's epoch while it leads. */
  readonly epoch: number | undefined;
  /** The holder of the lease as last read (or this replica); undefined when nobody holds it. */
  readonly leader: LeaderInfo | undefined;
}

export interface LeaderElectorOptions {
  readonly lock: LeaseLock;
  /** Validated by the constructor (`LeaderElectionConfigError`). */
  readonly config: LeaderElectionConfig;
  /** Monotonic; `monotonicClock` by default, a `ManualClock` in tests. */
  readonly clock?: Clock | undefined;
  /** Wall clock for the record's informational timestamps. */
  readonly wallNow?: (() => number) | undefined;
  readonly metrics?: LeaderElectionMetrics | undefined;
  readonly logger?: Logger | undefined;
  /**
   * Whether this replica may take the lease now, asked each time it could: a replica that could not do a leader's
   * work (its AWS calls fail, its specs are unread) keeps following and leaves the lease to one that can. It never
   * ends a term already held. Default: always.
   */
  readonly eligible?: (() => boolean) | undefined;
  /** client-go's OnStartedLeading: start writing under `term`; stop when `term.signal` aborts. */
  readonly onStartedLeading?: ((term: LeaderTerm) => void) | undefined;
  /** client-go's OnStoppedLeading: the term has ended (its signal is aborted already). */
  readonly onStoppedLeading?: ((term: LeaderTerm, reason: TermEndReason) => void) | undefined;
  /** client-go's OnNewLeader: the holder seen changed (undefined: nobody holds the lease). */
  readonly onNewLeader?: ((leader: LeaderInfo | undefined) => void) | undefined;
}

/**
 * Leader election over a `LeaseLock`, after client-go's `leaderelection.LeaderElector`, with what it leaves out:
 * every acquisition takes a strictly increasing epoch (the fencing token that AWS can check, see route53-fence.ts);
 * expiry is judged by the follower's own monotonic clock; each term hands out an AbortSignal that aborts at the renew
 * deadline, before the lease can lapse; and the lease is released only after the caller says its writes have
 * finished (`stop`), never before.
 */
export class LeaderElector {
  readonly config: LeaderElectionConfig;
  private readonly lock: LeaseLock;
  private readonly clock: Clock;
  private readonly wallNow: () => number;
  private readonly metrics: LeaderElectionMetrics | undefined;
  private readonly logger: Logger | undefined;
  private readonly options: LeaderElectorOptions;
  private readonly actor: Actor<typeof electorMachine>;
  private term: Term | undefined;
  /** Whether the current term's end has been told (metrics, logs, callback): a term can end itself first. */
  private termEndTold = false;
  private leader: LeaderInfo | undefined;
  private lastFailure: string | undefined;
  private stopping: Promise<void> | undefined;
  private readonly termWaiters: ((term: LeaderTerm) => void)[] = [];
  /** Resolves when the elector has stopped (and released the lease if it led). */
  readonly stopped: Promise<void>;

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.config = validateLeaderElectionConfig(options.config);
    this.lock = options.lock;
    this.clock = options.clock ?? monotonicClock;
    this.wallNow = options.wallNow ?? Date.now;
    this.metrics = options.metrics;
    this.logger = options.logger?.child({ leaderElection: this.config.resourceName });
    const machine = electorMachine.provide({
      actors: electorEffects({
        lock: this.lock,
        config: this.config,
        clock: this.clock,
        wallNow: this.wallNow,
      }),
    });
    this.actor = createActor(machine, {
      input: {
        config: this.config,
        now: () => this.clock.now(),
        eligible: options.eligible ?? (() => true),
      },
      clock: timerClockOf(this.clock),
    });
    this.stopped = new Promise<void>((resolve) => {
      this.actor.subscribe({ complete: () => resolve(), error: () => resolve() });
    });
    for (const type of ["observed", "acquired", "renewed", "termEnded", "released", "failed"] as const) {
      this.actor.on(type, (event) => this.handle(event as ElectorEmitted));
    }
    this.metrics?.setLeading(false);
  }

  start(): this {
    this.logger?.info("leader election started", {
      identity: this.config.identity,
      lock: this.lock.description,
      leaseDurationMs: this.config.leaseDurationMs,
      renewDeadlineMs: this.config.renewDeadlineMs,
      retryPeriodMs: this.config.retryPeriodMs,
    });
    this.actor.start();
    return this;
  }

  /** The live term, or undefined on a standby. Check `mayWrite` right before each write all the same. */
  currentTerm(): LeaderTerm | undefined {
    const term = this.term;
    return term !== undefined && !term.signal.aborted ? term : undefined;
  }

  /** Resolves with the current term, or the next one this replica starts. */
  whenLeading(signal?: AbortSignal): Promise<LeaderTerm> {
    const current = this.currentTerm();
    if (current !== undefined) return Promise.resolve(current);
    return new Promise<LeaderTerm>((resolve, reject) => {
      const waiter = (term: LeaderTerm) => resolve(term);
      this.termWaiters.push(waiter);
      signal?.addEventListener("abort", () => {
        this.termWaiters.splice(this.termWaiters.indexOf(waiter) >>> 0, 1);
        reject(signal.reason);
      });
    });
  }

  status(): LeaderStatus {
    const term = this.currentTerm();
    const done = this.actor.getSnapshot().status !== "active";
    return {
      identity: this.config.identity,
      resourceName: this.config.resourceName,
      lock: this.lock.description,
      role: done ? "stopped" : term !== undefined ? "leader" : "standby",
      epoch: term?.epoch,
      leader: this.leader,
    };
  }

  /**
   * Stops: first `drainWrites` (finish or abort every write of the current term; the lease is still renewed
   * meanwhile), then the term ends and the lease is released so a standby takes over within a retry period. If the
   * drain fails, the lease is not released: a standby takes over after the lease duration instead.
   */
  stop(drainWrites: () => Promise<void>): Promise<void> {
    this.stopping ??= (async () => {
      if (this.actor.getSnapshot().status !== "active") return;
      let drained = false;
      try {
        await drainWrites();
        drained = true;
      } finally {
        if (drained) {
          this.actor.send({ type: "STOP" });
        } else {
          this.logger?.warn("writes did not drain; stopping without releasing the lease");
          this.endTerm("released", "stopped without release");
          this.actor.stop();
        }
      }
      await this.stopped;
      this.metrics?.setLeading(false);
    })();
    return this.stopping;
  }

  private handle(event: ElectorEmitted): void {
    switch (event.type) {
      case "observed":
        this.lastFailure = undefined;
        this.setLeader(event.record);
        return;
      case "acquired": {
        this.lastFailure = undefined;
        const term = new Term({
          epoch: event.held.record.epoch,
          identity: this.config.identity,
          clock: this.clock,
          renewDeadlineMs: this.config.renewDeadlineMs,
          sentAt: event.held.sentAt,
          onExpired: () => this.actor.send({ type: "TERM_EXPIRED" }),
          onFencedOut: (epoch, detail) => this.actor.send({ type: "FENCED_OUT", epoch, detail }),
        });
        this.term = term;
        this.termEndTold = false;
        this.setLeader(event.held.record);
        this.metrics?.setLeading(true);
        this.metrics?.transition("acquired");
        this.logger?.info("started leading", { epoch: term.epoch, identity: term.identity });
        for (const wake of this.termWaiters.splice(0)) wake(term);
        this.options.onStartedLeading?.(term);
        return;
      }
      case "renewed":
        this.term?.renewed(event.held.sentAt);
        this.leader = infoOf(event.held.record);
        return;
      case "termEnded":
        this.endTerm(event.reason, event.detail);
        return;
      case "released":
        if (event.ok) this.logger?.info("lease released");
        else
          this.logger?.warn("lease not released; a standby takes over after the lease duration", {
            error: event.error,
          });
        return;
      case "failed": {
        const text = event.error instanceof Error ? event.error.message : String(event.error);
        // One warning when a lock call starts failing, not one every retry period.
        if (this.lastFailure === undefined) {
          this.logger?.warn(`lease ${event.operation} failed`, {
            error: event.error,
            lock: this.lock.description,
          });
        }
        this.lastFailure = text;
        return;
      }
    }
  }

  private endTerm(reason: TermEndReason, detail?: string): void {
    const term = this.term;
    if (term === undefined || this.termEndTold) return;
    this.termEndTold = true;
    term.end(reason, detail);
    this.metrics?.setLeading(false);
    this.metrics?.transition(reason);
    // A release is the orderly end (SIGTERM); every other end is worth a warning.
    const log = reason === "released" ? this.logger?.info : this.logger?.warn;
    log?.call(this.logger, "stopped leading", { epoch: term.epoch, reason, ...(detail ? { detail } : {}) });
    if (reason !== "released") this.leader = undefined;
    this.options.onStoppedLeading?.(term, reason);
  }

  private setLeader(record: LeaseRecord | undefined): void {
    const next = record === undefined || record.released ? undefined : infoOf(record);
    const changed = next?.holder !== this.leader?.holder || next?.epoch !== this.leader?.epoch;
    this.leader = next;
    if (!changed) return;
    if (next !== undefined && next.holder !== this.config.identity) {
      this.logger?.info("leader observed", { holder: next.holder, epoch: next.epoch });
    }
    this.options.onNewLeader?.(next);
  }
}

function infoOf(record: LeaseRecord): LeaderInfo {
  return { holder: record.holder, epoch: record.epoch, since: new Date(record.acquiredAt).toISOString() };
}
