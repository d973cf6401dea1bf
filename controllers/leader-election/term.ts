import type { Clock } from "../clock.ts";

/** Why a term ended, as logged and counted. */
export type TermEndReason =
  /** No renewal succeeded within the renew deadline: the lease may lapse, so writes stopped first. */
  | "renew-deadline"
  /** A renewal found the record rewritten by another replica. */
  | "lease-taken"
  /** AWS refused a write because a leader of a later epoch had written (the Route 53 fence). */
  | "fenced-out"
  /** The elector was stopped after the caller's writes finished; the lease was given up. */
  | "released";

/**
 * One acquisition of the lease, from the leader's side. Everything that writes to AWS holds the term it writes under
 * and checks it right before each write; `signal` goes to every call made for the term.
 */
export interface LeaderTerm {
  /** The fencing token of this acquisition: greater than every earlier term's. */
  readonly epoch: number;
  readonly identity: string;
  /** Aborted when the term ends (its reason is a `NotLeaderError`), before any other replica can take the lease. */
  readonly signal: AbortSignal;
  /**
   * Whether a write started now and lasting at most `marginMs` still ends before the renew deadline, judged on this
   * process's monotonic clock at the moment of the call (not on a timer that a paused process has not run yet).
   */
  mayWrite(marginMs?: number): boolean;
  /** `mayWrite`, throwing the `NotLeaderError` that says why not. */
  assertMayWrite(marginMs?: number): void;
  /**
   * Ends the term at once: AWS refused a write because a leader of `observedEpoch` had written. The elector follows
   * again, and its next acquisition takes an epoch above `observedEpoch`. Never gives up the lease record: the writes
   * of this term may still be in flight.
   */
  fencedOut(observedEpoch: number, detail: string): void;
}

/** A write was refused because this replica does not hold a valid lease; the caller steps down, never retries. */
export class NotLeaderError extends Error {
  override readonly name: string = "NotLeaderError";
  /** Work queues read this: the error ends the work, it is not retried. */
  readonly stepDown = true;
}

/** AWS itself refused a write: a leader of a later epoch has written since (a fence record moved on). */
export class StaleLeaderError extends NotLeaderError {
  override readonly name = "StaleLeaderError";
  readonly epoch: number;
  readonly observedEpoch: number;
  constructor(epoch: number, observedEpoch: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.epoch = epoch;
    this.observedEpoch = observedEpoch;
  }
}

export function isNotLeaderError(error: unknown): error is NotLeaderError {
  return error instanceof NotLeaderError;
}

/** The elector's handle on a term it started; `LeaderTerm` is what it hands out. */
export class Term implements LeaderTerm {
  readonly epoch: number;
  readonly identity: string;
  private readonly clock: Clock;
  private readonly renewDeadlineMs: number;
  private readonly controller = new AbortController();
  private lastSentAt: number;
  private readonly onExpired: () => void;
  private readonly onFencedOut: (observedEpoch: number, detail: string) => void;

  constructor(options: {
    epoch: number;
    identity: string;
    clock: Clock;
    renewDeadlineMs: number;
    /** When the acquiring write was sent: the lease is ours from then, never from when the answer came. */
    sentAt: number;
    onExpired: () => void;
    onFencedOut: (observedEpoch: number, detail: string) => void;
  }) {
    this.epoch = options.epoch;
    this.identity = options.identity;
    this.clock = options.clock;
    this.renewDeadlineMs = options.renewDeadlineMs;
    this.lastSentAt = options.sentAt;
    this.onExpired = options.onExpired;
    this.onFencedOut = options.onFencedOut;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Monotonic time after which this term may not write. */
  get deadline(): number {
    return this.lastSentAt + this.renewDeadlineMs;
  }

  /** A renewal sent at `sentAt` succeeded. Ignored once the term has ended: an ended term never comes back. */
  renewed(sentAt: number): void {
    if (!this.controller.signal.aborted) this.lastSentAt = Math.max(this.lastSentAt, sentAt);
  }

  end(reason: TermEndReason, detail?: string): void {
    if (this.controller.signal.aborted) return;
    const why = {
      "renew-deadline": "its lease was not renewed within the renew deadline",
      "lease-taken": "another replica took the lease",
      "fenced-out": "a leader of a later epoch has written",
      released: "the lease was released",
    }[reason];
    this.controller.abort(
      new NotLeaderError(
        `term ${this.epoch} of ${this.identity} ended: ${why}${detail ? ` (${detail})` : ""}`,
      ),
    );
  }

  mayWrite(marginMs = 0): boolean {
    if (this.controller.signal.aborted) return false;
    const now = this.clock.now();
    if (now >= this.deadline) {
      // A paused process resumes with its deadline timer not yet run: the clock decides, and the term ends here.
      this.end("renew-deadline");
      this.onExpired();
      return false;
    }
    return now + marginMs < this.deadline;
  }

  assertMayWrite(marginMs = 0): void {
    if (this.mayWrite(marginMs)) return;
    if (this.controller.signal.aborted) throw this.controller.signal.reason as Error;
    throw new NotLeaderError(
      `term ${this.epoch} of ${this.identity} has less than ${marginMs} ms left before its renew deadline; ` +
        `the write is not started`,
    );
  }

  fencedOut(observedEpoch: number, detail: string): void {
    if (this.controller.signal.aborted) return;
    if (this.clock.now() >= this.deadline) {
      // A paused process resumed, read the fence, and its deadline timer has not run yet: the term is over on the
      // clock, so it ends as expired, and the elector writes nothing more to a lease it no longer holds (no epoch
      // raised; whoever leads now is already above the fence).
      this.end("renew-deadline");
      this.onExpired();
      return;
    }
    this.end("fenced-out", detail);
    this.onFencedOut(observedEpoch, detail);
  }
}
