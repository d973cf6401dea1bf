import { AwsError } from "../../controllers/aws/errors.ts";
import { Backoff } from "../../controllers/backoff.ts";
import { systemClock, type Clock } from "../../controllers/clock.ts";
import {
  OperationInProgressError,
  type CloudMapApi,
  type OperationId,
  type OperationState,
} from "./cloud-map-api.ts";
import { CloudMapOperationError, DEFAULT_OPERATION_TIMEOUT_MS } from "./operation-machine.ts";

/**
 * RegisterInstance and DeregisterInstance requests in flight at once, for the whole process (every spec's instances
 * share them). AWS publishes no request rate for these two (its published Cloud Map API quotas are DiscoverInstances'
 * 1,000 a second, 2,000 burst, and DiscoverInstancesRevision's 3,000); at Cloud Map's usual answer time of tens to
 * hundreds of milliseconds, 16 in flight is on the order of 50 to 300 requests a second. A client-side rate limit per
 * AWS service, where one is configured, applies on top.
 */
export const INSTANCE_WRITES_IN_FLIGHT = 16;

/**
 * First listing 250 ms after the newest operation of a service joined, doubling to at most 5 s while none joins:
 * instance operations take a few seconds on AWS. The operator's one backoff policy, jitter included.
 */
export const LISTING_BACKOFF = new Backoff({ baseMs: 250, maxMs: 5_000 });

/**
 * How far the UPDATE_DATE window reaches beyond the operations waited for, both ways: AWS's clock and ours may
 * disagree by this much before an operation could fall outside it.
 */
const CLOCK_SKEW_MS = 15 * 60_000;

/** The statuses listed: the operations not (yet) known to have succeeded. */
const UNFINISHED: readonly OperationState[] = ["SUBMITTED", "PENDING", "FAIL"];

interface Waiter {
  readonly operationId: string;
  readonly what: string;
  readonly since: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface ServiceGroup {
  /** One entry per wait: two reconciles may wait for the same operation. */
  readonly waiting: Set<Waiter>;
  /** Listings since an operation last joined: the backoff's exponent. */
  quietRounds: number;
  /** Aborted once nobody waits any more: ends the sleep or listing in flight. */
  readonly stop: AbortController;
}

export interface InstanceOperationsOptions {
  readonly clock?: Clock | undefined;
  /** How long one operation may take before its wait fails as timed out (the next reconcile looks again). */
  readonly timeoutMs?: number | undefined;
  readonly inFlight?: number | undefined;
  readonly backoff?: Backoff | undefined;
}

/**
 * Sends instance registrations and deregistrations, a bounded number at a time, and waits for their operations
 * together: per service, one ListOperations (all its pages) per round lists that service's operations that have not
 * succeeded, whichever spec or reconcile started them, instead of one GetOperation per operation and round.
 *
 * An operation waited for that the listing does not show has left SUBMITTED and PENDING without failing: it
 * succeeded. Only operations that joined before a listing was sent are decided by it. Should Cloud Map's listing lag
 * behind its answer to RegisterInstance (AWS documents no such lag), an operation read as finished too early costs
 * nothing lasting: every pass reads ListInstances again and plans what is still missing.
 *
 * Crash-safe: a restarted operator knows none of the old process's operations; a request it sends for an instance
 * whose operation is still in progress is refused with `DuplicateRequest`, which names that operation: it is waited
 * for like one of ours, and the request is sent again.
 */
export class InstanceOperations {
  private readonly api: CloudMapApi;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly backoff: Backoff;
  private readonly slots: number;
  private inUse = 0;
  private readonly queue: (() => void)[] = [];
  private readonly groups = new Map<string, ServiceGroup>();

  constructor(api: CloudMapApi, options: InstanceOperationsOptions = {}) {
    this.api = api;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.backoff = options.backoff ?? LISTING_BACKOFF;
    this.slots = options.inFlight ?? INSTANCE_WRITES_IN_FLIGHT;
  }

  /**
   * Sends `request` (RegisterInstance or DeregisterInstance; undefined: nothing to do) within the in-flight bound,
   * then waits for its operation. Rejects with `CloudMapOperationError` when the operation fails or times out.
   */
  async send(
    serviceId: string,
    what: string,
    request: (signal: AbortSignal | undefined) => Promise<OperationId | undefined>,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let operationId: OperationId | undefined;
      try {
        operationId = await this.limited(() => request(signal), signal);
      } catch (error) {
        // Someone else's operation on this instance first (once: a second refusal goes to the next reconcile).
        if (error instanceof OperationInProgressError && attempt === 0) {
          await this.wait(
            serviceId,
            error.operationId,
            `${what}: the operation in progress before it`,
            signal,
          );
          continue;
        }
        throw error;
      }
      if (operationId !== undefined) await this.wait(serviceId, operationId, what, signal);
      return;
    }
  }

