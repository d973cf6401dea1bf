import { describe, expect, it } from "vitest";
import { Backoff } from "../backoff.ts";
import { refreshableCredentials, type Credentials } from "./credentials.ts";
import { ManualClock } from "../clock.ts";
import { OperatorRetryStrategy } from "./retry-strategy.ts";

const backoff = new Backoff({ baseMs: 100, maxMs: 5_000, random: () => 1 });
const info = (errorType: "TRANSIENT" | "THROTTLING" | "SERVER_ERROR" | "CLIENT_ERROR", name = "X") => ({
  errorType,
  error: { name },
});

describe("OperatorRetryStrategy", () => {
  it("retries transient failures with the operator's backoff, up to its attempts", async () => {
    const s = new OperatorRetryStrategy({ maxAttempts: 3, backoff });
    let t = await s.acquireInitialRetryToken("");
    t = await s.refreshRetryTokenForRetry(t, info("TRANSIENT", "InternalFailure"));
    expect([t.getRetryCount(), t.getRetryDelay()]).toEqual([1, 100]);
    t = await s.refreshRetryTokenForRetry(t, info("TRANSIENT", "InternalFailure"));
    expect([t.getRetryCount(), t.getRetryDelay()]).toEqual([2, 200]);
    await expect(s.refreshRetryTokenForRetry(t, info("TRANSIENT"))).rejects.toThrow();
  });

  it("fails at once on throttling, timeouts and client errors: the work queue's backoff takes over", async () => {
    const s = new OperatorRetryStrategy({ maxAttempts: 6, backoff });
    const t = await s.acquireInitialRetryToken("");
    await expect(s.refreshRetryTokenForRetry(t, info("THROTTLING", "Throttling"))).rejects.toThrow();
    await expect(s.refreshRetryTokenForRetry(t, info("TRANSIENT", "TimeoutError"))).rejects.toThrow();
    await expect(s.refreshRetryTokenForRetry(t, info("CLIENT_ERROR", "InvalidInput"))).rejects.toThrow();
  });

  it("retries expired credentials once, after asking the chain for new ones", async () => {
    let refreshed = 0;
    const s = new OperatorRetryStrategy({ maxAttempts: 6, backoff, refreshCredentials: () => refreshed++ });
    let t = await s.acquireInitialRetryToken("");
    t = await s.refreshRetryTokenForRetry(t, info("CLIENT_ERROR", "ExpiredToken"));
    expect([refreshed, t.getRetryDelay()]).toEqual([1, 0]);
    await expect(s.refreshRetryTokenForRetry(t, info("CLIENT_ERROR", "ExpiredToken"))).rejects.toThrow();
    expect(refreshed).toBe(1);
  });
});

describe("refreshableCredentials", () => {
  it("answers from its cache, renews five minutes before expiry, and asks the chain again when told", async () => {
    const clock = new ManualClock(0);
    let chains = 0;
    let asked = 0;
    const chain = () => {
      const n = ++chains;
      return async (): Promise<Credentials> => {
        asked++;
        return {
          accessKeyId: `key-${n}-${asked}`,
          secretAccessKey: "s",
          expiration: new Date(clock.now() + 3_600_000),
        };
      };
    };
    const c = refreshableCredentials(chain, clock);
    expect((await c.provider()).accessKeyId).toBe("key-1-1");
    expect((await c.provider()).accessKeyId).toBe("key-1-1");
    await clock.advance(3_600_000 - 5 * 60_000 + 1);
    expect((await c.provider()).accessKeyId).toBe("key-1-2");
    c.refresh();
    expect((await c.provider()).accessKeyId).toBe("key-2-3");
    expect(c.provider.memoized).toBe(true);
  });

  it("does not keep a failure", async () => {
    let fail = true;
    const c = refreshableCredentials(() => async () => {
      if (fail) throw new Error("no credentials yet");
      return { accessKeyId: "k", secretAccessKey: "s" };
    });
    await expect(c.provider()).rejects.toThrow("no credentials yet");
    fail = false;
    expect((await c.provider()).accessKeyId).toBe("k");
  });
});
