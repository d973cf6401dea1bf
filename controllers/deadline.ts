import { systemClock, type Clock } from "./clock.ts";

/** The default of `--reconcile-timeout`: longer than a Cloud Map namespace takes to create (tens of seconds). */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 5 * 60_000;

/** A reconcile (or one resource of a pass) ran out of its time; its AWS calls in flight were aborted. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
  readonly ms: number;
  constructor(what: string, ms: number, options?: { cause?: unknown }) {
    super(
      `${what} did not finish within ${formatMs(ms)} (--reconcile-timeout); its AWS calls were aborted`,
      options,
    );
    this.ms = ms;
  }
}

/** A signal that aborts when its parent does or when its time is up, and the means to let go of both. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the time ran out (not when the parent aborted). */
  readonly expired: boolean;
  /** Stops the timer and removes the listener on the parent: call it in `finally`. */
  dispose(): void;
}

/**
 * A deadline for one piece of work under a long-lived parent signal (the process's shutdown). The signal is passed to
 * every SDK call as `abortSignal`, so the abort reaches the socket. Disposed, it leaves nothing on the parent: one
 * listener per reconcile, removed when the reconcile ends, never accumulated (unlike `AbortSignal.any`, whose
 * sources hold on to what they feed until they are collected).
 */
export function deadline(
  parent: AbortSignal,
  ms: number,
  what: string,
  clock: Clock = systemClock,
): Deadline {
  const controller = new AbortController();
  const timer = new AbortController();
  let expired = false;
  const onParent = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener("abort", onParent, { once: true });
  if (Number.isFinite(ms) && ms > 0) {
    clock.sleep(ms, timer.signal).then(
      () => {
        if (controller.signal.aborted) return;
        expired = true;
        controller.abort(new DeadlineExceededError(what, ms));
      },
      () => undefined,
    );
  }
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      parent.removeEventListener("abort", onParent);
      timer.abort();
    },
  };
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
