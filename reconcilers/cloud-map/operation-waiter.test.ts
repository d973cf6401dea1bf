import { describe, expect, it } from "vitest";
import { AwsError } from "../../controllers/aws/errors.ts";
import { CloudMapApplyError, runAll } from "./operation-waiter.ts";

describe("runAll", () => {
  it("runs every job at most `limit` at a time", async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await runAll(
      Array.from({ length: 20 }, (_, i) => async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
        done.push(i);
      }),
      8,
    );
    expect(done).toHaveLength(20);
    expect(peak).toBe(8);
  });

  it("finishes the other jobs when one fails, then reports how many failed and the first reason", async () => {
    const done: number[] = [];
    const run = runAll(
      [0, 1, 2, 3].map((i) => async () => {
        if (i === 1 || i === 3) throw new Error(`instance t${i} rejected`);
        done.push(i);
      }),
      2,
    );
    await expect(run).rejects.toThrow("2 of 4 Cloud Map change(s) failed; first: instance t1 rejected");
    await expect(run).rejects.toBeInstanceOf(CloudMapApplyError);
    expect(done).toEqual([0, 2]);
  });

  it("names a retryable failure as the cause when there is one, so the controller retries the batch", async () => {
    const invalid = new AwsError("invalid", "servicediscovery", "RegisterInstance", "InvalidInput", "bad");
    const throttled = new AwsError(
      "throttled",
      "servicediscovery",
      "RegisterInstance",
      "ThrottlingException",
      "slow",
    );
    const error = await runAll(
      [invalid, throttled].map((e) => async () => {
        throw e;
      }),
      1,
    ).catch((e: unknown) => e);
    expect((error as Error).cause).toBe(throttled);
  });
});
