import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { ManualTerm } from "../manual-term.ts";
import { NotLeaderError, StaleLeaderError } from "../../controllers/leader-election/term.ts";
import { AwsRoute53Api } from "../../reconcilers/weighted-record-set/aws-route53-api.ts";
import type { RecordChange, RecordSet } from "../../reconcilers/weighted-record-set/route53-api.ts";
import {
  decideFence,
  fenceParent,
  readFence,
  Route53Fence,
  tokenRecord,
} from "../../reconcilers/weighted-record-set/route53-fence.ts";
import { ZoneWriter } from "../../reconcilers/weighted-record-set/zone-writer.ts";
import { startEmulator } from "./harness.ts";

// The Route 53 fence against the emulator itself, with no strict wrapper: a stale leader's batch must be refused by
// moto's own rules, which differ from Route 53's (see route53-fence.ts). The strict double's side is in
// reconcilers/weighted-record-set/route53-fence.test.ts.

/** The emulator, typed through the harness (which owns where MotoEmulator lives). */
let moto: Awaited<ReturnType<typeof startEmulator>>["moto"];
let clients: AwsClients;
let api: AwsRoute53Api;
let zoneId: string;
const ZONE = "logs.internal";
const PARENT = fenceParent("default", ZONE);
const signal = new AbortController().signal;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: "us-east-1", route53RequestsPerSecond: 1000 }));
  api = new AwsRoute53Api(clients);
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  const zone = await clients.route53.send(
    new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `fence-${Date.now()}-${Math.random()}` }),
  );
  zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
});

function leader(epoch: number) {
  // A leader that believes it leads until the fence tells it otherwise (a paused one, when it is the old leader).
  const term = new ManualTerm(epoch);
  return { term, fence: new Route53Fence({ resourceName: "default", term: () => term }) };
}

const record = (id: string, ip: string): RecordSet => ({
  name: `fluentd.${ZONE}`,
  type: "A",
  setIdentifier: id,
  weight: 10,
  ttl: 10,
  values: [ip],
});
const create = (r: RecordSet): RecordChange => ({ action: "CREATE", record: r });
const remove = (r: RecordSet): RecordChange => ({ action: "DELETE", record: r });

async function weighted(): Promise<string[]> {
  return (await api.listRecordSets(zoneId, `fluentd.${ZONE}`)).map(
    (r) => `${r.setIdentifier} ${r.values?.[0]}`,
  );
}
async function fence(): Promise<string[]> {
  return (await api.listRecordSets(zoneId, PARENT)).map((r) => r.name.replace(`.${PARENT}`, ""));
}

describe("what the emulator does with the fence's changes", () => {
  it("accepts a DELETE of a token consumed earlier (Route 53 refuses it), refuses a CREATE repeating an earlier one", async () => {
    const one = leader(1);
    await one.fence.takeOver(api, zoneId, signal); // s1 and the term record
    await one.fence.changeRecordSets(api, zoneId, [], signal); // s1 -> s2
    expect(await fence()).toEqual(["s2", "term"]);
    // moto's leniency: it checks a DELETE against the zone's history of changes, not its records.
    await api.changeRecordSets(zoneId, [remove(tokenRecord(PARENT, 1))]);
    expect(await fence()).toEqual(["s2", "term"]);
    // What the fence relies on there: a CREATE identical to an earlier one is refused while a record sorts after it.
    await expect(api.changeRecordSets(zoneId, [create(tokenRecord(PARENT, 2))])).rejects.toMatchObject({
      code: "InvalidChangeBatch",
    });
    await expect(api.changeRecordSets(zoneId, [create(tokenRecord(PARENT, 1))])).rejects.toMatchObject({
      code: "InvalidChangeBatch",
    });
    // A token never created before is accepted: the chain's successors are new names.
    await api.changeRecordSets(zoneId, [create(tokenRecord(PARENT, 99))]);
  });
});

