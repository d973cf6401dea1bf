import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateHttpNamespaceCommand, ListNamespacesCommand } from "@aws-sdk/client-servicediscovery";
import { setTimeout as delay } from "node:timers/promises";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsCallCounter, createAwsClients } from "../../controllers/aws/clients.ts";
import { AwsError } from "../../controllers/aws/errors.ts";
import type { WatchEvents } from "../../controllers/events-queue.ts";
import type { LeaderElectionConfig } from "../../controllers/leader-election/config.ts";
import {
  DynamoDbLeaseLock,
  ensureLeaseTable,
  LeaseTableError,
} from "../../controllers/leader-election/dynamodb-lease-lock.ts";
import { LeaderElector } from "../../controllers/leader-election/elector.ts";
import { ElectedLeadership } from "../../controllers/leader-election/leadership.ts";
import {
  LeaseConflictError,
  type LeaseFields,
  type LeaseLock,
  type LeaseRecord,
} from "../../controllers/leader-election/lease-lock.ts";
import { NotLeaderError } from "../../controllers/leader-election/term.ts";
import { silentLogger } from "../../controllers/logger.ts";
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

  it("a write whose answer was lost and whose retry then failed its condition is the write that holds", async () => {
    await ensureLeaseTable(dynamodb, TABLE, { create: true });
    // As the SDK's retry does after a 5xx or a reset connection whose request had landed: the same PutItem again. The
    // emulator never loses an answer, so this client sends each PutItem twice and answers with the second.
    const twice = {
      send: async (command: Parameters<typeof dynamodb.send>[0], options?: { abortSignal?: AbortSignal }) => {
        if (command instanceof PutItemCommand) await dynamodb.send(command, options);
        return dynamodb.send(command, options);
      },
    } as unknown as typeof dynamodb;
    const lock = new DynamoDbLeaseLock({ dynamodb: twice, table: TABLE, name: "default" });
    const created = await lock.create(fields("a", 1));
    const renewed = await lock.update(created.version, fields("a", 1));
    expect(await lock.get()).toEqual(renewed);
    // Another replica's write in between is still a conflict.
    const other = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" });
    await other.update(renewed.version, fields("b", 2));
    await expect(lock.update(renewed.version, fields("a", 1))).rejects.toBeInstanceOf(LeaseConflictError);
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
  /** Each elector's lock, recording what its own conditional writes returned (DynamoDB's answer, not a copy). */
  const writes = new Map<string, Written[]>();
  const elector = (identity: string, over: Partial<LeaderElectionConfig> = {}) => {
    const lock = new DynamoDbLeaseLock({ dynamodb, table: TABLE, name: "default" });
    const written: Written[] = [];
    writes.set(identity, written);
    const recording: LeaseLock = {
      description: lock.description,
      get: (signal) => lock.get(signal),
      create: async (f, signal) => record(written, undefined, await lock.create(f, signal)),
      update: async (version, f, signal) => record(written, version, await lock.update(version, f, signal)),
    };
    return new LeaderElector({ lock: recording, config: config(identity, over) });
  };
  interface Written {
    /** The version the conditional write required (undefined for a create). */
    readonly replaced: string | undefined;
    readonly record: LeaseRecord;
  }
  const record = (into: Written[], replaced: string | undefined, written: LeaseRecord): LeaseRecord => {
    into.push({ replaced, record: written });
    return written;
  };

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
    // The leader's last write is the release. Read from the table instead and the standby (retrying every 200 ms) may
    // already have taken the released lease: that read raced the handover it means to check.
    const released = writes.get(first.identity)?.at(-1)?.record;
    expect(released).toMatchObject({ holder: first.identity, epoch: 1, released: true });
    await watch([a, b], 20_000, () => standby.currentTerm() !== undefined);
    expect(standby.currentTerm()?.epoch).toBe(2);
    // Taken from the release: the standby's write replaced exactly the version the release wrote.
    expect(writes.get(standby.config.identity)?.[0]).toMatchObject({
      replaced: released?.version,
      record: { holder: standby.config.identity, epoch: 2 },
    });
    expect(await lock.get()).toMatchObject({ holder: standby.config.identity, epoch: 2, released: false });
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

describe("run's leadership (ElectedLeadership) over the emulator", () => {
  const durations = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

  /** One replica as `run --leader-elect` builds it: its leadership, and clients guarded by it. */
  function replica(identity: string) {
    const registry = new Registry();
    const logged: string[] = [];
    const logger = { ...silentLogger, info: (msg: string) => void logged.push(msg) };
    const leadership = new ElectedLeadership({
      table: "leases-run",
      resourceName: "ecs-log-operator-it",
      durations,
      registry,
      logger: { ...logger, child: () => logger },
      identity,
    });
    const calls = new AwsCallCounter();
    const clients = createAwsClients({
      endpoint: moto.endpoint,
      region: "us-east-1",
      observer: calls,
      requestGuard: leadership.requestGuard,
    });
    const terms: number[] = [];
    leadership.gate.onTermStarted?.(() => terms.push(terms.length + 1));
    return { identity, registry, logged, leadership, calls, clients, terms };
  }
  type Replica = ReturnType<typeof replica>;

  /** Events that record whether they are being received, and stop when their signal aborts. */
  function recordingEvents() {
    const state = { receiving: false, runs: 0 };
    const events: WatchEvents = {
      run: async (signal) => {
        state.runs++;
        state.receiving = true;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        state.receiving = false;
      },
    };
    return { state, events };
  }

  async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
    const end = performance.now() + ms;
    while (!test()) {
      if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
      await delay(20);
    }
  }

  const namespace = (name: string) =>
    new CreateHttpNamespaceCommand({ Name: name, CreatorRequestId: `${name}-${Date.now()}` });

  let replicas: Replica[] = [];
  afterAll(async () => {
    for (const r of replicas) {
      await r.leadership.stop(async () => undefined);
      r.clients.destroy();
    }
  });

  it("the leader writes; a standby's clients send no write (reads pass), receive no events, and take over after a release", async () => {
    const a = replica("a");
    const b = replica("b");
    replicas = [a, b];
    await a.leadership.prepare(a.clients);
    expect(a.logged).toContain("lease table created (on-demand billing)");
    const aEvents = recordingEvents();
    const aStopped = new AbortController();
    void a.leadership.leaderOnly(aEvents.events).run(aStopped.signal, () => undefined);
    a.leadership.start(() => true);
    await until("a leads", () => a.leadership.gate.term() !== undefined);
    expect(a.terms).toEqual([1]);
    await until("a receives events", () => aEvents.state.receiving);

    // b is started once a leads (the emulator's DynamoDB is not atomic under concurrent creates).
    await b.leadership.prepare(b.clients);
    expect(b.logged).not.toContain("lease table created (on-demand billing)");
    const bEvents = recordingEvents();
    void b.leadership.leaderOnly(bEvents.events).run(new AbortController().signal, () => undefined);
    b.leadership.start(() => true);
    await until("b sees a lead", () => b.leadership.status()?.leader?.holder === "a");
    expect(b.leadership.status()).toMatchObject({ role: "standby", leader: { holder: "a", epoch: 1 } });
    expect(await b.registry.metrics()).toContain("ecs_log_operator_leader 0");
    expect(await a.registry.metrics()).toContain("ecs_log_operator_leader 1");

    // A write from the standby is refused before it is sent: nothing reaches AWS, nothing is retried.
    await expect(b.clients.serviceDiscovery.send(namespace("from-b"))).rejects.toBeInstanceOf(NotLeaderError);
    expect(b.calls.count("servicediscovery")).toBe(0);
    await b.clients.serviceDiscovery.send(new ListNamespacesCommand({}));
    expect(b.calls.count("servicediscovery", "ListNamespaces")).toBe(1);
    await a.clients.serviceDiscovery.send(namespace("from-a"));
    expect(a.calls.count("servicediscovery", "CreateHttpNamespace")).toBe(1);
    expect(bEvents.state.runs).toBe(0);

    // a stops: its writes drain first, then the lease is released, and b takes over within a retry period or so.
    const order: string[] = [];
    const released = performance.now();
    await a.leadership.stop(
      async () => void order.push(`drained while leading: ${a.leadership.gate.term() !== undefined}`),
    );
    aStopped.abort();
    expect(order).toEqual(["drained while leading: true"]);
    expect(aEvents.state.receiving).toBe(false);
    await until("b leads", () => b.leadership.gate.term() !== undefined);
    expect(performance.now() - released).toBeLessThan(durations.leaseDurationMs);
    expect(b.terms).toEqual([1]);
    expect(b.leadership.status()).toMatchObject({ role: "leader", epoch: 2 });
    await until("b receives events", () => bEvents.state.receiving);
    await b.clients.serviceDiscovery.send(namespace("from-b-leading"));
    expect(b.calls.count("servicediscovery", "CreateHttpNamespace")).toBe(1);
  });
});
