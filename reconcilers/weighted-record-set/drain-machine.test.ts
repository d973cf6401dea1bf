import { describe, expect, it } from "vitest";
import { createActor, fromPromise, SimulatedClock, toPromise } from "xstate";
import { AwsError } from "../../controllers/aws/errors.ts";
import { drainMachine, type DrainInput } from "./drain-machine.ts";

const input: DrainInput = {
  groupName: "logs",
  hookName: "drain-dns",
  instanceId: "i-0001",
  waitSeconds: 40,
  recordPresent: true,
};

/** Effects that record their calls; the record removal resolves when the test says so. */
function fakes(
  options: { completeResult?: boolean; completeError?: Error; syncAnswers?: (boolean | Error)[] } = {},
) {
  const calls: string[] = [];
  let removed!: () => void;
  const removal = new Promise<void>((r) => (removed = r));
  const machine = drainMachine.provide({
    actors: {
      removeRecord: fromPromise<void, DrainInput>(async ({ input }) => {
        calls.push(`remove ${input.instanceId}`);
        await removal;
      }),
      changesInSync: fromPromise<boolean, DrainInput>(async ({ input }) => {
        calls.push(`sync? ${(input.changeIds ?? []).join(",")}`);
        const next = options.syncAnswers?.shift() ?? true;
        if (next instanceof Error) throw next;
        return next;
      }),
      completeLifecycleAction: fromPromise<boolean, DrainInput>(async ({ input }) => {
        calls.push(`complete ${input.groupName}/${input.hookName}/${input.instanceId}`);
        if (options.completeError) throw options.completeError;
        return options.completeResult ?? true;
      }),
    },
  });
  return { calls, machine, removed: () => removed() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("drainMachine", () => {
  it("removes the record, waits TTL + seconds, then completes the lifecycle action", async () => {
    const clock = new SimulatedClock();
    const f = fakes();
    const actor = createActor(f.machine, { input, clock }).start();
    expect(actor.getSnapshot().value).toBe("removingRecord");
    await tick();
    expect(f.calls).toEqual(["remove i-0001"]);
    f.removed();
    await tick();
    expect(actor.getSnapshot().value).toBe("waiting");
    clock.increment(39_999);
    await tick();
    expect(actor.getSnapshot().value).toBe("waiting");
    expect(f.calls).toEqual(["remove i-0001"]);
    clock.increment(1);
    expect(await toPromise(actor)).toEqual({ instanceId: "i-0001", outcome: "continued" });
    expect(f.calls).toEqual(["remove i-0001", "complete logs/drain-dns/i-0001"]);
  });

  it("recovers after a restart: the record already gone, it waits the full time again", async () => {
    const clock = new SimulatedClock();
    const f = fakes();
    const actor = createActor(f.machine, { input: { ...input, recordPresent: false }, clock }).start();
    expect(actor.getSnapshot().value).toBe("waiting");
    clock.increment(40_000);
    expect(await toPromise(actor)).toEqual({ instanceId: "i-0001", outcome: "continued" });
    expect(f.calls).toEqual(["complete logs/drain-dns/i-0001"]);
  });

  it("reports an action that was already gone, and a failure", async () => {
    const clock = new SimulatedClock();
    const gone = createActor(fakes({ completeResult: false }).machine, {
      input: { ...input, recordPresent: false, waitSeconds: 0 },
      clock,
    }).start();
    clock.increment(0);
    expect((await toPromise(gone)).outcome).toBe("already-gone");

    const failing = createActor(fakes({ completeError: new Error("AccessDenied") }).machine, {
      input: { ...input, recordPresent: false, waitSeconds: 1 },
      clock,
    }).start();
    clock.increment(1000);
    const out = await toPromise(failing);
    expect(out.outcome).toBe("failed");
    expect((out.error as Error).message).toBe("AccessDenied");
  });

  it("starts the hold once the removal is INSYNC on every name server, not when Route 53 accepted it", async () => {
    const clock = new SimulatedClock();
    const throttled = new AwsError("throttled", "route53", "GetChange", "Throttling", "Rate exceeded");
    const f = fakes({ syncAnswers: [false, throttled, false, true] });
    const actor = createActor(f.machine, { input: { ...input, changeIds: ["C1"] }, clock }).start();
    await tick();
    f.removed();
    await tick();
    expect(actor.getSnapshot().value).toEqual({ syncing: "pausing" });
    // Polls at most 1 s, 2 s, 4 s apart until INSYNC; the 40 s hold starts only then.
    let waited = 0;
    while (actor.getSnapshot().value !== "waiting" && waited < 10_000) {
      clock.increment(100);
      waited += 100;
      await tick();
    }
    expect(waited).toBeGreaterThanOrEqual(500 + 1000 + 2000);
    expect(f.calls.filter((c) => c.startsWith("sync?"))).toEqual([
      "sync? C1",
      "sync? C1",
      "sync? C1",
      "sync? C1",
    ]);
    clock.increment(39_999);
    await tick();
    expect(f.calls.some((c) => c.startsWith("complete"))).toBe(false);
    clock.increment(1);
    expect((await toPromise(actor)).outcome).toBe("continued");
  });

  it("fails, to be retried, when the removal stays PENDING past its deadline", async () => {
    const clock = new SimulatedClock();
    const f = fakes({ syncAnswers: Array.from({ length: 100 }, () => false) });
    const actor = createActor(f.machine, {
      input: { ...input, changeIds: ["C1"], syncTimeoutMs: 30_000 },
      clock,
    }).start();
    await tick();
    f.removed();
    for (let i = 0; i < 31; i++) {
      await tick();
      clock.increment(1000);
    }
    const out = await toPromise(actor);
    expect(out.outcome).toBe("failed");
    expect((out.error as Error).message).toBe("Route 53 change C1 was not INSYNC within 30 s");
    expect(f.calls.some((c) => c.startsWith("complete"))).toBe(false);
  });
});
