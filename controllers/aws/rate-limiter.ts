import { systemClock, type Clock } from "../clock.ts";

/**
 * How urgent a request is to its rate limiter: `background` requests (the watched services' health, which no
 * reconcile waits for) get a token only while no `foreground` request waits for one, so at startup and after a burst
 * of events the reads and writes that converge AWS go first.
 */
export type RequestPriority = "foreground" | "background";

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  readonly signal: AbortSignal | undefined;
  onAbort?: (() => void) | undefined;
}

/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Callers wait for a token before each
 * request, so the operator stays under an account-wide AWS quota (Route 53 allows a few requests a second per
 * account, shared with everything else in it) instead of discovering it through throttling errors. Waiters are served
 * in order within a priority; every foreground waiter before any background one.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;
  private readonly waiting: Record<RequestPriority, Waiter[]> = { foreground: [], background: [] };
  private pumping = false;

  constructor(ratePerSecond: number, burst?: number, clock: Clock = systemClock) {
    if (!(ratePerSecond > 0)) throw new Error(`rate must be positive, got ${ratePerSecond}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst ?? Math.max(1, Math.ceil(ratePerSecond));
    this.clock = clock;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Resolves when a token is taken; rejects with the signal's reason if it aborts first. */
  take(signal?: AbortSignal, priority: RequestPriority = "foreground"): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      const queue = this.waiting[priority];
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      queue.push(waiter);
      void this.pump();
    });
  }

  /** Requests waiting for a token, by priority. */
  get queued(): Record<RequestPriority, number> {
    return { foreground: this.waiting.foreground.length, background: this.waiting.background.length };
  }

  /** One loop at a time hands out tokens as they accrue, foreground first, until nobody waits. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const queue = this.waiting.foreground.length > 0 ? this.waiting.foreground : this.waiting.background;
        const next = queue[0];
        if (next === undefined) return;
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          queue.shift();
          if (next.onAbort !== undefined) next.signal?.removeEventListener("abort", next.onAbort);
          next.resolve();
          continue;
        }
        // Not aborted by a waiter's signal: a waiter that leaves is taken out of its queue by its own listener.
        await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
      }
    } finally {
      this.pumping = false;
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}
