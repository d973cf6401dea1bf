import { pool } from "../../controllers/pool.ts";
import { AwsError } from "../../controllers/aws/errors.ts";
import { systemClock, timerClockOf, type Clock, type TimerClock } from "../../controllers/clock.ts";
import type { CloudMapApi, OperationStatus } from "./cloud-map-api.ts";
import { cloudMapOperationMachine } from "./operation-effects.ts";
import {
  DEFAULT_OPERATION_TIMEOUT_MS,
  waitForOperation,
  type OperationMachine,
} from "./operation-machine.ts";

/** Waits for Cloud Map operations on the injected clock. */
export class OperationWaiter {
  private readonly machine: OperationMachine;
  private readonly timers: TimerClock;
  private readonly timeoutMs: number;

  constructor(api: CloudMapApi, options: { clock?: Clock; timeoutMs?: number } = {}) {
    this.machine = cloudMapOperationMachine(api);
    this.timers = timerClockOf(options.clock ?? systemClock);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  }

  wait(operationId: string, what: string, signal?: AbortSignal): Promise<OperationStatus> {
    return waitForOperation(
      this.machine,
      { operationId, what, timeoutMs: this.timeoutMs },
      { clock: this.timers, signal },
    );
  }
}

/** Some of a batch of Cloud Map changes failed; the others were made. */
export class CloudMapApplyError extends Error {
  override readonly name = "CloudMapApplyError";
  readonly failures: readonly Error[];
  constructor(message: string, failures: readonly Error[]) {
    // The controller reads the cause to decide whether to retry: one retryable failure makes the batch worth retrying.
    super(message, { cause: failures.find((f) => !(f instanceof AwsError) || f.retryable) ?? failures[0] });
    this.failures = failures;
  }
}

/**
 * Runs every job, `limit` at a time, and lets each finish even when another fails: one bad instance must not keep
 * the others out of DNS. Throws one error naming how many failed and why the first did.
 */
export async function runAll(
  jobs: readonly (() => Promise<void>)[],
  limit: number,
  signal?: AbortSignal,
): Promise<void> {
  const failures: Error[] = [];
  await pool(jobs, limit, async (job) => {
    signal?.throwIfAborted();
    try {
      await job();
    } catch (error) {
      if (signal?.aborted) throw error;
      failures.push(error instanceof Error ? error : new Error(String(error)));
    }
  });
  if (failures.length > 0) {
    throw new CloudMapApplyError(
      `${failures.length} of ${jobs.length} Cloud Map change(s) failed; first: ${failures[0]?.message}`,
      failures,
    );
  }
}
