import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsError } from "../../controllers/aws/errors.ts";
import type { LeaderElectionConfig } from "../../controllers/leader-election/config.ts";
import {
  DynamoDbLeaseLock,
  ensureLeaseTable,
  LeaseTableError,
} from "../../controllers/leader-election/dynamodb-lease-lock.ts";
import { LeaderElector } from "../../controllers/leader-election/elector.ts";
import { LeaseConflictError, type LeaseFields } from "../../controllers/leader-election/lease-lock.ts";
import { startEmulator } from "./harness.ts";

// The DynamoDB lease against the emulator's DynamoDB, whose conditional writes are enforced as AWS enforces them:
// the table created on demand, the adapter's compare-and-swap, and electors on the real monotonic clock contending
// for one item.

/** The emulator, typed through the harness (which owns where MotoEmulator lives). */
let moto: Awaited<ReturnType<typeof startEmulator>>["moto"];
let dynamodb: DynamoDBClient;
const TABLE = "ecs-log-operator-leases";

beforeAll(async () => {
  ({ moto } = await startEmulator());
  dynamodb = new DynamoDBClient({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  oneWriteAtATime(dynamodb);
});

/**
 * DynamoDB applies each write to an item atomically ("Individual write operations such as UpdateItem are atomic and
 * always operate on the most recent version of the item, regardless of concurrency", DynamoDB developer guide,
 * BestPractices_ImplementingVersionControl). The emulator does not: it answers requests on threads, and reads the item,
 * evaluates the condition and stores the new item in separate steps without a lock, so two conditional PutItems of one
 * item at once can both succeed (seen here under load: two electors both at epoch 1). The test's client hands the
 * emulator one PutItem at a time, which is what DynamoDB's atomicity amounts to; the writes still race (each is
 * decided on what its elector read before), and the conditions still decide.
 */
function oneWriteAtATime(client: DynamoDBClient): void {
  let tail: Promise<unknown> = Promise.resolve();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "PutItemCommand") return next(args);
      const turn = tail.then(() => next(args));
      tail = turn.catch(() => undefined);
      return turn;
    },
    { step: "initialize", name: "oneWriteAtATime" },
  );
}

afterAll(async () => {
  dynamodb?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
});

const fields = (holder: string, epoch: number): LeaseFields => ({
  holder,
  epoch,
  leaseDurationMs: 15_000,
  acquiredAt: Date.now(),
  renewedAt: Date.now(),
  released: false,
});

describe("the lease table", () => {
  it("is created when missing (on-demand billing) and said so, found the next time, and refused when creating is not allowed", async () => {
    await expect(ensureLeaseTable(dynamodb, TABLE, { create: false })).rejects.toThrow(
      new LeaseTableError(
        `the lease table ${TABLE} does not exist: create it (manifests/deploy/ does), or let the operator create it`,
      ),
    );
    const said: string[] = [];
    expect(await ensureLeaseTable(dynamodb, TABLE, { create: true, onCreate: (t) => said.push(t) })).toBe(
      "created",
    );
    expect(said).toEqual([TABLE]);
    const table = (await dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table;
    expect(table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(table?.KeySchema).toEqual([{ AttributeName: "name", KeyType: "HASH" }]);
    expect(await ensureLeaseTable(dynamodb, TABLE, { create: true, onCreate: (t) => said.push(t) })).toBe(
      "exists",
    );
    expect(said).toEqual([TABLE]);
  });

  it("two replicas creating it at once both go on", async () => {
    const outcomes = await Promise.all([
      ensureLeaseTable(dynamodb, TABLE, { create: true }),
      ensureLeaseTable(dynamodb, TABLE, { create: true }),
    ]);
    expect(outcomes.sort()).toEqual(["created", "exists"]);
  });

  it("a table with another key is refused with a sentence", async () => {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await expect(ensureLeaseTable(dynamodb, TABLE, { create: true })).rejects.toThrow(
      `the lease table ${TABLE} must have the string partition key "name" and no sort key`,
    );
  });
});

describe("DynamoDbLeaseLock", () => {
  it("creates once, updates only from the current version, and reads back exactly what was written", async () => {
    await ensureLeaseTable(dynamodb, TABLE, { create: true });
    const a = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" });
    const b = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" });
    expect(await a.get()).toBeUndefined();
    const first = await a.create(fields("a", 1));
    expect(await b.get()).toEqual(first);
    await expect(b.create(fields("b", 1))).rejects.toBeInstanceOf(LeaseConflictError);

    const renewed = await a.update(first.version, fields("a", 1));
    expect(renewed.version).not.toBe(first.version);
    // b took its decision on the first version: its write is refused, and the item is a's renewal.
    const refused = b.update(first.version, fields("b", 2));
    await expect(refused).rejects.toBeInstanceOf(LeaseConflictError);
    await expect(refused).rejects.toMatchObject({ cause: { code: "ConditionalCheckFailedException" } });
    expect(await b.get()).toEqual(renewed);

    // Of two replicas writing from the same version at once, exactly one succeeds.
    const race = await Promise.allSettled([
      a.update(renewed.version, fields("a", 2)),
      b.update(renewed.version, fields("b", 2)),
    ]);
    expect(race.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(race.filter((r) => r.status === "rejected").map((r) => r.reason)).toEqual([
      expect.any(LeaseConflictError),
    ]);

    // Another lease name is another item.
    const other = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "other" });
    expect(await other.get()).toBeUndefined();
  });

  it("takes over an item edited by hand (no version attribute) with a conditional write too", async () => {
    await ensureLeaseTable(dynamodb, TABLE, { create: true });
    await dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { name: { S: "default" }, holder: { S: "someone" } } }),
    );
    const lock = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" });
    const seen = await lock.get();
    expect(seen).toMatchObject({ holder: "someone", version: "", epoch: 0 });
    const taken = await lock.update("", fields("a", 1));
    await expect(lock.update("", fields("b", 1))).rejects.toBeInstanceOf(LeaseConflictError);
    expect(await lock.get()).toEqual(taken);
  });

  it("a missing table is a classified not-found error", async () => {
    const lock = new DynamoDbLeaseLock({ dynamodb, table: "missing", name: "default" });
    const error = await lock.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ errorClass: "not-found", code: "ResourceNotFoundException" });
  });
});

