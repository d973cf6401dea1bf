import { describe, expect, it } from "vitest";
import { AwsError } from "./aws/errors.ts";
import { DeadlineExceededError } from "./deadline.ts";
import { DependencyNotReadyError, StalePlanError, TerminalError } from "./reconciler.ts";
import { isRetryable } from "./retries.ts";

describe("isRetryable", () => {
  it("retries what a later try may fix, anywhere in the cause chain", () => {
    expect(isRetryable(new StalePlanError("the family changed since it was planned"))).toBe(true);
    expect(isRetryable(new Error("wrapped", { cause: new StalePlanError("stale") }))).toBe(true);
    expect(isRetryable(new DependencyNotReadyError("namespace not there yet"))).toBe(true);
    expect(
      isRetryable(new AwsError("throttled", "ecs", "ListTasks", "ThrottlingException", "Rate exceeded")),
    ).toBe(true);
  });

  it("does not retry a spec problem, an error it does not know, or a deadline that ran out", () => {
    expect(isRetryable(new TerminalError("bad spec"))).toBe(false);
    expect(isRetryable(new Error("unknown"))).toBe(false);
    expect(isRetryable(new DeadlineExceededError("reconcile of X", 1000))).toBe(false);
  });
});