describe("the fence on the emulator", () => {
  it("a paused leader's batch is refused by the emulator after a takeover: no record flips back, the old leader steps down", async () => {
    const old = leader(1);
    await old.fence.changeRecordSets(api, zoneId, [create(record("i-1", "10.0.0.1"))], signal);
    await old.fence.changeRecordSets(api, zoneId, [create(record("i-2", "10.0.0.2"))], signal);

    // The old leader is paused. The new one takes over and drains i-1 (a scale-in), then goes on writing.
    const next = leader(2);
    await next.fence.changeRecordSets(api, zoneId, [remove(record("i-1", "10.0.0.1"))], signal);
    await next.fence.changeRecordSets(api, zoneId, [create(record("i-3", "10.0.0.3"))], signal);
    expect(await weighted()).toEqual(["i-2 10.0.0.2", "i-3 10.0.0.3"]);

    // SIGCONT: the old leader sends what it planned before the pause, a record never created before (the emulator
    // would refuse a repeated CREATE of i-1 by itself; this one only the fence can stop).
    const stale = old.fence.changeRecordSets(api, zoneId, [create(record("i-9", "10.0.0.9"))], signal);
    await expect(stale).rejects.toBeInstanceOf(StaleLeaderError);
    await expect(stale).rejects.toMatchObject({
      epoch: 1,
      observedEpoch: 2,
      cause: { code: "InvalidChangeBatch" },
    });
    expect(old.term.fenced).toEqual([2]);
    expect(await weighted()).toEqual(["i-2 10.0.0.2", "i-3 10.0.0.3"]);

    // The new leader's writes go on; the old one sends nothing more.
    await next.fence.changeRecordSets(api, zoneId, [create(record("i-4", "10.0.0.4"))], signal);
    await expect(
      old.fence.changeRecordSets(api, zoneId, [create(record("i-1", "10.0.0.1"))], signal),
    ).rejects.toBeInstanceOf(NotLeaderError);
    expect(await weighted()).toEqual(["i-2 10.0.0.2", "i-3 10.0.0.3", "i-4 10.0.0.4"]);
    // old: s1 (takeover), s2, s3; next: s4 (takeover), s5, s6, s7. One token at a time.
    expect(await fence()).toEqual(["s7", "term"]);
    // The refused change was acceptable in itself: only the fence stopped it.
    await api.changeRecordSets(zoneId, [create(record("i-9", "10.0.0.9"))]);
  });

  it("stale batches from any earlier view are refused: an empty fence, a token consumed several batches ago", async () => {
    const fromEmpty = decideFence(readFence([], PARENT), PARENT, 1, "leader-1");
    const next = leader(2);
    for (const ip of ["10.0.0.2", "10.0.0.3", "10.0.0.4"]) {
      await next.fence.changeRecordSets(api, zoneId, [create(record(`i-${ip.slice(-1)}`, ip))], signal);
    }
    const before = await api.listRecordSets(zoneId);
    if (fromEmpty.kind !== "take") throw new Error("expected a takeover");
    await expect(
      api.changeRecordSets(zoneId, [...fromEmpty.changes, create(record("i-1", "10.0.0.1"))]),
    ).rejects.toMatchObject({ code: "InvalidChangeBatch" });
    // A leader that last saw s1 (consumed three batches ago) and writes s1 -> s2.
    await expect(
      api.changeRecordSets(zoneId, [
        remove(tokenRecord(PARENT, 1)),
        create(tokenRecord(PARENT, 2)),
        create(record("i-1", "10.0.0.1")),
      ]),
    ).rejects.toMatchObject({ code: "InvalidChangeBatch" });
    expect(await api.listRecordSets(zoneId)).toEqual(before);
  });

  it("through the zone writer: a leader's batches carry the fence and pass; after a takeover its writes stop", async () => {
    const one = leader(1);
    const writer = new ZoneWriter(api, { fence: one.fence });
    await writer.submit(zoneId, [{ phase: 2, changes: [create(record("i-1", "10.0.0.1"))] }], signal);
    await writer.submit(zoneId, [{ phase: 2, changes: [create(record("i-2", "10.0.0.2"))] }], signal);
    await leader(2).fence.changeRecordSets(api, zoneId, [remove(record("i-2", "10.0.0.2"))], signal);
    await expect(
      writer.submit(zoneId, [{ phase: 2, changes: [remove(record("i-1", "10.0.0.1"))] }], signal),
    ).rejects.toBeInstanceOf(StaleLeaderError);
    expect(await weighted()).toEqual(["i-1 10.0.0.1"]);
  });
});
