import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { LeaderElectionConfigError, type LeaderElectionConfig } from "./config.ts";
import { LeaderElector } from "./elector.ts";
import type { LeaseClientHooks, LeaseOperation } from "../../test/memory-lease-lock.ts";
import { MemoryLeaseLock } from "../../test/memory-lease-lock.ts";
import { LeaderElectionMetrics } from "./metrics.ts";
import { SimulatedProcess } from "../../test/simulated-process.ts";
import { NotLeaderError, type LeaderTerm, type TermEndReason } from "./term.ts";

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

function configOf(identity: string, over: Partial<LeaderElectionConfig> = {}): LeaderElectionConfig {
  return {
    leaseDurationMs: LEASE,
    renewDeadlineMs: RENEW,
    retryPeriodMs: RETRY,
    resourceName: "default",
    identity,
    ...over,
  };
}

interface Replica {
  readonly name: string;
  readonly process: SimulatedProcess;
  readonly elector: LeaderElector;
  /** `started N` and `stopped N reason`, in order, with the world time. */
  readonly events: { at: number; what: string }[];
  readonly terms: LeaderTerm[];
  readonly logs: string[];
}

/** A world of replicas sharing one lease store, each on its own simulated process and clock. */
class World {
  readonly clock = new ManualClock(1_000_000);
  readonly store = new MemoryLeaseLock();

  replica(
    name: string,
    options: {
      offsetMs?: number;
      rate?: number;
      latency?: (op: LeaseOperation) => number;
      hooks?: (process: SimulatedProcess) => LeaseClientHooks;
      metrics?: LeaderElectionMetrics;
      config?: Partial<LeaderElectionConfig>;
      eligible?: () => boolean;
    } = {},
  ): Replica {
    const process = new SimulatedProcess(this.clock, options);
    const events: Replica["events"] = [];
    const terms: LeaderTerm[] = [];
    const logs: string[] = [];
    const logger = recordingLogger(logs);
    const elector = new LeaderElector({
      lock: this.store.client(options.hooks?.(process) ?? process.lockHooks(options.latency)),
      config: configOf(name, options.config),
      clock: process,
      // The wall clock is the process's own: skewed, and never used to judge expiry.
      wallNow: () => 1_700_000_000_000 + process.now(),
      metrics: options.metrics,
      logger,
      eligible: options.eligible,
      onStartedLeading: (term) => {
        terms.push(term);
        events.push({ at: this.clock.now(), what: `started ${term.epoch}` });
      },
      onStoppedLeading: (term, reason: TermEndReason) => {
        events.push({ at: this.clock.now(), what: `stopped ${term.epoch} ${reason}` });
      },
    });
    return { name, process, elector, events, terms, logs };
  }

  /** Starts the replicas one after the other: the first takes the absent lease, the others find it held. */
  async startInOrder(...replicas: Replica[]): Promise<void> {
    for (const r of replicas) {
      r.elector.start();
      await this.advance(0);
    }
  }

  /** World time, relative to the start. */
  get t(): number {
    return this.clock.now() - 1_000_000;
  }

  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Advances in steps until `done` or `limitMs`; returns the world time (relative) when `done` held. */
  async until(done: () => boolean, limitMs: number, stepMs = 100): Promise<number> {
    const end = this.t + limitMs;
    while (!done()) {
      if (this.t >= end) throw new Error(`not done within ${limitMs} ms (t=${this.t})`);
      await this.advance(stepMs);
    }
    return this.t;
  }
}

