import { describe, expect, it } from "vitest";
import { AwsError } from "../../controllers/aws/errors.ts";
import { Backoff } from "../../controllers/backoff.ts";
import { ManualClock } from "../../controllers/clock.ts";
import {
  OperationInProgressError,
  type CloudMapApi,
  type OperationStatus,
  type OperationSummary,
  type ServiceOperationsQuery,
} from "./cloud-map-api.ts";
import { InstanceOperations } from "./instance-operations.ts";
import { CloudMapOperationError } from "./operation-machine.ts";

/** Delays without jitter: 250, 500, 1000 ... 5000 ms. */
const backoff = new Backoff({ baseMs: 250, maxMs: 5_000, random: () => 1 });

/**
 * Cloud Map's operations as ListOperations and GetOperation report them: each operation's status is what the test
 * sets; one not set (or set SUCCESS) is not listed, as Cloud Map lists only the statuses asked for.
 */
class Operations {
  readonly status = new Map<string, OperationSummary["status"]>();
  readonly listings: ServiceOperationsQuery[] = [];
  readonly gets: string[] = [];
  /** Fails the next listings with these, in order. */
  readonly failures: Error[] = [];
  /** When set, listings wait for it before answering. */
  gate: Promise<void> | undefined;
  readonly api = {
    listServiceOperations: async (query: ServiceOperationsQuery): Promise<OperationSummary[]> => {
      this.listings.push(query);
      const failure = this.failures.shift();
      if (failure !== undefined) throw failure;
      const snapshot = [...this.status].flatMap(([id, status]) =>
        query.statuses.includes(status) && id.startsWith(`${query.serviceId}/`) ? [{ id, status }] : [],
      );
      await this.gate;
      return snapshot;
    },
    getOperation: async (id: string): Promise<OperationStatus> => {
      this.gets.push(id);
      return {
        id,
        status: this.status.get(id) ?? "SUCCESS",
        errorMessage: "the instance's service is gone",
        targets: {},
      };
    },
  } as unknown as CloudMapApi;

  listingsOf(serviceId: string): number {
    return this.listings.filter((q) => q.serviceId === serviceId).length;
  }
}

function settled<T>(p: Promise<T>): {
  state: () => "pending" | "resolved" | "rejected";
  error: () => unknown;
} {
  let state: "pending" | "resolved" | "rejected" = "pending";
  let error: unknown;
  p.then(
    () => (state = "resolved"),
    (e: unknown) => {
      state = "rejected";
      error = e;
    },
  );
  return { state: () => state, error: () => error };
}

