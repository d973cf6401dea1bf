import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import type { CloudMapApi } from "../../reconcilers/cloud-map/cloud-map-api.ts";
import { NotLeaderError, Term } from "./term.ts";
import { guardWrites, LeaseWriteGuard } from "./write-guard.ts";

const RENEW = 10_000;

function termAt(clock: ManualClock, sentAt = clock.now()) {
  const expired: string[] = [];
  const term = new Term({
    epoch: 3,
    identity: "a",
    clock,
    renewDeadlineMs: RENEW,
    sentAt,
    onExpired: () => expired.push("expired"),
    onFencedOut: () => undefined,
  });
  return { term, expired };
}

/** The Cloud Map writes a guard wraps (every other method is a read). */
const CLOUD_MAP_WRITES = [
  "createPrivateDnsNamespace",
  "updateNamespaceDescription",
  "deleteNamespace",
  "createService",
  "updateServiceDnsRecords",
  "deleteService",
  "registerInstance",
  "deregisterInstance",
  "setInstanceHealth",
  "tag",
] as const satisfies readonly (keyof CloudMapApi)[];

describe("LeaseWriteGuard", () => {
  it("lets a write start only while it can end, with its margin, before the renew deadline", async () => {
    const clock = new ManualClock(50_000);
    const { term } = termAt(clock);
    const guard = new LeaseWriteGuard({ term: () => term, marginMs: 2_000 });
    expect(guard.check()).toBe(term);
    await clock.advance(RENEW - 2_001);
    expect(guard.check()).toBe(term);
    await clock.advance(1);
    expect(() => guard.check()).toThrow(
      new NotLeaderError(
        "term 3 of a has less than 2000 ms left before its renew deadline; the write is not started",
      ),
    );
    // The term itself is not over until its deadline: a Route 53 batch (fenced) may still go.
    expect(term.mayWrite()).toBe(true);
  });

  it("a paused process that resumes past the deadline: the check ends the term before its timer has run", async () => {
    const clock = new ManualClock(0);
    const { term, expired } = termAt(clock);
    const guard = new LeaseWriteGuard({ term: () => term });
    await clock.advance(RENEW + 30_000);
    expect(() => guard.check()).toThrow(
      /term 3 of a ended: its lease was not renewed within the renew deadline/,
    );
    expect(term.signal.aborted).toBe(true);
    expect(expired).toEqual(["expired"]);
  });

  it("on a standby nothing is written", () => {
    const guard = new LeaseWriteGuard({ term: () => undefined });
    expect(() => guard.check()).toThrow(NotLeaderError);
  });

  it("write: the term's end aborts the call it started", async () => {
    const clock = new ManualClock(0);
    const { term } = termAt(clock);
    const guard = new LeaseWriteGuard({ term: () => term });
    let seen: AbortSignal | undefined;
    const call = guard.write(undefined, (signal) => {
      seen = signal;
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    });
    term.end("lease-taken");
    await expect(call).rejects.toBeInstanceOf(NotLeaderError);
    expect(seen?.aborted).toBe(true);
  });

  it("guardWrites: a Cloud Map adapter whose writes are checked and whose reads pass", async () => {
    const clock = new ManualClock(0);
    const { term } = termAt(clock);
    const calls: string[] = [];
    const adapter = {
      prefix: "cm",
      async registerInstance(input: { instanceId: string }) {
        calls.push(`${this.prefix}:register ${input.instanceId}`);
        return "op-1";
      },
      async listInstances(serviceId: string) {
        calls.push(`${this.prefix}:list ${serviceId}`);
        return [];
      },
    };
    const guarded = guardWrites(adapter, ["registerInstance"], new LeaseWriteGuard({ term: () => term }));
    expect(await guarded.registerInstance({ instanceId: "t-1" })).toBe("op-1");
    await clock.advance(RENEW);
    await expect(guarded.registerInstance({ instanceId: "t-2" })).rejects.toBeInstanceOf(NotLeaderError);
    expect(await guarded.listInstances("srv-1")).toEqual([]);
    expect(calls).toEqual(["cm:register t-1", "cm:list srv-1"]);
    expect(CLOUD_MAP_WRITES).toHaveLength(10);
  });
});