describe("electors contending on one DynamoDB item (real clock)", () => {
  const config = (identity: string, over: Partial<LeaderElectionConfig> = {}): LeaderElectionConfig => ({
    leaseDurationMs: 2_000,
    renewDeadlineMs: 1_000,
    retryPeriodMs: 200,
    resourceName: "default",
    identity,
    ...over,
  });
  const elector = (identity: string, over: Partial<LeaderElectionConfig> = {}) =>
    new LeaderElector({
      lock: new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" }),
      config: config(identity, over),
    });

  /**
   * Samples every 20 ms until `done` (an error after `limitMs`), or for `limitMs` when `done` is omitted: never may two
   * electors write at the same instant.
   */
  async function watch(electors: LeaderElector[], limitMs: number, done?: () => boolean): Promise<void> {
    const end = performance.now() + limitMs;
    for (;;) {
      const writers = electors.filter((e) => e.currentTerm()?.mayWrite() === true);
      const who = writers.map((e) => `${e.config.identity} (epoch ${e.currentTerm()?.epoch})`);
      expect(who.length, `may write at once: ${who.join(", ")}`).toBeLessThanOrEqual(1);
      if (done?.() === true) return;
      if (performance.now() > end) {
        if (done === undefined) return;
        throw new Error(`condition not reached within ${limitMs} ms`);
      }
      await delay(20);
    }
  }

  it("exactly one leads; a graceful stop hands over through the release, an abandoned lease after its duration; epochs increase", async () => {
    await ensureLeaseTable(dynamodb, TABLE, { create: true });
    const lock = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" });
    // A lease duration of a minute: a handover within the test's time can only come from the release.
    const long = { leaseDurationMs: 60_000, renewDeadlineMs: 30_000 };
    const a = elector("a", long).start();
    const b = elector("b", long).start();
    const first = await Promise.race([a.whenLeading(), b.whenLeading()]);
    expect(first.epoch).toBe(1);
    const [leader, standby] = first.identity === "a" ? [a, b] : [b, a];
    const acquired = await lock.get();
    await watch([a, b], 1_000);
    // Renewed meanwhile (every 200 ms): a new version, the same holder and epoch.
    const renewed = await lock.get();
    expect(renewed?.version).not.toBe(acquired?.version);
    expect(renewed).toMatchObject({ holder: first.identity, epoch: 1, released: false });
    expect([a, b].filter((e) => e.currentTerm() !== undefined)).toEqual([leader]);
    expect(standby.status()).toMatchObject({ role: "standby", leader: { holder: first.identity, epoch: 1 } });

    await leader.stop(async () => undefined);
    expect(await lock.get()).toMatchObject({ holder: first.identity, epoch: 1, released: true });
    await watch([a, b], 20_000, () => standby.currentTerm() !== undefined);
    expect(standby.currentTerm()?.epoch).toBe(2);
    await standby.stop(async () => undefined);

    // Short leases now: c and d contend; the leader is abandoned (its drain fails: no release) and the other waits out
    // the lease before taking it.
    const c = elector("c").start();
    const d = elector("d").start();
    const third = await Promise.race([c.whenLeading(), d.whenLeading()]);
    expect(third.epoch).toBe(3);
    const [gone, next] = third.identity === "c" ? [c, d] : [d, c];
    expect(third.mayWrite()).toBe(true);
    const abandonedAt = performance.now();
    await gone.stop(async () => Promise.reject(new Error("stuck"))).catch(() => undefined);
    expect((await lock.get())?.released).toBe(false);
    const fourth = await next.whenLeading();
    const takeoverMs = performance.now() - abandonedAt;
    // Not before the last renewal (at most the renew deadline before the abandon) plus the lease duration.
    expect(takeoverMs).toBeGreaterThanOrEqual(2_000 - 1_000);
    expect(fourth.epoch).toBe(4);
    await watch([c, d], 1_000);
    await next.stop(async () => undefined);
    expect(await lock.get()).toMatchObject({ holder: next.config.identity, epoch: 4, released: true });
  });
});
