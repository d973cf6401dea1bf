import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import { NotLeaderError, Term } from "./term.ts";
import { LeaseWriteGuard, writeMarginFor } from "./write-guard.ts";

const RENEW = 10_000;

function termAt(clock: ManualClock, sentAt = clock.now()) {
  const expired: string[] = [];
  const term = new Term({
    epoch: 3,
    identity: "a",
    clock,
    renewDeadlineMs: RENEW,
    sentAt,
    onExpired: () => expired.push("expired"),
    onFencedOut: () => undefined,
  });
  return { term, expired };
}

/** Every write the kinds send to an API without conditional writes, as the SDK names the operation. */
const WRITES = [
  // Cloud Map
  "CreatePrivateDnsNamespace",
  "UpdatePrivateDnsNamespace",
  "DeleteNamespace",
  "CreateService",
  "UpdateService",
  "DeleteService",
  "RegisterInstance",
  "DeregisterInstance",
  "UpdateInstanceCustomHealthStatus",
  "TagResource",
  // ECS (task definitions and their rollout), S3 (LogRouter config objects), Auto Scaling (drains)
  "RegisterTaskDefinition",
  "PutObject",
  "CompleteLifecycleAction",
  // CloudWatch Logs and CloudWatch (LogAlarm)
  "PutMetricFilter",
  "DeleteMetricFilter",
  "PutMetricAlarm",
  "DeleteAlarms",
  // Route 53 (also fenced), SQS (the events queue's acknowledgements)
  "ChangeResourceRecordSets",
  "DeleteMessageBatch",
];
const READS = [
  "ListTasks",
  "DescribeTasks",
  "GetOperation",
  "ListInstances",
  "DiscoverInstances",
  "ListResourceRecordSets",
  "DescribeAutoScalingGroups",
  "DescribeInstances",
  "DescribeTaskDefinition",
  "GetObject",
  "DescribeMetricFilters",
  "DescribeAlarms",
  "ListTagsForResource",
  "ReceiveMessage",
];

describe("LeaseWriteGuard", () => {
  it("lets a write start only while it can end, with its margin, before the renew deadline", async () => {
    const clock = new ManualClock(50_000);
    const { term } = termAt(clock);
    const guard = new LeaseWriteGuard({ term: () => term, marginMs: 2_000 });
    expect(guard.check()).toBe(term);
    await clock.advance(RENEW - 2_001);
    expect(guard.check()).toBe(term);
    await clock.advance(1);
    expect(() => guard.check()).toThrow(
      new NotLeaderError(
        "term 3 of a has less than 2000 ms left before its renew deadline; the write is not started",
      ),
    );
    // The term itself is not over until its deadline: a Route 53 batch (fenced) may still go.
    expect(term.mayWrite()).toBe(true);
  });

  it("a paused process that resumes past the deadline: the check ends the term before its timer has run", async () => {
    const clock = new ManualClock(0);
    const { term, expired } = termAt(clock);
    const guard = new LeaseWriteGuard({ term: () => term });
    await clock.advance(RENEW + 30_000);
    expect(() => guard.check()).toThrow(
      /term 3 of a ended: its lease was not renewed within the renew deadline/,
    );
    expect(term.signal.aborted).toBe(true);
    expect(expired).toEqual(["expired"]);
  });

  it("on a standby nothing is written", () => {
    const guard = new LeaseWriteGuard({ term: () => undefined });
    expect(() => guard.check()).toThrow(NotLeaderError);
  });

  it("as the clients' request guard: every write is checked, every read passes, on a standby and past the deadline", async () => {
    const standby = new LeaseWriteGuard({ term: () => undefined });
    for (const op of WRITES) {
      expect(() => standby.requestGuard("any", op), op).toThrow(NotLeaderError);
    }
    for (const op of READS) expect(() => standby.requestGuard("any", op), op).not.toThrow();

    const clock = new ManualClock(0);
    const { term } = termAt(clock);
    const leader = new LeaseWriteGuard({ term: () => term, marginMs: 2_000 });
    for (const op of WRITES) expect(() => leader.requestGuard("any", op), op).not.toThrow();
    await clock.advance(RENEW - 1_000);
    for (const op of WRITES) expect(() => leader.requestGuard("any", op), op).toThrow(NotLeaderError);
    for (const op of READS) expect(() => leader.requestGuard("any", op), op).not.toThrow();
  });

  it("the margin: 2 s, or half of what a term has left before its next renewal when durations are short", () => {
    expect(writeMarginFor({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toBe(
      2_000,
    );
    expect(writeMarginFor({ leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 })).toBe(750);
  });
});
