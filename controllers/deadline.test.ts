import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { deadline, DeadlineExceededError } from "./deadline.ts";

describe("deadline", () => {
  it("aborts its signal when the time is up, with an error naming the work and the flag", async () => {
    const clock = new ManualClock();
    const parent = new AbortController();
    const d = deadline(parent.signal, 2000, "reconcile of A/a", clock);
    await clock.advance(1999);
    expect(d.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(d.signal.aborted).toBe(true);
    expect(d.expired).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(DeadlineExceededError);
    expect((d.signal.reason as Error).message).toBe(
      "reconcile of A/a did not finish within 2s (--reconcile-timeout); its AWS calls were aborted",
    );
    d.dispose();
  });

  it("aborts with its parent, which is not an expiry", () => {
    const clock = new ManualClock();
    const parent = new AbortController();
    const d = deadline(parent.signal, 2000, "x", clock);
    parent.abort(new Error("shutting down"));
    expect(d.signal.aborted).toBe(true);
    expect(d.expired).toBe(false);
    expect((d.signal.reason as Error).message).toBe("shutting down");
  });

  it("leaves no listener on the parent and no timer once disposed", async () => {
    const clock = new ManualClock();
    const parent = new AbortController();
    for (let i = 0; i < 100; i++) deadline(parent.signal, 5000, "x", clock).dispose();
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(0);
    await clock.advance(0);
    expect(clock.pendingSleepers).toBe(0);
  });
});
