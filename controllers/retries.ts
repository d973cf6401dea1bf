import { AwsError } from "./aws/errors.ts";
import { Backoff } from "./backoff.ts";
import { systemClock, type Clock } from "./clock.ts";
import { DeadlineExceededError } from "./deadline.ts";
import { DependencyNotReadyError, StalePlanError, TerminalError } from "./reconciler.ts";

/**
 * Whether trying again later may succeed: a throttled, transient, timed-out or conflicting AWS call (a re-read fixes
 * a conflict), a plan made stale by someone else's write, or a dependency not there yet, anywhere in the cause chain. A deadline that ran out is not retried
 * here: the work already had its time.
 */
export function isRetryable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 6; depth++) {
    if (e instanceof DeadlineExceededError || e instanceof TerminalError) return false;
    if (e instanceof AwsError) return e.retryable;
    if (e instanceof DependencyNotReadyError || e instanceof StalePlanError) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  readonly attempts: number;
  readonly backoff?: Backoff;
  readonly clock?: Clock;
  readonly signal: AbortSignal;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** `apply`'s retries of one resource: the operator's backoff between tries, a fresh plan (and fresh reads) each. */
export const PASS_BACKOFF = new Backoff({ baseMs: 250, maxMs: 10_000 });

/** Runs `work` until it succeeds, fails for good, or has had its attempts; each try is told its number (0 first). */
export async function withRetries<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const backoff = options.backoff ?? PASS_BACKOFF;
  const clock = options.clock ?? systemClock;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (options.signal.aborted || attempt + 1 >= options.attempts || !isRetryable(error)) throw error;
      const delayMs = backoff.delayMs(attempt);
      options.onRetry?.(error, attempt + 1, delayMs);
      await clock.sleep(delayMs, options.signal);
    }
  }
}
