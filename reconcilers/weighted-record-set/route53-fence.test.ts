import { describe, expect, it } from "vitest";
import { ManualTerm } from "../../test/manual-term.ts";
import { StrictRoute53 } from "../../test/strict-route53.ts";
import { NotLeaderError, StaleLeaderError } from "../../controllers/leader-election/term.ts";
import type { ChangeUnit } from "./planner.ts";
import type { RecordChange, RecordSet, Route53Api } from "./route53-api.ts";
import {
  decideFence,
  FenceBrokenError,
  fenceIamRecordNames,
  fenceLabel,
  fenceParent,
  readFence,
  Route53Fence,
  termRecord,
  tokenRecord,
} from "./route53-fence.ts";
import { ZoneWriter } from "./zone-writer.ts";

// The fence against the strict in-process Route 53 double (test/strict-route53.ts), which holds Route 53's real rules:
// a batch is atomic, a DELETE must match the current record exactly (a missing one fails), a CREATE of an existing
// record fails. The same fence against the emulator, whose rules differ, is in test/integration/route53-fence.test.ts.

const ZONE = "logs.internal";
const PARENT = fenceParent("default", ZONE);

function setup() {
  const fake = new StrictRoute53();
  const zoneId = fake.addZone(ZONE);
  return { fake, zoneId, api: fake as Route53Api };
}

/** One replica: its term and its fence (as each process builds its own). */
function replica(epoch: number, name = `r${epoch}`) {
  const term = new ManualTerm(epoch, name);
  const fence = new Route53Fence({ resourceName: "default", term: () => term });
  return { term, fence };
}

function a(ip: string, id: string): RecordSet {
  return { name: `fluentd.${ZONE}`, type: "A", setIdentifier: id, weight: 10, ttl: 10, values: [ip] };
}
const create = (record: RecordSet): RecordChange => ({ action: "CREATE", record });
const remove = (record: RecordSet): RecordChange => ({ action: "DELETE", record });
const signal = new AbortController().signal;

async function fenceRecords(api: Route53Api, zoneId: string): Promise<string[]> {
  return (await api.listRecordSets(zoneId, PARENT)).map(
    (r) => `${r.name.replace(`.${PARENT}`, "")} ${r.values?.[0]}`,
  );
}

