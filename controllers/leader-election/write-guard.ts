import { isReadOperation, type AwsRequestGuard } from "../aws/clients.ts";
import type { LeaderElectionDurations } from "./config.ts";
import { NotLeaderError, type LeaderTerm } from "./term.ts";

/**
 * A margin for writes that AWS cannot fence: a write checked with it starts only if it can last this long and still
 * end before the renew deadline, which itself ends (lease duration - renew deadline) before any standby may take over.
 * Two seconds covers one Cloud Map or ECS request.
 */
export const DEFAULT_WRITE_MARGIN_MS = 2_000;

/**
 * The margin for these durations: `DEFAULT_WRITE_MARGIN_MS`, or half of what a term has left just before a renewal is
 * due (renew deadline - retry period) when that is less, so that short test durations still let writes through.
 */
export function writeMarginFor(d: LeaderElectionDurations): number {
  return Math.min(DEFAULT_WRITE_MARGIN_MS, (d.renewDeadlineMs - d.retryPeriodMs) / 2);
}

/**
 * For the AWS APIs without conditional writes (Cloud Map, ECS, Auto Scaling's CompleteLifecycleAction, S3, CloudWatch
 * and CloudWatch Logs): the lease is checked right before each write, on the monotonic clock, with a margin. What this
 * leaves open is written down in manifests/deploy/LEADER-ELECTION.md: a process that stops between the check and the
 * send (a pause of seconds exactly there), and a request that AWS applies late.
 */
export class LeaseWriteGuard {
  private readonly term: () => LeaderTerm | undefined;
  readonly marginMs: number;

  constructor(options: { term: () => LeaderTerm | undefined; marginMs?: number | undefined }) {
    this.term = options.term;
    this.marginMs = options.marginMs ?? DEFAULT_WRITE_MARGIN_MS;
  }

  /** The term to write under; a `NotLeaderError` when there is none or it has less than the margin left. */
  check(): LeaderTerm {
    const term = this.term();
    if (term === undefined) throw new NotLeaderError("this replica does not lead: the write is not sent");
    term.assertMayWrite(this.marginMs);
    return term;
  }

  /**
   * For `createAwsClients({ requestGuard })`: every HTTP attempt of a call that is not a read (by the AWS APIs' naming:
   * List, Describe, Get, Discover, ReceiveMessage) is checked right before it is sent, SDK retries included. One place
   * for every kind's writes, whichever adapter sends them; a call named as no read is a write, so the check errs on
   * the side of not writing.
   */
  readonly requestGuard: AwsRequestGuard = (_service, operation) => {
    if (!isReadOperation(operation)) this.check();
  };
}
