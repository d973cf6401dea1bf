import type { Clock } from "./clock.ts";
import type { ControllerMetrics } from "./metrics.ts";

/** What woke a key: its spec changed, an informer saw its watched state change, or an event named it. */
export type WakeSource = "spec" | "informer" | "event";

/**
 * When each key was first seen to need a reconcile, and why: what convergence latency is measured from, and what
 * tells drift (someone else changed AWS) from the workload moving (a task started).
 */
export class ConvergenceTracker {
  private readonly metrics: ControllerMetrics;
  private readonly clock: Clock;
  private readonly pending = new Map<string, { at: number; source: WakeSource }>();

  constructor(metrics: ControllerMetrics, clock: Clock) {
    this.metrics = metrics;
    this.clock = clock;
  }

  /** The key was seen to need a reconcile at `at`; the earliest sighting counts. */
  woken(key: string, source: WakeSource, at: number): void {
    const p = this.pending.get(key);
    if (p === undefined || at < p.at) this.pending.set(key, { at, source });
  }

  /**
   * True when nothing the key watches was seen to change before the reconcile that started at `started`: a change
   * it then made corrects drift rather than following the workload.
   */
  unprompted(key: string, started: number): boolean {
    const woken = this.pending.get(key);
    return woken === undefined || woken.at > started;
  }

  /** Forgets the keys not in `live` (specs removed before they converged): bounded by the live keys. */
  retain(live: ReadonlySet<string>): void {
    for (const key of [...this.pending.keys()]) if (!live.has(key)) this.pending.delete(key);
  }

  /** The keys waiting to converge, for tests and the soak benchmark. */
  keys(): string[] {
    return [...this.pending.keys()].sort();
  }

  /** A reconcile that started at `started` succeeded: what woke the key before it has converged. */
  converged(key: string, started: number): void {
    const p = this.pending.get(key);
    if (p === undefined || p.at > started) return;
    this.pending.delete(key);
    this.metrics.converged(p.source, (this.clock.now() - p.at) / 1000);
  }
}
