/**
 * The one retry delay policy of the operator: exponential from `baseMs`, doubling with each failure in a row, capped
 * at `maxMs`, with "equal jitter" (half the delay fixed, half random; AWS Architecture Blog, "Exponential Backoff
 * And Jitter"): retries of many keys that failed together (a throttled zone, an AWS outage) spread out instead of
 * returning in step, and a retry never comes sooner than half its backoff. The work queue, the SDK's in-call
 * retries, Cloud Map operation and Route 53 change polling, `apply`'s retries and the events queue's receive loop
 * all take their delays from it, each with its own base and cap.
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** The random part of each delay, 0 to 1. Default 0.5. */
  readonly jitter?: number;
  /** Injected in tests; default `Math.random`. */
  readonly random?: () => number;
}

export class Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions) {
    if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) {
      throw new Error(`backoff needs 0 < baseMs <= maxMs, got ${options.baseMs} and ${options.maxMs}`);
    }
    this.baseMs = options.baseMs;
    this.maxMs = options.maxMs;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
  }

  /** The longest the delay after `failures` failures in a row can be (before jitter). */
  ceilingMs(failures: number): number {
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(Math.max(0, failures), 40));
  }

  /** The delay before the next try, after `failures` failures in a row (0 for the first retry). */
  delayMs(failures: number): number {
    const ceiling = this.ceilingMs(failures);
    return Math.round(ceiling * (1 - this.jitter) + ceiling * this.jitter * this.random());
  }
}