function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${msg}${fields?.reason ? ` ${String(fields.reason)}` : ""}`);
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: () => logger,
  };
  return logger;
}

const leaders = (...rs: Replica[]) =>
  rs.filter((r) => r.elector.currentTerm() !== undefined).map((r) => r.name);

describe("leader election config", () => {
  const valid = configOf("a");
  it.each([
    [
      { renewDeadlineMs: 15_000 },
      "--leader-elect-renew-deadline (15s) must be below --leader-elect-lease-duration (15s)",
    ],
    [{ renewDeadlineMs: 20_000 }, "must be below --leader-elect-lease-duration"],
    [{ leaseDurationMs: 10_500 }, "must exceed --leader-elect-renew-deadline (10s) by at least 1s"],
    [
      { retryPeriodMs: 10_000 },
      "--leader-elect-retry-period (10s) must be below --leader-elect-renew-deadline (10s)",
    ],
    [{ retryPeriodMs: 0 }, "--leader-elect-retry-period must be a positive duration"],
    [{ leaseDurationMs: Number.NaN }, "--leader-elect-lease-duration must be a positive duration"],
    [{ resourceName: "" }, '--leader-elect-resource-name "" must be 1 to 128'],
    [{ resourceName: "a b" }, '--leader-elect-resource-name "a b" must be 1 to 128'],
    [{ identity: " " }, "the replica identity must not be empty"],
  ])("rejects %o before starting", (over, message) => {
    const world = new World();
    expect(() => world.replica("a", { config: over })).toThrow(LeaderElectionConfigError);
    expect(() => world.replica("a", { config: over })).toThrow(message);
  });

  it("lists every problem at once, and accepts kube-controller-manager's defaults", () => {
    const world = new World();
    expect(() => world.replica("a", { config: { renewDeadlineMs: 20_000, retryPeriodMs: 30_000 } })).toThrow(
      /renew-deadline \(20s\) must be below .*; --leader-elect-retry-period \(30s\) must be below/,
    );
    expect(() => world.replica("a", { config: valid })).not.toThrow();
  });
});

describe("LeaderElector", () => {
  it("takes an absent lease at once with epoch 1 and renews it every retry period, epoch unchanged", async () => {
    const world = new World();
    const a = world.replica("a");
    a.elector.start();
    await world.advance(0);
    const term = a.elector.currentTerm()!;
    expect(term.epoch).toBe(1);
    expect(term.mayWrite(5_000)).toBe(true);
    expect(a.events.map((e) => e.what)).toEqual(["started 1"]);
    await world.advance(RETRY * 5);
    expect(world.store.history.map((r) => [r.holder, r.epoch])).toEqual(Array(6).fill(["a", 1]));
    expect(new Set(world.store.history.map((r) => r.version)).size).toBe(6);
    expect(term.signal.aborted).toBe(false);
  });

  it("two replicas: exactly one leads while it renews, the other stays a standby", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    for (let i = 0; i < 60; i++) {
      await world.advance(1_000);
      expect(leaders(a, b)).toEqual(["a"]);
    }
    expect(b.events).toEqual([]);
    expect(b.elector.status()).toMatchObject({
      role: "standby",
      epoch: undefined,
      leader: { holder: "a", epoch: 1 },
    });
    expect(a.elector.status()).toMatchObject({ role: "leader", epoch: 1, leader: { holder: "a", epoch: 1 } });
  });

  it("a leader that dies: the standby takes over within lease duration + retry period of its last renewal", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(7_000);
    const lastRenewal = world.t - (world.t % RETRY);
    a.process.pause(); // SIGKILL: it never runs again
    const takeover = await world.until(() => leaders(b).length === 1, 30_000);
    expect(takeover - lastRenewal).toBeGreaterThanOrEqual(LEASE);
    expect(takeover - lastRenewal).toBeLessThanOrEqual(LEASE + RETRY + 100);
    expect(b.elector.currentTerm()?.epoch).toBe(2);
    expect(world.store.record).toMatchObject({ holder: "b", epoch: 2 });
  });

  it("stop: drains the writes while still renewing, ends the term, then releases; the standby takes over in a retry period", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(5_000);
    const term = a.elector.currentTerm()!;

    let drained!: () => void;
    const drain = new Promise<void>((resolve) => (drained = resolve));
    const stopped = a.elector.stop(() => drain);
    // The writes take 25 s to finish: the lease is renewed meanwhile and stays a's, unreleased.
    for (let i = 0; i < 25; i++) {
      await world.advance(1_000);
      expect(term.mayWrite()).toBe(true);
      expect(world.store.record).toMatchObject({ holder: "a", released: false });
      expect(leaders(a, b)).toEqual(["a"]);
    }
    const writesFinishedAt = world.t;
    drained();
    await world.advance(0);
    await stopped;
    // The term ended before the release was written.
    expect(term.signal.aborted).toBe(true);
    expect(term.signal.reason).toBeInstanceOf(NotLeaderError);
    expect(world.store.record).toMatchObject({ holder: "a", released: true, epoch: 1 });
    const takeover = await world.until(() => leaders(b).length === 1, 10_000);
    expect(takeover - writesFinishedAt).toBeLessThanOrEqual(RETRY);
    expect(b.elector.currentTerm()?.epoch).toBe(2);
    expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 released"]);
    expect(a.elector.status().role).toBe("stopped");
  });

  it("stop while a renewal is on the wire: the release waits for its answer and goes out on its version", async () => {
    const world = new World();
    let slow = false;
    const a = world.replica("a", { latency: (op) => (slow && op === "update" ? 1_500 : 0) });
    const b = world.replica("b");
    await world.startInOrder(a, b);
    slow = true;
    await world.advance(2_500); // a's renewal was sent at 2 s (applied at once), its answer comes at 3.5 s
    const stopped = a.elector.stop(async () => undefined);
    await world.advance(900);
    // Before the renewal's answer nothing is released (a release now would fail on the renewal's version).
    expect(world.store.record).toMatchObject({ holder: "a", released: false });
    await world.advance(3_100); // the answer at 3.5 s, then the release (answered at 5 s)
    await stopped;
    expect(world.store.history.filter((r) => r.released)).toMatchObject([{ holder: "a", epoch: 1 }]);
    // b took the released lease at its next read, not a lease duration later.
    expect(b.events.map((e) => [e.what, e.at - 1_000_000])).toEqual([["started 2", expect.any(Number)]]);
    expect(b.events[0]!.at - 1_000_000).toBeLessThanOrEqual(3_500 + RETRY);
    expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 released"]);
  });

  it("the release is sent only after the term's signal has aborted", async () => {
    const world = new World();
    const seen: boolean[] = [];
    const watched: { term?: LeaderTerm | undefined } = {};
    const a = world.replica("a", {
      hooks: (p) => ({
        ...p.lockHooks(),
        beforeSend: async (op) => {
          if (op === "update" && watched.term !== undefined) seen.push(watched.term.signal.aborted);
        },
      }),
    });
    a.elector.start();
    await world.advance(0);
    watched.term = a.elector.currentTerm();
    await world.advance(RETRY * 2);
    await a.elector.stop(async () => undefined);
    // Two renewals under a live term, then the release under an ended one.
    expect(seen).toEqual([false, false, true]);
  });

  it("a drain that fails: no release, the standby waits out the lease", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(3_000);
    await expect(
      a.elector.stop(async () => {
        throw new Error("writes stuck");
      }),
    ).rejects.toThrow("writes stuck");
    const stoppedAt = world.t;
    expect(world.store.record?.released).toBe(false);
    const takeover = await world.until(() => leaders(b).length === 1, 30_000);
    expect(takeover - stoppedAt).toBeGreaterThanOrEqual(LEASE - RETRY);
  });

  it("a replica not eligible (it could not do a leader's work) follows: it takes no lease until it is, and keeps a term it holds", async () => {
    const world = new World();
    let bReady = false;
    let aReady = true;
    const a = world.replica("a", { eligible: () => aReady });
    const b = world.replica("b", { eligible: () => bReady });
    // b alone, not eligible: an absent lease stays absent.
    b.elector.start();
    await world.advance(LEASE * 2);
    expect(world.store.history).toEqual([]);
    expect(b.elector.status().role).toBe("standby");
    // a takes it; a then stops being eligible, which does not end its term.
    a.elector.start();
    await world.advance(0);
    aReady = false;
    await world.advance(LEASE * 2);
    expect(leaders(a, b)).toEqual(["a"]);
    // a dies; b, still not eligible, lets the lease lapse without taking it, then takes it once eligible.
    a.process.pause();
    await world.advance(LEASE * 2);
    expect(leaders(b)).toEqual([]);
    bReady = true;
    await world.until(() => leaders(b).length === 1, RETRY + 100);
    expect(b.elector.currentTerm()?.epoch).toBe(2);
  });

  it("a standby that stops writes nothing", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(3_000);
    const writes = world.store.history.length;
    await b.elector.stop(async () => undefined);
    await world.advance(0);
    expect(world.store.history.filter((r) => r.holder === "b")).toEqual([]);
    expect(world.store.history.length).toBe(writes);
  });

  describe("a renewal racing the renew deadline", () => {
    it("whose answer comes after the deadline: the term ended at the deadline and stays ended", async () => {
      const world = new World();
      let slow = false;
      const a = world.replica("a", { latency: (op) => (slow && op === "update" ? 9_000 : 0) });
      a.elector.start();
      await world.advance(0); // acquired at t=0, sent at 0: deadline 10 s
      slow = true; // the renewal sent at 2 s is applied at once, but its answer comes at 11 s
      const term = a.elector.currentTerm()!;
      await world.advance(RENEW - 1);
      expect(term.mayWrite()).toBe(true);
      expect(term.mayWrite(2)).toBe(false); // a write that may last 2 ms would end past the deadline
      await world.advance(1);
      expect(term.signal.aborted).toBe(true);
      expect(a.events).toEqual([
        { at: world.clock.now() - RENEW, what: "started 1" },
        { at: world.clock.now(), what: "stopped 1 renew-deadline" },
      ]);
      await world.advance(5_000); // the late answer arrives: nothing comes back to life
      expect(a.elector.currentTerm()).toBeUndefined();
      expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 renew-deadline"]);
    });

    it("whose answer comes before the deadline: the term goes on, its deadline counted from when it was sent", async () => {
      const world = new World();
      let slow = false;
      const a = world.replica("a", { latency: (op) => (slow && op === "update" ? 7_000 : 0) });
      a.elector.start();
      await world.advance(0);
      slow = true; // sent at 2 s, answered at 9 s: the deadline moves to 12 s, not 19 s
      const term = a.elector.currentTerm()!;
      await world.advance(11_999);
      expect(term.mayWrite()).toBe(true);
      await world.advance(1);
      expect(term.signal.aborted).toBe(true);
      expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 renew-deadline"]);
    });

    it("that lands just as a follower takes the lease: the follower's conditional write fails, one leader at a time", async () => {
      const world = new World();
      // a's renewals are held on the wire from 2 s (a network stall); one lands at the moment b tries to take over.
      const stalled: (() => void)[] = [];
      let stall = false;
      const a = world.replica("a", {
        hooks: (p) => ({
          ...p.lockHooks(),
          beforeApply: (op) =>
            stall && op === "update" ? new Promise((r) => stalled.push(r)) : Promise.resolve(),
        }),
      });
      const b = world.replica("b", {
        hooks: (p) => ({
          ...p.lockHooks(),
          beforeApply: async (op) => {
            // b sends its takeover (conditional on the version it watched); a's stalled renewal lands first.
            if (op === "update") for (const land of stalled.splice(0)) land();
            await Promise.resolve();
          },
        }),
      });
      await world.startInOrder(a, b);
      await world.advance(500);
      stall = true;
      // a ends its term at its deadline (10 s) although its renewals are still on the wire.
      await world.until(() => a.elector.currentTerm() === undefined, 11_000);
      expect(world.t).toBe(RENEW);
      // b's view of the version expires at ~15.5 s: it tries, a's stale renewal lands first, b's write fails.
      await world.advance(16_000 - world.t);
      expect(leaders(a, b)).toEqual([]);
      // The acquisition and a's stalled renewal, which landed at b's attempt; b's own write was refused.
      expect(world.store.history.map((r) => r.holder)).toEqual(["a", "a"]);
      expect(world.store.record).toMatchObject({ holder: "a", epoch: 1 });
      // Everyone starts watching the new version again; exactly one takes it, with epoch 2.
      stall = false;
      await world.until(() => leaders(a, b).length === 1, 20_000);
      expect(world.t).toBeGreaterThanOrEqual(16_000 + LEASE - RETRY);
      const leader = [a, b].find((r) => r.elector.currentTerm() !== undefined)!;
      expect(leader.elector.currentTerm()?.epoch).toBe(2);
      await world.advance(30_000);
      expect(leaders(a, b)).toEqual([leader.name]);
      expect(a.events.map((e) => e.what).slice(0, 2)).toEqual(["started 1", "stopped 1 renew-deadline"]);
    });
  });

  it("a paused leader (SIGSTOP past its lease): on resume it may not write before any timer has run, and steps down", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(5_000);
    const term = a.elector.currentTerm()!;
    a.process.pause();
    await world.until(() => leaders(b).length === 1, 30_000);
    expect(b.elector.currentTerm()?.epoch).toBe(2);
    await world.advance(20_000);
    // Still paused, a believes it leads: nothing has told it otherwise.
    expect(term.signal.aborted).toBe(false);
    a.process.resume();
    // SIGCONT: the first thing a write path does is check the term, before a's overdue timers have fired.
    expect(term.mayWrite()).toBe(false);
    expect(term.signal.aborted).toBe(true);
    expect(() => term.assertMayWrite()).toThrow(NotLeaderError);
    await world.advance(60_000);
    expect(leaders(a, b)).toEqual(["b"]);
    expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 renew-deadline"]);
    expect(world.store.history.filter((r) => r.holder === "a").every((r) => r.epoch === 1)).toBe(true);
    expect(world.store.record).toMatchObject({ holder: "b", epoch: 2 });
  });

  it("a paused leader that reads a later epoch in the fence on resume, before any timer ran: it ends as expired and writes nothing to the lease", async () => {
    const world = new World();
    const sent: LeaseOperation[] = [];
    const a = world.replica("a", {
      hooks: (p) => {
        const base = p.lockHooks();
        return {
          ...base,
          beforeSend: async (op) => {
            await base.beforeSend?.(op);
            sent.push(op);
          },
        };
      },
    });
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(5_000);
    const term = a.elector.currentTerm()!;
    a.process.pause();
    await world.until(() => leaders(b).length === 1, 30_000);
    await world.advance(5_000);
    a.process.resume();
    sent.length = 0;
    // SIGCONT: a's stale Route 53 batch reads the fence first (a read the write guard lets through), and sees b's epoch.
    term.fencedOut(2, "zone Z1: fence at epoch 2");
    expect(term.signal.aborted).toBe(true);
    await world.advance(30_000);
    expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 renew-deadline"]);
    // Following again: it reads the lease, and sends no write (no epoch raised on a lease b holds).
    expect(sent).toContain("get");
    expect(sent.filter((op) => op !== "get")).toEqual([]);
    expect(world.store.record).toMatchObject({ holder: "b", epoch: 2 });
    expect(leaders(a, b)).toEqual(["b"]);
  });

  it("clocks hours apart (skew) change nothing: expiry is measured on each follower's own clock", async () => {
    const world = new World();
    const a = world.replica("a", { offsetMs: 3 * 3_600_000 });
    const b = world.replica("b", { offsetMs: -5 * 3_600_000 });
    await world.startInOrder(a, b);
    await world.advance(7_000);
    const lastRenewal = 6_000;
    // The record's wall-clock stamps are 8 hours apart from b's clock; b does not look at them.
    expect(world.store.record!.renewedAt - (1_700_000_000_000 + b.process.now())).toBeGreaterThan(
      7 * 3_600_000,
    );
    a.process.pause();
    const takeover = await world.until(() => leaders(b).length === 1, 30_000);
    expect(takeover - lastRenewal).toBeGreaterThanOrEqual(LEASE);
    expect(takeover - lastRenewal).toBeLessThanOrEqual(LEASE + RETRY + 100);
  });

  it("a follower's clock running fast: safe while its rate stays under lease duration / renew deadline (1.5)", async () => {
    for (const rate of [1.4, 2]) {
      const world = new World();
      // a's renewals stop reaching the store at 6 s (partitioned), so its term lasts until 6 + 10 s by its clock.
      let partitioned = false;
      const a = world.replica("a", {
        hooks: (p) => ({
          ...p.lockHooks(),
          beforeSend: async (op) => {
            if (partitioned && op !== "get") throw new Error("network unreachable");
          },
        }),
      });
      const b = world.replica("b", { rate });
      await world.startInOrder(a, b);
      await world.advance(6_000);
      partitioned = true;
      const aDeadline = 6_000 + RENEW;
      const takeover = await world.until(() => leaders(b).length === 1, 30_000, 50);
      if (rate < LEASE / RENEW) {
        expect(takeover).toBeGreaterThan(aDeadline); // a had stopped writing before b began
      } else {
        // Beyond the bound the terms overlap: this is what the Route 53 fence is for (route53-fence.ts).
        expect(takeover).toBeLessThan(aDeadline);
      }
    }
  });

  it("fenced out: the term ends at once, nothing is released, and whoever acquires next takes an epoch above the fence's", async () => {
    // E.g. the lease table was recreated: the lease restarted at epoch 1, the zones' fences hold epoch 7.
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    await world.advance(1_000);
    const term = a.elector.currentTerm()!;
    term.fencedOut(7, "zone Z1: fence at epoch 7");
    expect(term.signal.aborted).toBe(true);
    expect(a.events.map((e) => e.what)).toEqual(["started 1", "stopped 1 fenced-out"]);
    await world.advance(0);
    // The record keeps a's name, unreleased (its writes may be in flight), with the fence's epoch for the next taker.
    expect(world.store.record).toMatchObject({ holder: "a", epoch: 7, released: false });
    const takenAt = await world.until(() => leaders(a, b).length === 1, LEASE + RETRY * 2);
    expect(takenAt).toBeGreaterThanOrEqual(1_000 + LEASE);
    expect([a, b].map((r) => r.elector.currentTerm()?.epoch).filter((e) => e !== undefined)).toEqual([8]);
  });

  it("lock reads that fail: the follower keeps trying and warns once, not every retry period", async () => {
    const world = new World();
    let failing = true;
    const a = world.replica("a", {
      hooks: (p) => ({
        ...p.lockHooks(),
        beforeSend: async () => {
          if (failing) throw new Error("ThrottlingException");
        },
      }),
    });
    a.elector.start();
    await world.advance(RETRY * 10);
    expect(a.logs.filter((l) => l.startsWith("warn"))).toEqual(["warn lease read failed"]);
    failing = false;
    await world.advance(RETRY);
    expect(a.elector.currentTerm()?.epoch).toBe(1);
  });

  it("whenLeading resolves with the term once this replica leads", async () => {
    const world = new World();
    const a = world.replica("a");
    const b = world.replica("b");
    await world.startInOrder(a, b);
    const next = b.elector.whenLeading();
    a.process.pause();
    await world.advance(LEASE + RETRY * 3);
    expect((await next).epoch).toBe(2);
    expect(await a.elector.whenLeading()).toBe(a.terms[0]);
  });

  it("metrics: ecs_log_operator_leader 1 on the leader and 0 on the standby, transitions counted", async () => {
    const world = new World();
    const ra = new Registry();
    const rb = new Registry();
    const a = world.replica("a", { metrics: new LeaderElectionMetrics(ra) });
    const b = world.replica("b", { metrics: new LeaderElectionMetrics(rb) });
    await world.startInOrder(a, b);
    await world.advance(3_000);
    expect(await ra.metrics()).toMatch(/^ecs_log_operator_leader 1$/m);
    expect(await rb.metrics()).toMatch(/^ecs_log_operator_leader 0$/m);
    await a.elector.stop(async () => undefined);
    await world.until(() => leaders(b).length === 1, 5_000);
    const textA = await ra.metrics();
    expect(textA).toMatch(/^ecs_log_operator_leader 0$/m);
    expect(textA).toMatch(/^ecs_log_operator_leader_transitions_total\{transition="acquired"\} 1$/m);
    expect(textA).toMatch(/^ecs_log_operator_leader_transitions_total\{transition="released"\} 1$/m);
    expect(textA).toMatch(/^ecs_log_operator_leader_transitions_total\{transition="renew-deadline"\} 0$/m);
    expect(await rb.metrics()).toMatch(/^ecs_log_operator_leader 1$/m);
  });
});