describe("fence records and decisions (pure)", () => {
  it("names: the lease as one DNS label, hashed when it had to change", () => {
    expect(fenceLabel("default")).toBe("default");
    expect(fenceLabel("ecs-log-operator-prod")).toBe("ecs-log-operator-prod");
    expect(fenceLabel("Team/Logs")).toMatch(/^team-logs-[0-9a-f]{8}$/);
    expect(fenceLabel("x".repeat(80))).toMatch(/^x{54}-[0-9a-f]{8}$/);
    expect(fenceLabel("Team/Logs")).not.toBe(fenceLabel("team-logs"));
    expect(PARENT).toBe("default._ecs-log-operator-fence.logs.internal");
    // IAM's StringLike pattern matches the token and term names of this lease in any zone, and no other lease's.
    const [pattern] = fenceIamRecordNames("default");
    const like = new RegExp(`^${pattern!.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
    expect(like.test(tokenRecord(PARENT, 12).name)).toBe(true);
    expect(like.test(termRecord(PARENT, 1, "x", 1).name)).toBe(true);
    expect(like.test(tokenRecord(fenceParent("other", ZONE), 1).name)).toBe(false);
    expect(like.test(`fluentd.${ZONE}`)).toBe(false);
  });

  const view = (...records: RecordSet[]) => readFence(records, PARENT);
  it.each([
    {
      case: "an empty zone: create the first token and the term record (CREATE: a second taker fails on it)",
      records: [],
      epoch: 1,
      expected: {
        kind: "take",
        seq: 1,
        changes: [create(tokenRecord(PARENT, 1)), create(termRecord(PARENT, 1, "me", 1))],
      },
    },
    {
      case: "a fence of an earlier epoch: consume its token, create the next, record the epoch",
      records: [tokenRecord(PARENT, 41), termRecord(PARENT, 3, "old", 30)],
      epoch: 4,
      expected: {
        kind: "take",
        seq: 42,
        changes: [
          remove(tokenRecord(PARENT, 41)),
          create(tokenRecord(PARENT, 42)),
          { action: "UPSERT", record: termRecord(PARENT, 4, "me", 42) },
        ],
      },
    },
    {
      case: "two tokens (a fence edited by hand): consume both",
      records: [tokenRecord(PARENT, 7), tokenRecord(PARENT, 9), termRecord(PARENT, 2, "old", 7)],
      epoch: 3,
      expected: {
        kind: "take",
        seq: 10,
        changes: [
          remove(tokenRecord(PARENT, 7)),
          remove(tokenRecord(PARENT, 9)),
          create(tokenRecord(PARENT, 10)),
          { action: "UPSERT", record: termRecord(PARENT, 3, "me", 10) },
        ],
      },
    },
    {
      case: "this term's own fence (the zone state was dropped): adopt its token",
      records: [tokenRecord(PARENT, 12), termRecord(PARENT, 5, "me", 10)],
      epoch: 5,
      expected: { kind: "adopt", seq: 12, token: tokenRecord(PARENT, 12) },
    },
    {
      case: "the same epoch held by another replica (a lease store that is not atomic): stale, to take a new epoch",
      records: [tokenRecord(PARENT, 12), termRecord(PARENT, 5, "other", 10)],
      epoch: 5,
      expected: { kind: "stale", observedEpoch: 5, holder: "other" },
    },
    {
      case: "a later epoch holds it: stale",
      records: [tokenRecord(PARENT, 12), termRecord(PARENT, 6, "new-leader", 10)],
      epoch: 5,
      expected: { kind: "stale", observedEpoch: 6, holder: "new-leader" },
    },
  ])("$case", ({ records, epoch, expected }) => {
    expect(decideFence(view(...records), PARENT, epoch, "me")).toMatchObject(expected);
  });

  it("a term record without a token is a broken fence, with the way out in the message", () => {
    const d = decideFence(view(termRecord(PARENT, 2, "x", 1)), PARENT, 3, "me");
    expect(d).toMatchObject({ kind: "broken" });
    expect((d as { message: string }).message).toContain(`term.${PARENT} (TXT) is deleted too`);
  });

  it("ignores records that only look like the fence", () => {
    const v = view(
      { ...tokenRecord(PARENT, 3), setIdentifier: "x", weight: 1 },
      { ...tokenRecord(PARENT, 4), type: "A", values: ["10.0.0.1"] },
      tokenRecord(fenceParent("other", ZONE), 5),
      { name: `x.s6.${PARENT}`, type: "TXT", ttl: 300, values: ['"x"'] },
    );
    expect(v).toEqual({ tokens: [], term: undefined });
  });
});

describe("Route53Fence on the strict Route 53 double", () => {
  it("takes the fence once per term, then every batch consumes one token and creates the next", async () => {
    const { api, zoneId } = setup();
    const r1 = replica(1, "one");
    await r1.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.1", "i-1"))], signal);
    await r1.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.2", "i-2"))], signal);
    await r1.fence.changeRecordSets(api, zoneId, [remove(a("10.0.0.1", "i-1"))], signal);
    expect(await fenceRecords(api, zoneId)).toEqual([
      `s4 "ecs-log-operator fence token"`,
      `term "epoch=1 holder=one seq=1"`,
    ]);
    expect((await api.listRecordSets(zoneId, `fluentd.${ZONE}`)).map((r) => r.setIdentifier)).toEqual([
      "i-2",
    ]);
  });

  it("a new leader consumes the old token; the old leader's next batch is refused whole and it steps down", async () => {
    const { api, fake, zoneId } = setup();
    const old = replica(1);
    await old.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.1", "i-1"))], signal);

    // The old leader is paused; the new one takes over and removes i-1 (a scale-in).
    const next = replica(2);
    await next.fence.changeRecordSets(api, zoneId, [remove(a("10.0.0.1", "i-1"))], signal);
    // Its takeover consumed s2 (created s3), its batch s3 (created s4).
    expect(await fenceRecords(api, zoneId)).toEqual([
      `s4 "ecs-log-operator fence token"`,
      `term "epoch=2 holder=r2 seq=3"`,
    ]);

    // The old leader wakes with its stale view and writes i-1 back, and adds i-9: Route 53 refuses all of it.
    fake.resetCounts();
    const stale = old.fence.changeRecordSets(
      api,
      zoneId,
      [create(a("10.0.0.1", "i-1")), create(a("10.0.0.9", "i-9"))],
      signal,
    );
    await expect(stale).rejects.toBeInstanceOf(StaleLeaderError);
    await expect(stale).rejects.toMatchObject({ epoch: 1, observedEpoch: 2 });
    await expect(stale).rejects.toThrow(
      /fence holds epoch 2 \(r2\), above this term's 1; this replica steps down/,
    );
    expect(old.term.fenced).toEqual([2]);
    expect(old.term.signal.aborted).toBe(true);
    expect(await api.listRecordSets(zoneId, `fluentd.${ZONE}`)).toEqual([]);
    expect(fake.calls.get("route53:ChangeResourceRecordSets")).toBe(1);

    // Nothing more is sent under the ended term.
    fake.resetCounts();
    await expect(
      old.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.1", "i-1"))], signal),
    ).rejects.toBeInstanceOf(NotLeaderError);
    expect(fake.calls.size).toBe(0);
    // The new leader goes on.
    await next.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.3", "i-3"))], signal);
  });

  it("a leader that reads a later epoch in the fence steps down without writing", async () => {
    const { api, fake, zoneId } = setup();
    await replica(5).fence.changeRecordSets(api, zoneId, [], signal);
    fake.resetCounts();
    const late = replica(4);
    await expect(
      late.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.1", "i-1"))], signal),
    ).rejects.toThrow(StaleLeaderError);
    expect(late.term.fenced).toEqual([5]);
    expect(fake.calls.get("route53:ChangeResourceRecordSets")).toBeUndefined();
  });

  it("stale batches built on any earlier view are refused by Route 53's own rules", async () => {
    const { api, zoneId } = setup();
    const empty = readFence([], PARENT);
    // What a leader of epoch 1 would send having seen the zone empty, and having then seen its own token s1.
    const fromEmpty = decideFence(empty, PARENT, 1, "one");
    const r2 = replica(2);
    await r2.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.2", "i-2"))], signal);
    await r2.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.3", "i-3"))], signal);
    const before = await api.listRecordSets(zoneId);
    if (fromEmpty.kind !== "take") throw new Error("expected a takeover");
    // An empty view: its CREATE of the term record fails, since the record exists.
    await expect(api.changeRecordSets(zoneId, fromEmpty.changes)).rejects.toThrow(/already exists/);
    // A view of token s1 (consumed long ago): its DELETE fails.
    await expect(
      api.changeRecordSets(zoneId, [
        remove(tokenRecord(PARENT, 1)),
        create(tokenRecord(PARENT, 2)),
        create(a("10.0.0.1", "i-1")),
      ]),
    ).rejects.toThrow(/DELETE of .* does not match/);
    expect(await api.listRecordSets(zoneId)).toEqual(before);
  });

  it("two leaders taking an empty fence at once: one wins, the other finds out whether it is the stale one", async () => {
    const { api, zoneId } = setup();
    const r1 = replica(1);
    const r2 = replica(2);
    // Both read the empty zone first, then both write their takeover.
    const gate = gated(api);
    const both = Promise.allSettled([
      r1.fence.changeRecordSets(gate.api, zoneId, [create(a("10.0.0.1", "i-1"))], signal),
      r2.fence.changeRecordSets(gate.api, zoneId, [create(a("10.0.0.2", "i-2"))], signal),
    ]);
    await gate.whenReads(2);
    gate.open();
    const [one, two] = await both;
    // Whichever took it first, the later epoch holds the fence in the end and the earlier one is stale.
    if (two.status === "rejected") {
      // r1 won the race; r2 (the later epoch) saw its takeover refused by a lower epoch: not stale, it retries.
      expect(two.reason).not.toBeInstanceOf(StaleLeaderError);
      await r2.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.2", "i-2"))], signal);
    } else {
      expect(one.status).toBe("rejected");
      expect((one as PromiseRejectedResult).reason).toBeInstanceOf(StaleLeaderError);
    }
    await expect(
      r1.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.5", "i-5"))], signal),
    ).rejects.toThrow(NotLeaderError);
    expect((await fenceRecords(api, zoneId)).at(-1)).toMatch(/^term "epoch=2 /);
  });

  it("a batch refused for its own changes keeps the token and fails with Route 53's error", async () => {
    const { api, zoneId } = setup();
    const r1 = replica(1);
    await r1.fence.changeRecordSets(api, zoneId, [create(a("10.0.0.1", "i-1"))], signal);
    const wrong = r1.fence.changeRecordSets(api, zoneId, [remove(a("10.9.9.9", "i-1"))], signal);
    await expect(wrong).rejects.toThrow(/DELETE of .* does not match/);
    await expect(wrong).rejects.not.toBeInstanceOf(NotLeaderError);
    expect(r1.term.signal.aborted).toBe(false);
    await r1.fence.changeRecordSets(api, zoneId, [remove(a("10.0.0.1", "i-1"))], signal);
    expect(await fenceRecords(api, zoneId)).toContain(`s3 "ecs-log-operator fence token"`);
  });

  it("a batch whose answer was lost (it landed): the next batch reads the fence again and adopts its own token", async () => {
    const { api, zoneId } = setup();
    const r1 = replica(1);
    await r1.fence.changeRecordSets(api, zoneId, [], signal);
    const lossy: Route53Api = Object.create(api) as Route53Api;
    let lose = true;
    lossy.changeRecordSets = async (z, changes, s) => {
      await api.changeRecordSets(z, changes, s);
      if (lose) throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
    };
    await expect(
      r1.fence.changeRecordSets(lossy, zoneId, [create(a("10.0.0.1", "i-1"))], signal),
    ).rejects.toThrow("socket hang up");
    lose = false;
    await r1.fence.changeRecordSets(lossy, zoneId, [create(a("10.0.0.2", "i-2"))], signal);
    expect(await fenceRecords(api, zoneId)).toEqual([
      `s4 "ecs-log-operator fence token"`,
      `term "epoch=1 holder=r1 seq=1"`,
    ]);
    expect(r1.term.signal.aborted).toBe(false);
  });

  it("a token deleted by hand stops writes to the zone with a sentence, instead of writing unfenced", async () => {
    const { api, zoneId } = setup();
    await replica(1).fence.takeOver(api, zoneId, signal);
    await api.changeRecordSets(zoneId, [remove(tokenRecord(PARENT, 1))]);
    await expect(replica(2).fence.changeRecordSets(api, zoneId, [], signal)).rejects.toBeInstanceOf(
      FenceBrokenError,
    );
  });

  it("without a term nothing is sent", async () => {
    const { api, fake, zoneId } = setup();
    const fence = new Route53Fence({ resourceName: "default", term: () => undefined });
    await expect(fence.changeRecordSets(api, zoneId, [], signal)).rejects.toBeInstanceOf(NotLeaderError);
    expect(fake.calls.size).toBe(0);
  });

  it("in the zone writer: batches leave room for the fence's two changes, and each carries them", async () => {
    const { api, fake, zoneId } = setup();
    const r1 = replica(1);
    await r1.fence.takeOver(api, zoneId, signal);
    fake.resetCounts();
    const writer = new ZoneWriter(api, {
      limits: { values: 1000, characters: 32_000, changes: 5 },
      fence: r1.fence,
    });
    const units: ChangeUnit[] = [1, 2, 3, 4, 5, 6].map((i) => ({
      phase: 2,
      changes: [create(a(`10.0.0.${i}`, `i-${i}`))],
    }));
    await writer.submit(zoneId, units, signal);
    expect(fake.calls.get("route53:ChangeResourceRecordSets")).toBe(2);
    expect(await api.listRecordSets(zoneId, `fluentd.${ZONE}`)).toHaveLength(6);
    expect(await fenceRecords(api, zoneId)).toContain(`s3 "ecs-log-operator fence token"`);
  });
});

/** Lets `listRecordSets` through, and holds `changeRecordSets` until `open`. */
function gated(api: Route53Api) {
  let reads = 0;
  const readWaiters: (() => void)[] = [];
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  const wrapped: Route53Api = Object.create(api) as Route53Api;
  wrapped.listRecordSets = async (...args) => {
    const out = await api.listRecordSets(...args);
    reads++;
    for (const w of readWaiters.splice(0)) w();
    return out;
  };
  wrapped.changeRecordSets = async (...args) => {
    await opened;
    return api.changeRecordSets(...args);
  };
  return {
    api: wrapped,
    open: () => release(),
    whenReads: async (n: number) => {
      while (reads < n) await new Promise<void>((r) => readWaiters.push(r));
    },
  };
}
