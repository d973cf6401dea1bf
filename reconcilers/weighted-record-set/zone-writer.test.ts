import { describe, expect, it } from "vitest";
import type { ChangeUnit } from "./planner.ts";
import type { HostedZone, RecordChange, RecordSet, Route53Api } from "./route53-api.ts";
import { AwsError } from "../../controllers/aws/errors.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { ZoneWriter } from "./zone-writer.ts";

/** Records the batches it is sent; a batch holding a record named `bad` is rejected whole, as Route 53 would. */
class RecordingRoute53 implements Route53Api {
  readonly batches: { zone: string; ids: string[] }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  release: (() => void)[] = [];
  /** Every batch sent, failed or not. */
  sent = 0;
  /** The sent batch (1 = the first) that Route 53 answers with Throttling. */
  throttled = 0;

  /** The signal each batch was sent with. */
  readonly signals: AbortSignal[] = [];

  async changeRecordSets(
    zone: string,
    changes: readonly RecordChange[],
    signal?: AbortSignal,
  ): Promise<string> {
    if (signal !== undefined) this.signals.push(signal);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((r) => this.release.push(r));
    this.inFlight--;
    this.sent++;
    if (this.sent === this.throttled) {
      throw new AwsError("throttled", "route53", "ChangeResourceRecordSets", "Throttling", "Rate exceeded");
    }
    if (changes.some((c) => c.record.name === "bad")) {
      throw new AwsError("invalid", "route53", "ChangeResourceRecordSets", "InvalidChangeBatch", "bad");
    }
    this.batches.push({ zone, ids: changes.map((c) => c.record.setIdentifier ?? "") });
    return `C${this.sent}`;
  }
  getChange(): Promise<undefined> {
    throw new Error("unused");
  }
  zonesByName(): Promise<HostedZone[]> {
    throw new Error("unused");
  }
  zoneById(): Promise<HostedZone | undefined> {
    throw new Error("unused");
  }
  listZones(): Promise<HostedZone[]> {
    throw new Error("unused");
  }
  listRecordSets(): Promise<RecordSet[]> {
    throw new Error("unused");
  }
}

function unit(id: string, name = "ok"): ChangeUnit[] {
  return [
    {
      phase: 2,
      changes: [{ action: "CREATE", record: { name, type: "A", setIdentifier: id, values: ["10.0.0.1"] } }],
    },
  ];
}

const tick = () => new Promise((r) => setImmediate(r));
async function releaseAll(api: RecordingRoute53): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await tick();
    api.release.splice(0).forEach((r) => r());
  }
}

