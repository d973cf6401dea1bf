import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { WorkQueue } from "./work-queue.ts";

describe("WorkQueue", () => {
  it("hands a key added twice out once", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add("A/a");
    q.add("B/b");
    q.add("A/a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("A/a");
    expect(await q.get()).toBe("B/b");
    expect(q.length).toBe(0);
  });

  it("takes the kinds in turn, each kind's keys in the order they came, and sweeps once no spec waits", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    for (let i = 1; i <= 4; i++) q.add(`CloudMapService/s${i}`);
    q.add("WeightedRecordSet/w1");
    q.add("WeightedRecordSet/w2");
    q.add("CloudMapService/*");
    q.add("LogAlarm/*");
    const order: string[] = [];
    for (let i = 0; i < 9; i++) {
      const key = (await q.get()) ?? "";
      order.push(key);
      q.done(key);
      // A spec's key that comes while sweeps wait goes before them.
      if (i === 5) q.add("WeightedRecordSet/w3");
    }
    expect(order).toEqual([
      "CloudMapService/s1",
      "WeightedRecordSet/w1",
      "CloudMapService/s2",
      "WeightedRecordSet/w2",
      "CloudMapService/s3",
      "CloudMapService/s4",
      "WeightedRecordSet/w3",
      "CloudMapService/*",
      "LogAlarm/*",
    ]);
    expect(q.length).toBe(0);
    // A kind that comes back after its lane emptied waits its turn behind the others.
    q.add("CloudMapService/s1");
    q.add("WeightedRecordSet/w1");
    q.add("CloudMapService/s2");
    const again: string[] = [];
    for (let i = 0; i < 3; i++) again.push((await q.get()) ?? "");
    expect(again).toEqual(["CloudMapService/s1", "WeightedRecordSet/w1", "CloudMapService/s2"]);
  });

  it("never hands a key being processed to a second worker, and hands it again when done", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add("A/a");
    const key = await q.get();
    q.add("A/a");
    expect(q.length).toBe(0);
    let second: string | undefined = "none";
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe("none");
    q.done(key ?? "");
    await new Promise((r) => setImmediate(r));
    expect(second).toBe("A/a");
  });

  it("backs a failing key off exponentially from 5 ms, capped, and forgets on success", () => {
    const q = new WorkQueue({ clock: new ManualClock(), maxDelayMs: 180_000 });
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      delays.push(q.backoffOf("A/a"));
      q.addRateLimited("A/a");
    }
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(Math.max(...delays)).toBe(180_000);
    expect(q.retries("A/a")).toBe(20);
    q.forget("A/a");
    expect(q.backoffOf("A/a")).toBe(5);
    void q.shutDown();
  });

  it("re-adds a rate-limited key only after its backoff has passed", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, random: () => 1 });
    q.addRateLimited("A/a");
    q.addRateLimited("A/a");
    await clock.advance(4);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("A/a");
  });

  it("spreads retries of keys that failed together over the second half of their backoff", async () => {
    const clock = new ManualClock();
    let draw = 0;
    const q = new WorkQueue({ clock, baseDelayMs: 1000, random: () => [0, 0.5, 0.999][draw++ % 3]! });
    for (const k of ["A/a", "B/b", "C/c"]) q.addRateLimited(k);
    await clock.advance(499);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    await clock.advance(250);
    expect(q.length).toBe(2);
    await clock.advance(250);
    expect(q.length).toBe(3);
  });

  it("passes retries through the global bucket: past the burst, 10 a second", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, retriesPerSecond: 10, retryBurst: 3, random: () => 1 });
    for (let i = 0; i < 6; i++) q.addRateLimited(`K/${i}`);
    await clock.advance(5);
    expect(q.length).toBe(3);
    await clock.advance(100);
    expect(q.length).toBe(4);
    await clock.advance(200);
    expect(q.length).toBe(6);
  });

  it("counts adds, retries and depth for its observer", async () => {
    const seen = { added: 0, retried: 0, depth: -1 };
    const q = new WorkQueue({
      clock: new ManualClock(),
      observer: {
        added: () => seen.added++,
        retried: () => seen.retried++,
        depth: (n) => (seen.depth = n),
      },
    });
    q.add("A/a");
    q.add("A/a");
    q.add("B/b");
    expect(seen).toEqual({ added: 2, retried: 0, depth: 2 });
    await q.get();
    expect(seen.depth).toBe(1);
    q.addRateLimited("A/a");
    expect(seen.retried).toBe(1);
    void q.shutDown();
  });

  it("reports how long the longest key has been processed", async () => {
    const clock = new ManualClock(1000);
    const q = new WorkQueue({ clock });
    expect(q.longestRunningSeconds()).toBe(0);
    q.add("A/a");
    await q.get();
    await clock.advance(2500);
    expect(q.longestRunningSeconds()).toBe(2.5);
  });

  it("on shut down, wakes waiting workers, drops delayed adds and waits for keys in flight", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.add("A/a");
    const key = await q.get();
    const waiting = q.get();
    q.addAfter("B/b", 10);
    let drained = false;
    const shut = q.shutDown().then(() => (drained = true));
    expect(await waiting).toBeUndefined();
    await clock.advance(20);
    expect(q.length).toBe(0);
    expect(drained).toBe(false);
    q.done(key ?? "");
    await shut;
    expect(drained).toBe(true);
    q.add("C/c");
    expect(await q.get()).toBeUndefined();
  });
});
