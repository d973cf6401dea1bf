import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import type { AwsCallRecord } from "./clients.ts";
import { AWS_LOSS_MS, AwsReachability } from "./reachability.ts";

const answered: AwsCallRecord = {
  service: "ecs",
  operation: "ListTasks",
  outcome: "success",
  seconds: 0.1,
  answered: true,
};
// A 5xx or AccessDenied is AWS answering.
const refused: AwsCallRecord = { ...answered, outcome: "invalid", answered: true };
const unanswered: AwsCallRecord = {
  service: "servicediscovery",
  operation: "ListNamespaces",
  outcome: "transient",
  seconds: 3,
  answered: false,
};

describe("AwsReachability", () => {
  it("has no reason before any call, nor while calls are answered, errors included", () => {
    const r = new AwsReachability({ clock: new ManualClock(0) });
    expect(r.reason()).toBeUndefined();
    r.record(answered);
    r.record(refused);
    expect(r.reason()).toBeUndefined();
  });

  it("is not met while AWS never answered an attempt that was made", () => {
    const r = new AwsReachability({ clock: new ManualClock(0) });
    r.record(unanswered);
    expect(r.reason()).toBe("AWS has not answered yet (last: servicediscovery ListNamespaces, no answer)");
    r.record(answered);
    expect(r.reason()).toBeUndefined();
  });

  it(`counts AWS lost only after ${AWS_LOSS_MS / 1000}s without any answer, and found again at the next answer`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const r = new AwsReachability({ clock });
    r.record(answered);
    await clock.advance(1000);
    r.record(unanswered);
    await clock.advance(AWS_LOSS_MS - 1);
    r.record(unanswered);
    // A blip the SDK's retries ride out is no loss.
    expect(r.reason()).toBeUndefined();
    await clock.advance(1);
    expect(r.reason()).toBe(
      "AWS has not answered for 30s, since 2026-01-01T00:00:01.000Z (last: servicediscovery ListNamespaces, no answer)",
    );
    r.record(refused);
    expect(r.reason()).toBeUndefined();
    // A new loss counts from its own first unanswered attempt.
    r.record(unanswered);
    await clock.advance(AWS_LOSS_MS / 2);
    expect(r.reason()).toBeUndefined();
  });
});