describe("ZoneWriter", () => {
  it("sends one batch at a time per zone, and what queued meanwhile together in the next", async () => {
    const api = new RecordingRoute53();
    const writer = new ZoneWriter(api);
    const signal = new AbortController().signal;
    const first = writer.submit("Z1", unit("a"), signal);
    await tick();
    expect(api.release).toHaveLength(1);
    const done = [
      first,
      writer.submit("Z1", unit("b"), signal),
      writer.submit("Z1", unit("c"), signal),
      writer.submit("Z2", unit("d"), signal),
    ];
    await releaseAll(api);
    await Promise.all(done);
    expect(api.batches).toEqual([
      { zone: "Z1", ids: ["a"] },
      { zone: "Z2", ids: ["d"] },
      { zone: "Z1", ids: ["b", "c"] },
    ]);
    expect(api.maxInFlight).toBe(2);
  });

  it("drops unsent a submission whose signal aborted while it waited; the others go out together", async () => {
    const api = new RecordingRoute53();
    const writer = new ZoneWriter(api);
    const signal = new AbortController().signal;
    const first = writer.submit("Z1", unit("a"), signal);
    await tick();
    // While a's batch is in flight, a sweep queues c, then withdraws it (its spec came back).
    const withdrawn = new AbortController();
    const b = writer.submit("Z1", unit("b"), signal);
    const c = writer.submit("Z1", unit("c"), withdrawn.signal).catch((e: unknown) => e);
    const d = writer.submit("Z1", unit("d"), signal);
    withdrawn.abort(new Error("the specs changed while the sweep ran"));
    await releaseAll(api);
    await Promise.all([first, b, d]);
    expect(await c).toEqual(new Error("the specs changed while the sweep ran"));
    expect(api.batches).toEqual([
      { zone: "Z1", ids: ["a"] },
      { zone: "Z1", ids: ["b", "d"] },
    ]);
    // Submitted already withdrawn: refused at once, nothing queued.
    await expect(writer.submit("Z1", unit("e"), withdrawn.signal)).rejects.toThrow("the specs changed");
    expect(api.sent).toBe(2);
  });

  it("sends a combined batch under a signal that aborts only once every submitter gave up", async () => {
    const api = new RecordingRoute53();
    const writer = new ZoneWriter(api);
    const first = writer.submit("Z1", unit("a"), new AbortController().signal);
    await tick();
    const [one, two] = [new AbortController(), new AbortController()];
    const together = Promise.allSettled([
      writer.submit("Z1", unit("b"), one.signal),
      writer.submit("Z1", unit("c"), two.signal),
    ]);
    api.release.splice(0).forEach((r) => r());
    await first;
    await tick();
    // b and c are on the wire together: b giving up does not abort c's write.
    const sent = api.signals.at(-1)!;
    one.abort();
    expect(sent.aborted).toBe(false);
    two.abort();
    expect(sent.aborted).toBe(true);
    await releaseAll(api);
    await together;
  });

  it("fails only the submission Route 53 rejects when a combined batch fails", async () => {
    const api = new RecordingRoute53();
    const writer = new ZoneWriter(api);
    const signal = new AbortController().signal;
    const first = writer.submit("Z1", unit("a"), signal);
    const bad = writer.submit("Z1", unit("x", "bad"), signal);
    const good = writer.submit("Z1", unit("b"), signal);
    const settled = Promise.allSettled([first, bad, good]);
    await releaseAll(api);
    expect((await settled).map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(api.batches).toEqual([
      { zone: "Z1", ids: ["a"] },
      { zone: "Z1", ids: ["b"] },
    ]);
  });

  it("fails every submission of a throttled combined batch at once, leaving the retry to their backoff", async () => {
    const api = new RecordingRoute53();
    const writer = new ZoneWriter(api);
    const signal = new AbortController().signal;
    api.throttled = 2;
    const first = writer.submit("Z1", unit("a"), signal);
    await tick();
    const together = [writer.submit("Z1", unit("b"), signal), writer.submit("Z1", unit("c"), signal)];
    const settled = Promise.allSettled(together);
    await releaseAll(api);
    await first;
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(results.map((r) => (r as PromiseRejectedResult).reason.errorClass)).toEqual([
      "throttled",
      "throttled",
    ]);
    // One combined batch tried, none re-sent submission by submission.
    expect(api.sent).toBe(2);
    expect(api.batches).toEqual([{ zone: "Z1", ids: ["a"] }]);
  });

  it("holds a zone's first batch while plans for the zone are being made, so one pass sends one batch", async () => {
    const api = new RecordingRoute53();
    const clock = new ManualClock();
    const writer = new ZoneWriter(api, { clock, maxHoldMs: 2000 });
    const signal = new AbortController().signal;
    const madeA = writer.planning("Z1");
    const madeB = writer.planning("Z1");
    madeA();
    const a = writer.submit("Z1", unit("a"), signal);
    await releaseAll(api);
    expect(api.batches).toEqual([]);
    madeB();
    const b = writer.submit("Z1", unit("b"), signal);
    await releaseAll(api);
    await Promise.all([a, b]);
    expect(api.batches).toEqual([{ zone: "Z1", ids: ["a", "b"] }]);
  });

  it("holds at most maxHoldMs", async () => {
    const api = new RecordingRoute53();
    const clock = new ManualClock();
    const writer = new ZoneWriter(api, { clock, maxHoldMs: 2000 });
    writer.planning("Z1");
    const a = writer.submit("Z1", unit("a"), new AbortController().signal);
    await releaseAll(api);
    expect(api.batches).toEqual([]);
    await clock.advance(2000);
    await releaseAll(api);
    await a;
    expect(api.batches).toEqual([{ zone: "Z1", ids: ["a"] }]);
  });
});