describe("InstanceOperations", () => {
  it("awaits N operations on one service with one ListOperations per round, not one GetOperation each", async () => {
    const ops = new Operations();
    const clock = new ManualClock(1_000_000);
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    const ids = Array.from({ length: 10 }, (_, i) => `srv-a/op-${i}`);
    for (const id of ids) ops.status.set(id, "PENDING");
    const waits = ids.map((id) => settled(waiter.wait("srv-a", id, `register ${id}`)));

    await clock.advance(250);
    expect(ops.listings).toHaveLength(1);
    expect(waits.every((w) => w.state() === "pending")).toBe(true);

    // Six succeed, one fails, three are still running.
    for (const id of ids.slice(0, 6)) ops.status.set(id, "SUCCESS");
    ops.status.set(ids[6]!, "FAIL");
    await clock.advance(500);
    expect(ops.listings).toHaveLength(2);
    expect(waits.map((w) => w.state())).toEqual([
      ...Array(6).fill("resolved"),
      "rejected",
      ...Array(3).fill("pending"),
    ]);
    const failed = waits[6]!.error() as CloudMapOperationError;
    expect(failed).toBeInstanceOf(CloudMapOperationError);
    expect(failed.outcome).toBe("failed");
    expect(failed.message).toBe("register srv-a/op-6: the instance's service is gone");
    // The one GetOperation of the whole wait: a failure's reason, which a summary does not carry.
    expect(ops.gets).toEqual([ids[6]]);

    for (const id of ids.slice(7)) ops.status.set(id, "SUCCESS");
    await clock.advance(1000);
    expect(waits.map((w) => w.state())).toEqual([
      ...Array(6).fill("resolved"),
      "rejected",
      ...Array(3).fill("resolved"),
    ]);
    expect(ops.listings).toHaveLength(3);
    expect(ops.gets).toHaveLength(1);
    expect(waiter.polling()).toEqual([]);
    expect(clock.pendingSleepers).toBe(0);
  });

  it("asks for one service's unfinished operations, over a window that holds every one waited for", async () => {
    const ops = new Operations();
    const clock = new ManualClock(1_000_000);
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    const a = settled(waiter.wait("srv-a", "srv-a/op-1", "register a"));
    const b = settled(waiter.wait("srv-b", "srv-b/op-1", "register b"));
    await clock.advance(250);
    expect([a.state(), b.state()]).toEqual(["resolved", "resolved"]);
    expect(ops.listingsOf("srv-a")).toBe(1);
    expect(ops.listingsOf("srv-b")).toBe(1);
    for (const q of ops.listings) {
      expect(q.statuses).toEqual(["SUBMITTED", "PENDING", "FAIL"]);
      expect(q.updatedFrom).toBeLessThanOrEqual(1_000_000);
      expect(q.updatedTo).toBeGreaterThanOrEqual(1_000_250);
    }
  });

  it("decides only the operations waited for when the listing was sent, and polls again sooner after one joins", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    ops.status.set("srv-a/op-1", "PENDING");
    const first = settled(waiter.wait("srv-a", "srv-a/op-1", "register 1"));
    await clock.advance(250);
    await clock.advance(500);
    expect(ops.listings).toHaveLength(2);

    // A listing in flight when a second operation joins says nothing about it, though it is not in the answer.
    let open: () => void = () => undefined;
    ops.gate = new Promise((r) => (open = r));
    ops.status.delete("srv-a/op-1");
    await clock.advance(1000);
    expect(ops.listings).toHaveLength(3);
    const second = settled(waiter.wait("srv-a", "srv-a/op-2", "register 2"));
    ops.status.set("srv-a/op-2", "SUBMITTED");
    open();
    ops.gate = undefined;
    await clock.advance(0);
    expect([first.state(), second.state()]).toEqual(["resolved", "pending"]);

    // Its joining reset the backoff: the next round is 250 ms later, not 2 s.
    ops.status.set("srv-a/op-2", "SUCCESS");
    await clock.advance(250);
    expect(ops.listings).toHaveLength(4);
    expect(second.state()).toBe("resolved");
  });

  it("settles every wait for one operation (two reconciles may wait for the same one)", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    ops.status.set("srv-a/op-1", "PENDING");
    const first = settled(waiter.wait("srv-a", "srv-a/op-1", "register 1"));
    const second = settled(waiter.wait("srv-a", "srv-a/op-1", "register 1 again"));
    await clock.advance(250);
    ops.status.delete("srv-a/op-1");
    await clock.advance(500);
    expect([first.state(), second.state()]).toEqual(["resolved", "resolved"]);
    expect(ops.listings).toHaveLength(2);
  });

  it("times an operation out on the injected clock, and keeps waiting through a throttled listing", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff, timeoutMs: 10_000 });
    ops.status.set("srv-a/op-1", "PENDING");
    ops.failures.push(
      new AwsError("throttled", "servicediscovery", "ListOperations", "RequestLimitExceeded", "slow down"),
    );
    const w = settled(waiter.wait("srv-a", "srv-a/op-1", "register 1"));
    await clock.advance(250);
    expect(w.state()).toBe("pending");
    await clock.advance(9_000);
    expect(w.state()).toBe("pending");
    await clock.advance(5_000);
    expect(w.state()).toBe("rejected");
    const error = w.error() as CloudMapOperationError;
    expect(error.outcome).toBe("timed-out");
    expect(error.message).toMatch(/register 1: Cloud Map operation srv-a\/op-1 did not finish within 10 s/);
  });

  it("fails the waits of a listing Cloud Map refuses, as an outcome not known", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    ops.failures.push(
      new AwsError("terminal", "servicediscovery", "ListOperations", "AccessDeniedException", "not allowed"),
    );
    const w = settled(waiter.wait("srv-a", "srv-a/op-1", "register 1"));
    await clock.advance(250);
    expect(w.state()).toBe("rejected");
    expect((w.error() as CloudMapOperationError).outcome).toBe("stopped");
    expect(waiter.polling()).toEqual([]);
  });

  it("stops polling a service once every wait on it is aborted", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    ops.status.set("srv-a/op-1", "PENDING");
    const ac = new AbortController();
    const w = settled(waiter.wait("srv-a", "srv-a/op-1", "register 1", ac.signal));
    await clock.advance(250);
    ac.abort(new Error("deadline"));
    await clock.advance(0);
    expect(w.state()).toBe("rejected");
    expect((w.error() as Error).message).toBe("deadline");
    expect(waiter.polling()).toEqual([]);
    expect(clock.pendingSleepers).toBe(0);
    // A later wait on the same service starts polling again.
    ops.status.delete("srv-a/op-1");
    const again = settled(waiter.wait("srv-a", "srv-a/op-2", "register 2"));
    await clock.advance(250);
    expect(again.state()).toBe("resolved");
  });

  it("keeps at most `inFlight` requests in flight, and waits outside that bound", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff, inFlight: 4 });
    let running = 0;
    let peak = 0;
    let sent = 0;
    const sends = Array.from({ length: 40 }, (_, i) =>
      settled(
        waiter.send("srv-a", `register ${i}`, async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running--;
          sent++;
          return `srv-a/op-${i}`;
        }),
      ),
    );
    await clock.advance(0);
    for (let i = 0; i < 20 && sent < 40; i++) await clock.advance(0);
    expect(sent).toBe(40);
    expect(peak).toBe(4);
    await clock.advance(250);
    expect(sends.every((s) => s.state() === "resolved")).toBe(true);
    // The 40 operations cost one listing (the backoff restarts as each joins; they all joined before it).
    expect(ops.listings).toHaveLength(1);
  });

  it("waits for the operation already in progress on an instance, then sends its own request again", async () => {
    const ops = new Operations();
    const clock = new ManualClock();
    const waiter = new InstanceOperations(ops.api, { clock, backoff });
    ops.status.set("srv-a/theirs", "PENDING");
    const requests: string[] = [];
    const w = settled(
      waiter.send("srv-a", "register t1", async () => {
        requests.push(ops.status.get("srv-a/theirs") ?? "gone");
        if (ops.status.get("srv-a/theirs") === "PENDING") {
          throw new OperationInProgressError("RegisterInstance: in progress", "srv-a/theirs");
        }
        return "srv-a/ours";
      }),
    );
    await clock.advance(250);
    expect(requests).toEqual(["PENDING"]);
    ops.status.delete("srv-a/theirs");
    await clock.advance(500);
    expect(requests).toEqual(["PENDING", "gone"]);
    await clock.advance(250);
    expect(w.state()).toBe("resolved");
  });
});