  /** Waits for one operation on `serviceId`, polled with that service's others. */
  wait(serviceId: string, operationId: OperationId, what: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      let group = this.groups.get(serviceId);
      // A group whose waiters all left is ending; a new one starts beside it.
      const start = group === undefined || group.stop.signal.aborted;
      if (group === undefined || start) {
        group = { waiting: new Set(), quietRounds: 0, stop: new AbortController() };
        this.groups.set(serviceId, group);
      }
      const g = group;
      const onAbort = (): void => {
        g.waiting.delete(waiter);
        if (g.waiting.size === 0) g.stop.abort();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = (): void => {
        signal?.removeEventListener("abort", onAbort);
        g.waiting.delete(waiter);
      };
      const waiter: Waiter = {
        operationId,
        what,
        since: this.clock.now(),
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      g.waiting.add(waiter);
      g.quietRounds = 0;
      if (start) void this.poll(serviceId, g);
    });
  }

  /** The services being polled, for tests. */
  polling(): string[] {
    return [...this.groups.keys()].sort();
  }

  private async poll(serviceId: string, group: ServiceGroup): Promise<void> {
    try {
      while (group.waiting.size > 0) {
        await this.clock.sleep(this.backoff.delayMs(group.quietRounds), group.stop.signal);
        group.quietRounds++;
        const now = this.clock.now();
        for (const w of [...group.waiting]) {
          if (now - w.since >= this.timeoutMs) {
            w.reject(
              new CloudMapOperationError(
                `${w.what}: Cloud Map operation ${w.operationId} did not finish within ` +
                  `${Math.round(this.timeoutMs / 1000)} s; the next reconcile looks again`,
                w.operationId,
                { outcome: "timed-out" },
              ),
            );
          }
        }
        // Decided by this listing: the operations waited for when it is sent.
        const asked = [...group.waiting];
        if (asked.length === 0) break;
        const oldest = Math.min(...asked.map((w) => w.since));
        let unfinished: Map<string, OperationState>;
        try {
          const listed = await this.api.listServiceOperations(
            {
              serviceId,
              statuses: UNFINISHED,
              updatedFrom: oldest - CLOCK_SKEW_MS,
              updatedTo: now + CLOCK_SKEW_MS,
            },
            group.stop.signal,
          );
          unfinished = new Map(listed.map((o) => [o.id, o.status]));
        } catch (error) {
          if (group.stop.signal.aborted) return;
          // Throttled or a 5xx: the next round asks again, later. Anything else says nothing of the operations.
          if (error instanceof AwsError && error.retryable) continue;
          for (const w of asked) {
            w.reject(
              new CloudMapOperationError(`${w.what}: ${(error as Error).message}`, w.operationId, {
                cause: error,
                outcome: "stopped",
              }),
            );
          }
          continue;
        }
        for (const w of asked) {
          if (!group.waiting.has(w)) continue;
          const status = unfinished.get(w.operationId);
          if (status === undefined) w.resolve();
          else if (status === "FAIL") w.reject(await this.failure(w));
        }
      }
    } catch (error) {
      // Aborted: nobody waits any more. Anything else would be a defect here; it must not leave anyone waiting.
      if (!group.stop.signal.aborted) for (const w of [...group.waiting]) w.reject(error);
    } finally {
      if (this.groups.get(serviceId) === group) this.groups.delete(serviceId);
    }
  }

  /** A failed operation, with Cloud Map's reason (one GetOperation: failures are rare, and a summary has no reason). */
  private async failure(w: Waiter): Promise<CloudMapOperationError> {
    const status = await this.api.getOperation(w.operationId).catch(() => undefined);
    return new CloudMapOperationError(
      `${w.what}: ${status?.errorMessage ?? "the operation failed"}`,
      w.operationId,
      { outcome: "failed" },
    );
  }

  /** Runs `fn` once fewer than `slots` others run. */
  private async limited<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.inUse >= this.slots) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = this.queue.indexOf(go);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal?.reason);
        };
        const go = (): void => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.queue.push(go);
      });
    } else {
      this.inUse++;
    }
    try {
      signal?.throwIfAborted();
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.inUse--;
    }
  }
}
