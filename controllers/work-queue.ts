import { Backoff } from "./backoff.ts";
import { systemClock, type Clock } from "./clock.ts";
import { TokenBucket } from "./aws/rate-limiter.ts";
import { isSweepKey } from "./reconciler.ts";

/** What the queue reports as it works. The controller's metrics implement it. */
export interface WorkQueueObserver {
  /** A key was added (not counted when it was already waiting). */
  added(): void;
  /** A key was put back after a failure. */
  retried(): void;
  depth(n: number): void;
}

export interface WorkQueueOptions {
  readonly clock?: Clock;
  readonly observer?: WorkQueueObserver;
  /** First retry delay of a key; doubles with every failure in a row. client-go: 5 ms. */
  readonly baseDelayMs?: number;
  /** client-go caps at 1,000 s; a controller that heals drift should not go quiet that long. */
  readonly maxDelayMs?: number;
  /** The global bucket every retry passes through. client-go: 10 per second, burst 100. */
  readonly retriesPerSecond?: number;
  readonly retryBurst?: number;
  /** The jitter's source (see `Backoff`); injected in tests. */
  readonly random?: () => number;
}

/**
 * A work queue in the manner of client-go's: keys, not events. A key waiting is waiting once however many times it
 * is added; a key being processed is never handed to a second worker, and one added meanwhile is handed out again
 * when the first worker is done. Retries wait for a per-key exponential backoff with jitter (`Backoff`, the
 * operator's one retry policy), then for a token of a global bucket.
 *
 * Waiting keys are kept in one lane per kind (the key's `Kind/` prefix), first in, first out within a lane, and the
 * workers take from the lanes in turn. controller-runtime gives each kind its own queue and workers for the same
 * reason: kinds wait on different AWS services and quotas (Cloud Map's operations, Route 53's 5 requests a second),
 * so a backlog of one kind (60 CloudMapServices at start-up) must not hold back the keys of another. A kind's orphan
 * sweep (`Kind/*`) waits in a lane of its own, taken only when no spec's key waits: the specs' own work comes
 * first, and what a sweep removes is never urgent (Argo CD prunes last in a sync for the same reason).
 */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly observer: WorkQueueObserver | undefined;
  private readonly backoff: Backoff;
  private readonly bucket: TokenBucket;
  /** Waiting keys by kind, in the order the kinds first came, specs' keys and sweeps apart. */
  private readonly lanes = new Lanes();
  private readonly sweeps = new Lanes();
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly shutdown = new AbortController();

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.observer = options.observer;
    this.backoff = new Backoff({
      baseMs: options.baseDelayMs ?? 5,
      maxMs: options.maxDelayMs ?? 180_000,
      random: options.random,
    });
    this.bucket = new TokenBucket(options.retriesPerSecond ?? 10, options.retryBurst ?? 100, this.clock);
  }

  get shuttingDown(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** Keys waiting to be handed out. */
  get length(): number {
    return this.lanes.size + this.sweeps.size;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.observer?.added();
    if (!this.processing.has(key)) this.enqueue(key);
  }

  /** Hands a dirty key to a waiting worker, or queues it. */
  private enqueue(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.dirty.delete(key);
      this.processing.set(key, this.clock.now());
      waiter(key);
      return;
    }
    (isSweepKey(key) ? this.sweeps : this.lanes).push(key);
    this.observer?.depth(this.length);
  }

  /** Adds the key after `ms`, unless the queue is shut down by then. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.clock.sleep(ms, this.shutdown.signal).then(
      () => this.add(key),
      () => undefined,
    );
  }

  /** Puts a failed key back after its backoff and a token of the global bucket. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    const failures = this.failures.get(key) ?? 0;
    const delay = this.backoff.delayMs(failures);
    this.failures.set(key, failures + 1);
    this.observer?.retried();
    const signal = this.shutdown.signal;
    this.clock
      .sleep(delay, signal)
      .then(() => this.bucket.take(signal))
      .then(
        () => this.add(key),
        () => undefined,
      );
  }

  /** The longest the next `addRateLimited` of this key may wait for its backoff (jitter takes up to half off). */
  backoffOf(key: string): number {
    return this.backoff.ceilingMs(this.failures.get(key) ?? 0);
  }

  /** Failures in a row of this key. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Forgets the failures of a key: its next retry starts from the base delay. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Forgets the failures of every key not in `live` (keys whose spec is gone). */
  retain(live: ReadonlySet<string>): void {
    for (const key of [...this.failures.keys()]) if (!live.has(key)) this.failures.delete(key);
  }

  /** The keys each structure holds, for tests and the soak benchmark. */
  keysHeld(): { waiting: string[]; processing: string[]; failures: string[] } {
    return {
      waiting: [...this.dirty].sort(),
      processing: [...this.processing.keys()].sort(),
      failures: [...this.failures.keys()].sort(),
    };
  }

  /** The next key to process, or undefined once the queue is shut down. Call `done` when finished with it. */
  get(): Promise<string | undefined> {
    const key = this.lanes.take() ?? this.sweeps.take();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.set(key, this.clock.now());
      this.observer?.depth(this.length);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    if (this.processing.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Seconds the longest-running key has been processed, 0 when none is. */
  longestRunningSeconds(): number {
    let oldest = Infinity;
    for (const started of this.processing.values()) oldest = Math.min(oldest, started);
    return oldest === Infinity ? 0 : Math.max(0, (this.clock.now() - oldest) / 1000);
  }

  /** Keys being processed now. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Stops handing out keys (waiting workers get undefined) and drops delayed adds; resolves when none is in flight. */
  async shutDown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shutdown.abort();
      this.lanes.clear();
      this.sweeps.clear();
      this.dirty.clear();
      this.observer?.depth(0);
      for (const w of this.waiters.splice(0)) w(undefined);
    }
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}

/** First-in-first-out lanes, one per kind (a key's `Kind/` prefix), taken in turn. */
class Lanes {
  private readonly byKind = new Map<string, string[]>();
  /** The lane the next `take` starts at. */
  private next = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(key: string): void {
    const kind = key.slice(0, Math.max(0, key.indexOf("/")));
    let lane = this.byKind.get(kind);
    if (lane === undefined) this.byKind.set(kind, (lane = []));
    lane.push(key);
    this.count++;
  }

  /** The next key, taking the lanes in turn. A lane that empties is dropped: the map follows the backlog. */
  take(): string | undefined {
    if (this.count === 0) return undefined;
    const kinds = [...this.byKind.keys()];
    const at = this.next % kinds.length;
    const kind = kinds[at]!;
    const lane = this.byKind.get(kind)!;
    const key = lane.shift()!;
    this.count--;
    // The lane after this one is at `at` once this one is dropped, at `at + 1` while it stays.
    if (lane.length === 0) {
      this.byKind.delete(kind);
      this.next = at;
    } else this.next = at + 1;
    return key;
  }

  clear(): void {
    this.byKind.clear();
    this.count = 0;
    this.next = 0;
  }
}
