import { AwsError } from "../../controllers/aws/errors.ts";
import { systemClock, type Clock } from "../../controllers/clock.ts";
import { packBatches, ROUTE53_BATCH_LIMITS, type BatchLimits } from "./batches.ts";
import type { ChangeUnit } from "./planner.ts";
import type { RecordChange, Route53Api } from "./route53-api.ts";
import type { BatchFence } from "./route53-fence.ts";

interface Submission {
  readonly units: readonly ChangeUnit[];
  readonly signal: AbortSignal;
  /** With the ids of the changes (batches) that carried the submission's units. */
  resolve(changeIds: string[]): void;
  reject(error: unknown): void;
}

interface ZoneQueue {
  pending: Submission[];
  running: boolean;
}

/**
 * Writes to each hosted zone one change batch at a time (Route 53 answers PriorRequestNotComplete to a second one while
 * the first is pending) and commits as a group: what several specs submit while a batch is in flight goes out together
 * in the next one, when it fits. A combined batch that fails changed nothing (a batch is atomic). Rejected for what it
 * holds (an invalid or stale change), each submission in it is then sent alone, so only the faulty one fails.
 * Throttled, timed out or failing on AWS's side, every submission fails at once and goes back to its key's backoff:
 * sending them one by one would spend more of the quota that just ran out.
 *
 * Specs of one zone planned at the same time are written together: while a plan for the zone is being made
 * (`planning`), the first batch waits for it, at most `maxHoldMs`, so a pass sends one batch per zone where the
 * changes fit instead of one per spec.
 */
export class ZoneWriter {
  private readonly api: Route53Api;
  private readonly limits: BatchLimits;
  private readonly zones = new Map<string, ZoneQueue>();
  private readonly clock: Clock;
  private readonly maxHoldMs: number;
  private readonly planningCount = new Map<string, number>();
  private readonly idleWaiters = new Map<string, (() => void)[]>();
  /** With leader election: every batch carries the fence's compare-and-swap (route53-fence.ts). */
  private readonly fence: BatchFence | undefined;

  constructor(
    api: Route53Api,
    options: { limits?: BatchLimits; clock?: Clock; maxHoldMs?: number; fence?: BatchFence | undefined } = {},
  ) {
    this.api = api;
    this.fence = options.fence;
    const limits = options.limits ?? ROUTE53_BATCH_LIMITS;
    this.limits = this.fence?.limitsLeft(limits) ?? limits;
    this.clock = options.clock ?? systemClock;
    this.maxHoldMs = options.maxHoldMs ?? 2000;
  }

  /** Marks a plan for the zone as being made; call the returned function when it is made (or failed). */
  planning(zoneId: string): () => void {
    this.planningCount.set(zoneId, (this.planningCount.get(zoneId) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.planningCount.get(zoneId) ?? 1) - 1;
      if (left > 0) {
        this.planningCount.set(zoneId, left);
        return;
      }
      this.planningCount.delete(zoneId);
      // The plan's apply is called right after it is returned: give it that turn to submit.
      setImmediate(() => {
        if (this.planningCount.has(zoneId)) return;
        const waiters = this.idleWaiters.get(zoneId) ?? [];
        this.idleWaiters.delete(zoneId);
        for (const wake of waiters) wake();
      });
    };
  }

  /** Resolves when no plan for the zone is being made, or after `maxHoldMs`. */
  private async plansMade(zoneId: string): Promise<void> {
    if (!this.planningCount.has(zoneId)) return;
    const stop = new AbortController();
    const idle = new Promise<void>((resolve) => {
      const list = this.idleWaiters.get(zoneId) ?? [];
      list.push(resolve);
      this.idleWaiters.set(zoneId, list);
    });
    const timeout = this.clock.sleep(this.maxHoldMs, stop.signal).catch(() => undefined);
    await Promise.race([idle, timeout]);
    stop.abort();
    // A hold that timed out leaves its waiter behind: dropped, so the map holds only zones being planned.
    if (!this.planningCount.has(zoneId)) this.idleWaiters.delete(zoneId);
  }

  /** Zones with state held (queues, plans being made, waiters), for tests and the soak benchmark. */
  zonesHeld(): { queues: string[]; planning: string[]; waiting: string[] } {
    return {
      queues: [...this.zones.keys()].sort(),
      planning: [...this.planningCount.keys()].sort(),
      waiting: [...this.idleWaiters.keys()].sort(),
    };
  }

