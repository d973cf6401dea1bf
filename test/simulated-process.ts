import type { Clock, ManualClock } from "../controllers/clock.ts";
import type { LeaseClientHooks, LeaseOperation } from "./memory-lease-lock.ts";

/**
 * One replica's view of simulated time, for tests of several electors: `world` is real time (a `ManualClock` the test
 * advances); this process's monotonic clock reads `offsetMs + world * rate`, so clocks that disagree (skew) or tick at
 * other rates (drift) are modelled. `pause` freezes the process as SIGSTOP does: its timers and the answers to its
 * calls wait, while the world and the other processes go on; on `resume` they all run at once, with the clock already
 * at the resume time (so a term's lazy check sees the deadline passed before any timer has fired).
 */
export class SimulatedProcess implements Clock {
  private readonly world: ManualClock;
  private readonly offsetMs: number;
  private readonly rate: number;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(world: ManualClock, options: { offsetMs?: number; rate?: number } = {}) {
    this.world = world;
    this.offsetMs = options.offsetMs ?? 0;
    this.rate = options.rate ?? 1;
  }

  now(): number {
    return this.offsetMs + this.world.now() * this.rate;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await this.world.sleep(ms / this.rate, signal);
    await this.running();
    signal?.throwIfAborted();
  }

  get paused(): boolean {
    return this.gate !== undefined;
  }

  pause(): void {
    this.gate ??= new Promise<void>((resolve) => (this.open = resolve));
  }

  resume(): void {
    const open = this.open;
    this.gate = undefined;
    this.open = undefined;
    open?.();
  }

  /** Resolves at once while running, or at `resume`. */
  running(): Promise<void> {
    return this.gate ?? Promise.resolve();
  }

  /**
   * Lock-client hooks for this process: a paused process sends nothing and reads no answer; `latency` (world ms per
   * operation) delays answers, applied after the store has taken the write.
   */
  lockHooks(latency: (op: LeaseOperation) => number = () => 0): LeaseClientHooks {
    return {
      beforeSend: () => this.running(),
      beforeAnswer: async (op) => {
        const ms = latency(op);
        if (ms > 0) await this.world.sleep(ms);
        await this.running();
      },
    };
  }
}
