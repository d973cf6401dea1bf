import { systemClock, type Clock } from "../clock.ts";

/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Callers wait for a token before each
 * request, so the operator stays under an account-wide AWS quota (Route 53 allows a few requests a second per
 * account, shared with everything else in it) instead of discovering it through throttling errors.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(ratePerSecond: number, burst?: number, clock: Clock = systemClock) {
    if (!(ratePerSecond > 0)) throw new Error(`rate must be positive, got ${ratePerSecond}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst ?? Math.max(1, Math.ceil(ratePerSecond));
    this.clock = clock;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Resolves when a token is taken. Waiters are served in order. */
  take(signal?: AbortSignal): Promise<void> {
    const next = this.queue.then(() => this.takeOne(signal));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async takeOne(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
      await this.clock.sleep(waitMs, signal);
    }
  }
}