  /**
   * Resolves when every change of `units` is accepted by Route 53 (PENDING), with the ids of the changes that carried
   * them (to follow with GetChange until INSYNC).
   */
  submit(zoneId: string, units: readonly ChangeUnit[], signal: AbortSignal): Promise<string[]> {
    if (units.length === 0) return Promise.resolve([]);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<string[]>((resolve, reject) => {
      let q = this.zones.get(zoneId);
      if (q === undefined) {
        q = { pending: [], running: false };
        this.zones.set(zoneId, q);
      }
      q.pending.push({ units, signal, resolve, reject });
      if (!q.running) {
        q.running = true;
        void this.flush(zoneId, q);
      }
    });
  }

  /** Sends the zone's pending submissions, batched, until none is left. */
  private async flush(zoneId: string, q: ZoneQueue): Promise<void> {
    try {
      await this.plansMade(zoneId);
      while (q.pending.length > 0) {
        const group = this.takeGroup(q);
        if (group.length === 0) continue;
        if (group.length === 1) {
          await this.sendAlone(zoneId, group[0]!);
          continue;
        }
        const sending = whileAnyWaits(group.map((s) => s.signal));
        try {
          const [batch] = packBatches(
            group.flatMap((s) => s.units),
            this.limits,
          );
          const id = await this.change(zoneId, batch ?? [], sending.signal);
          for (const s of group) s.resolve(id === undefined ? [] : [id]);
        } catch (error) {
          if (notAboutItsChanges(error)) for (const s of group) s.reject(error);
          else for (const s of group) await this.sendAlone(zoneId, s);
        } finally {
          sending.dispose();
        }
      }
    } finally {
      q.running = false;
      this.zones.delete(zoneId);
    }
  }

  private change(zoneId: string, batch: RecordChange[], signal: AbortSignal): Promise<string | undefined> {
    if (this.fence === undefined) return this.api.changeRecordSets(zoneId, batch, signal);
    return this.fence.changeRecordSets(this.api, zoneId, batch, signal);
  }

  /**
   * The pending submissions that fit in one batch together (at least the first that still waits). One whose signal
   * aborted while it waited (its reconcile timed out, or a sweep whose specs came back withdrew it) is dropped
   * unsent, so a batch never carries a change its submitter no longer wants.
   */
  private takeGroup(q: ZoneQueue): Submission[] {
    const group: Submission[] = [];
    while (q.pending.length > 0) {
      const next = q.pending[0]!;
      if (next.signal.aborted) {
        q.pending.shift();
        next.reject(next.signal.reason);
        continue;
      }
      if (
        group.length > 0 &&
        packBatches(
          [...group, next].flatMap((s) => s.units),
          this.limits,
        ).length > 1
      )
        break;
      group.push(q.pending.shift()!);
    }
    return group;
  }

  private async sendAlone(zoneId: string, s: Submission): Promise<void> {
    try {
      const ids: string[] = [];
      for (const batch of packBatches(s.units, this.limits)) {
        s.signal.throwIfAborted();
        const id = await this.change(zoneId, batch, s.signal);
        if (id !== undefined) ids.push(id);
      }
      s.resolve(ids);
    } catch (error) {
      s.reject(error);
    }
  }
}

/**
 * A signal for a combined batch: aborted once every submission in it aborted. One submitter giving up must not abort
 * the others' writes; a batch in flight when one gives up is sent (Route 53 applies a batch whole or not at all).
 */
function whileAnyWaits(signals: readonly AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  const all = new AbortController();
  let left = signals.length;
  const listeners = signals.map((s) => {
    const aborted = (): void => {
      if (--left === 0) all.abort(s.reason);
    };
    s.addEventListener("abort", aborted, { once: true });
    return () => s.removeEventListener("abort", aborted);
  });
  return { signal: all.signal, dispose: () => listeners.forEach((remove) => remove()) };
}

/** A failure that says nothing about the batch's changes: the same batch, or any part of it, would fail alike now. */
function notAboutItsChanges(error: unknown): boolean {
  return (
    error instanceof AwsError &&
    (error.errorClass === "throttled" || error.errorClass === "timeout" || error.errorClass === "transient")
  );
}
