import { randomUUID } from "node:crypto";
import { AwsError } from "../../controllers/aws/errors.ts";
import { systemClock, type Clock } from "../../controllers/clock.ts";
import { CloudMapOperationError } from "./operation-machine.ts";

/**
 * Cloud Map's idempotency tokens (`CreatorRequestId` of CreatePrivateDnsNamespace, CreateService and
 * RegisterInstance, `UpdaterRequestId` of UpdatePrivateDnsNamespace). AWS: "A unique string that identifies the
 * request and that allows failed requests to be retried without the risk of executing the operation twice"; for
 * RegisterInstance, "You must use a unique CreatorRequestId string every time you submit a RegisterInstance request if
 * you're registering additional instances for the same namespace and service".
 * A token names one intended request: Cloud Map answers a second request with a token it has seen with the first
 * one's operation, so a token derived from the request's content would make a registration that someone undid by
 * hand (or a description changed A -> B -> A) return the old, finished operation and never heal.
 *
 * So each intended request gets a fresh random token, held in its slot (what the request is about: one instance of
 * one service, one namespace) while its outcome is unknown, and reused only when the same request is sent again
 * meanwhile (a retry after a lost answer or a timeout). Once Cloud Map has answered for good (the operation
 * succeeded or failed), the slot is settled and the next request there, even an identical one, is a new intent with
 * a new token. After a restart every token is new: a request whose answer was lost by the old process shows in AWS by
 * then, or is refused as a duplicate (a conflict, read again), never executed twice.
 */
export class RequestTokens {
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly newToken: () => string;
  private readonly slots = new Map<string, { request: string; token: string; at: number }>();

  constructor(options: { clock?: Clock; maxAgeMs?: number; newToken?: () => string } = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxAgeMs = options.maxAgeMs ?? 60 * 60_000;
    this.newToken = options.newToken ?? (() => randomUUID());
  }

  /** The token for `request` in `slot`: the one held if this same request is still unsettled there, else a new one. */
  token(slot: string, request: string): string {
    this.expire();
    const held = this.slots.get(slot);
    if (held !== undefined && held.request === request) return held.token;
    const token = this.newToken();
    this.slots.set(slot, { request, token, at: this.clock.now() });
    return token;
  }

  /** Cloud Map has answered the request in `slot` for good: the next one there is a new intent. */
  settle(slot: string): void {
    this.slots.delete(slot);
  }

  /**
   * Sends a request with its slot's token (`send` includes waiting for its operation) and settles the slot once Cloud
   * Map has answered for good: the operation succeeded, or it failed, or the request was refused (invalid, or its
   * service gone). A lost answer, a timeout or throttling keeps the token for the retry.
   */
  async run<T>(slot: string, request: string, send: (token: string) => Promise<T>): Promise<T> {
    const token = this.token(slot, request);
    try {
      const out = await send(token);
      this.settle(slot);
      return out;
    } catch (error) {
      if (answeredForGood(error)) this.settle(slot);
      throw error;
    }
  }

  /** Forgets the slots under `prefix` that are not in `live` (an instance no longer planned, say). */
  retain(prefix: string, live: ReadonlySet<string>): void {
    for (const slot of [...this.slots.keys()]) {
      if (slot.startsWith(prefix) && !live.has(slot)) this.slots.delete(slot);
    }
  }

  /** The slots held, for tests and the soak benchmark. */
  held(): string[] {
    return [...this.slots.keys()].sort();
  }

  /** A request unsettled for an hour is not retried any more: its slot goes (bounding the map by time as well). */
  private expire(): void {
    const now = this.clock.now();
    for (const [slot, held] of this.slots) if (now - held.at > this.maxAgeMs) this.slots.delete(slot);
  }
}

function answeredForGood(error: unknown): boolean {
  if (error instanceof CloudMapOperationError) return error.outcome === "failed";
  // Refused outright (invalid, or what it names is gone): Cloud Map did not take the request, a new one is a new intent.
  return (
    error instanceof AwsError &&
    (error.errorClass === "invalid" || error.errorClass === "terminal" || error.errorClass === "not-found")
  );
}
