import { systemClock, type Clock } from "../clock.ts";
import type { ReadinessCheck } from "../readiness.ts";
import type { AwsCallObserver, AwsCallRecord } from "./clients.ts";

/**
 * How long every call must have gone unanswered before AWS counts as lost: a blip (one reset connection, a DNS
 * hiccup) is retried by the SDK and must not flip readiness; an outage of half a minute is a replica that cannot
 * reconcile, and the default resync interval (30 s) means each pass sees at least one listing fail in it.
 */
export const AWS_LOSS_MS = 30_000;

/**
 * Whether AWS answers this process, learnt from every attempt the SDK makes (no probe of its own): an attempt that
 * got any HTTP answer, an error included, shows AWS is there; one that got none (connection refused, DNS, timeout)
 * does not. A `ReadinessCheck`: `/readyz` is 503 while AWS has never answered an attempt that was made, or has not
 * answered any for `lossMs`, and `/status` says why.
 *
 * The same object is the seam for leader election (issue 12): a replica whose `reason()` is defined must not take
 * the lease, since it could not write as leader.
 */
export class AwsReachability implements AwsCallObserver, ReadinessCheck {
  private readonly clock: Clock;
  private readonly lossMs: number;
  private answeredAt: number | undefined;
  /** The first unanswered attempt since the last answer, and the latest one. */
  private failingSince: number | undefined;
  private lastFailure: AwsCallRecord | undefined;

  constructor(options: { clock?: Clock; lossMs?: number } = {}) {
    this.clock = options.clock ?? systemClock;
    this.lossMs = options.lossMs ?? AWS_LOSS_MS;
  }

  record(call: AwsCallRecord): void {
    if (call.answered !== false) {
      this.answeredAt = this.clock.now();
      this.failingSince = undefined;
      this.lastFailure = undefined;
      return;
    }
    this.failingSince ??= this.clock.now();
    this.lastFailure = call;
  }

  reason(): string | undefined {
    const since = this.failingSince;
    const last = this.lastFailure;
    if (since === undefined || last === undefined) return undefined;
    const call = `last: ${last.service} ${last.operation}`;
    if (this.answeredAt === undefined) return `AWS has not answered yet (${call}, no answer)`;
    const lost = this.clock.now() - since;
    if (lost < this.lossMs) return undefined;
    return (
      `AWS has not answered for ${Math.round(lost / 1000)}s, since ${new Date(since).toISOString()} ` +
      `(${call}, no answer)`
    );
  }
}
