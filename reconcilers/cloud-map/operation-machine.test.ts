import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { fromPromise, SimulatedClock } from "xstate";
import { AwsError } from "../../controllers/aws/errors.ts";
import { Backoff } from "../../controllers/backoff.ts";
import { ManualClock, timerClockOf } from "../../controllers/clock.ts";
import type { OperationStatus } from "./cloud-map-api.ts";
import {
  CloudMapOperationError,
  operationMachine,
  pollDelayMs,
  waitForOperation,
} from "./operation-machine.ts";

const status = (s: OperationStatus["status"], errorMessage?: string): OperationStatus => ({
  id: "op-1",
  status: s,
  errorMessage,
  targets: { NAMESPACE: "ns-1" },
});

/** A machine whose GetOperation answers from a script, one answer per poll. */
function scripted(answers: (OperationStatus | undefined | Error)[]) {
  const seen: string[] = [];
  const machine = operationMachine.provide({
    actors: {
      getOperation: fromPromise<OperationStatus | undefined, { operationId: string }>(async ({ input }) => {
        seen.push(input.operationId);
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return next;
      }),
    },
  });
  return { machine, seen };
}

/** Lets promise continuations run between clock steps. */
const settle = () => new Promise((r) => setImmediate(r));

async function drive(clock: SimulatedClock, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.increment(step);
    await settle();
  }
}

describe("pollDelayMs", () => {
  it("starts at 250 ms and doubles up to 5 s, jitter taking up to half off", () => {
    const most = new Backoff({ baseMs: 250, maxMs: 5_000, random: () => 1 });
    const least = new Backoff({ baseMs: 250, maxMs: 5_000, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => pollDelayMs(n, most))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000, 5000,
    ]);
    expect([1, 2, 7].map((n) => pollDelayMs(n, least))).toEqual([125, 250, 2500]);
  });
});

describe("operationMachine", () => {
  it("polls until SUCCESS and resolves with the final status", async () => {
    const clock = new SimulatedClock();
    const { machine, seen } = scripted([status("SUBMITTED"), status("PENDING"), status("SUCCESS")]);
    const result = waitForOperation(
      machine,
      { operationId: "op-1", what: "create namespace a.local" },
      { clock },
    );
    await drive(clock, 2_000);
    await expect(result).resolves.toMatchObject({ status: "SUCCESS", targets: { NAMESPACE: "ns-1" } });
    expect(seen).toEqual(["op-1", "op-1", "op-1"]);
  });

  it("rejects with Cloud Map's message when the operation fails", async () => {
    const clock = new SimulatedClock();
    const { machine } = scripted([status("FAIL", "CANNOT_CREATE_HOSTED_ZONE")]);
    const result = waitForOperation(
      machine,
      { operationId: "op-1", what: "create namespace a.local" },
      { clock },
    );
    const check = expect(result).rejects.toThrow("create namespace a.local: CANNOT_CREATE_HOSTED_ZONE");
    await drive(clock, 500);
    await check;
  });

  it("retries a throttled GetOperation and fails at once on an invalid one", async () => {
    const throttled = new AwsError(
      "throttled",
      "servicediscovery",
      "GetOperation",
      "ThrottlingException",
      "slow",
    );
    const clock = new SimulatedClock();
    const a = scripted([throttled, status("SUCCESS")]);
    const ok = waitForOperation(a.machine, { operationId: "op-1", what: "x" }, { clock });
    const okCheck = expect(ok).resolves.toMatchObject({ status: "SUCCESS" });

    await drive(clock, 1_000);
    await okCheck;

    const invalid = new AwsError("invalid", "servicediscovery", "GetOperation", "InvalidInput", "bad id");
    const b = scripted([invalid]);
    const bad = waitForOperation(b.machine, { operationId: "op-1", what: "x" }, { clock });
    const badCheck = expect(bad).rejects.toBeInstanceOf(CloudMapOperationError);

    await drive(clock, 500);
    await badCheck;
    expect(b.seen).toHaveLength(1);
  });

  it("treats an operation Cloud Map no longer knows as failed", async () => {
    const clock = new SimulatedClock();
    const { machine } = scripted([undefined]);
    const result = waitForOperation(machine, { operationId: "op-1", what: "x" }, { clock });
    const resultCheck = expect(result).rejects.toThrow("no longer knows");

    await drive(clock, 500);
    await resultCheck;
  });

  it("times out on simulated time, with no real waiting", async () => {
    const clock = new SimulatedClock();
    const { machine, seen } = scripted(Array.from({ length: 100 }, () => status("PENDING")));
    const result = waitForOperation(
      machine,
      { operationId: "op-1", what: "x", timeoutMs: 30_000 },
      { clock },
    );
    const check = expect(result).rejects.toThrow(/did not finish within 30 s/);
    await drive(clock, 31_000);
    await check;
    // 250 + 500 + 1000 + 2000 + 4000 + 5000 * 4 < 30 s: about ten polls, not hundreds.
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.length).toBeLessThan(15);
  });

  it("stops polling when aborted", async () => {
    const clock = new SimulatedClock();
    const { machine, seen } = scripted(Array.from({ length: 100 }, () => status("PENDING")));
    const ac = new AbortController();
    const result = waitForOperation(
      machine,
      { operationId: "op-1", what: "x" },
      { clock, signal: ac.signal },
    );
    const check = expect(result).rejects.toThrow("shutting down");
    await drive(clock, 1_000);
    ac.abort(new Error("shutting down"));
    await check;
    const polls = seen.length;
    await drive(clock, 10_000);
    expect(seen.length).toBe(polls);
  });

  it("runs on the operator's injected Clock through timerClockOf", async () => {
    const clock = new ManualClock();
    const { machine } = scripted([status("PENDING"), status("SUCCESS")]);
    const result = waitForOperation(
      machine,
      { operationId: "op-1", what: "x" },
      { clock: timerClockOf(clock) },
    );
    await clock.advance(250);
    await clock.advance(500);
    await expect(result).resolves.toMatchObject({ status: "SUCCESS" });
    expect(clock.pendingSleepers).toBe(0);
  });

  it("leaves no listener on a long-lived signal after its operations end", async () => {
    const clock = new SimulatedClock();
    const lifetime = new AbortController();
    for (let i = 0; i < 20; i++) {
      const { machine } = scripted([status("SUCCESS")]);
      const result = waitForOperation(
        machine,
        { operationId: `op-${i}`, what: "x" },
        { clock, signal: lifetime.signal },
      );
      await drive(clock, 250);
      await result;
    }
    expect(getEventListeners(lifetime.signal, "abort")).toHaveLength(0);
  });
});
