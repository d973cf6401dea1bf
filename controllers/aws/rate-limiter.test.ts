import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import { TokenBucket } from "./rate-limiter.ts";

describe("TokenBucket", () => {
  it("gives its burst at once, then one token per 1/rate seconds, in order", async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(2, 2, clock);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.take().then(() => got.push(i));
    await clock.advance(0);
    expect(got).toEqual([0, 1]);
    await clock.advance(500);
    expect(got).toEqual([0, 1, 2]);
    await clock.advance(1000);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it("serves every foreground waiter before a background one, whichever came first", async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(1, 1, clock);
    const got: string[] = [];
    void bucket.take().then(() => got.push("f0"));
    void bucket.take(undefined, "background").then(() => got.push("b1"));
    void bucket.take(undefined, "background").then(() => got.push("b2"));
    void bucket.take().then(() => got.push("f3"));
    await clock.advance(0);
    expect(got).toEqual(["f0"]);
    expect(bucket.queued).toEqual({ foreground: 1, background: 2 });
    await clock.advance(1000);
    expect(got).toEqual(["f0", "f3"]);
    void bucket.take().then(() => got.push("f4"));
    await clock.advance(1000);
    await clock.advance(1000);
    await clock.advance(1000);
    expect(got).toEqual(["f0", "f3", "f4", "b1", "b2"]);
  });

  it("drops a waiter whose signal aborts, and gives its token to the next", async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(1, 1, clock);
    await bucket.take();
    const abort = new AbortController();
    const left = bucket.take(abort.signal);
    const got: string[] = [];
    void bucket.take().then(() => got.push("next"));
    abort.abort(new Error("stopped"));
    await expect(left).rejects.toThrow("stopped");
    await clock.advance(1000);
    expect(got).toEqual(["next"]);
    expect(bucket.queued).toEqual({ foreground: 0, background: 0 });
  });
});
