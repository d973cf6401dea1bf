import { setTimeout as delay } from "node:timers/promises";

/** Time, injected so that tests never sleep. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : undefined);
  },
};

/** A clock that moves only when told: `advance` runs every sleeper whose time has come. */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: { at: number; resolve: () => void }[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper = {
        at: this.current + ms,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Moves time forward, waking sleepers in time order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (next === undefined || next.at > target) break;
      this.sleepers.shift();
      this.current = next.at;
      next.resolve();
    }
    this.current = target;
    await new Promise((r) => setImmediate(r));
  }

  get pendingSleepers(): number {
    return this.sleepers.length;
  }
}

/** A timer source as xstate takes it: `SimulatedClock` in tests, real timers (or our `Clock`) otherwise. */
export interface TimerClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/** xstate's timers driven by our injected `Clock`, so one time source (and `ManualClock` in tests) rules both. */
export function timerClockOf(clock: Clock): TimerClock {
  const timers = new Map<number, AbortController>();
  let next = 0;
  return {
    setTimeout(fn, timeout) {
      const id = ++next;
      const ac = new AbortController();
      timers.set(id, ac);
      clock.sleep(timeout, ac.signal).then(
        () => {
          timers.delete(id);
          fn();
        },
        () => undefined,
      );
      return id;
    },
    clearTimeout(id) {
      const ac = timers.get(id as number);
      timers.delete(id as number);
      ac?.abort();
    },
  };
}
