import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Registry } from "prom-client";
import type { AwsClients, AwsRequestGuard } from "../aws/clients.ts";
import type { OnWatchKeys, WatchEvents } from "../events-queue.ts";
import type { LeaseTerms } from "../kind-entry.ts";
import { alwaysLeading, type LeadershipGate } from "../leadership.ts";
import type { Logger } from "../logger.ts";
import type { LeaderElectionDurations } from "./config.ts";
import { DynamoDbLeaseLock, ensureLeaseTable } from "./dynamodb-lease-lock.ts";
import { defaultIdentity, LeaderElector, type LeaderStatus } from "./elector.ts";
import { LeaderElectionMetrics } from "./metrics.ts";
import { LeaseWriteGuard, writeMarginFor } from "./write-guard.ts";

/**
 * What `run` needs of leader election, whether it is on or not: the controller's gate, the clients' request guard,
 * the lease for the kinds that fence their writes, `/status`'s section, and the order of start and stop. `run` builds
 * one (`SoleLeader` or `ElectedLeadership`) and the parts take what they need from it.
 */
export interface Leadership {
  readonly gate: LeadershipGate;
  /** For `createAwsClients`: every write checked against the term. Undefined: nothing to check. */
  readonly requestGuard: AwsRequestGuard | undefined;
  /** For the kinds (`KindParts.leaderElection`). */
  readonly lease: LeaseTerms | undefined;
  /** `/status`'s `leaderElection`: who leads, with which epoch, since when. */
  status(): LeaderStatus | undefined;
  /** Events are received only by the leader: a standby that received them would take them from it. */
  leaderOnly(events: WatchEvents): WatchEvents;
  /** Once the clients exist, before anything is served. */
  prepare(clients: AwsClients): Promise<void>;
  /** Takes part in the election; the lease is taken only while `eligible()` (the controller is ready, say). */
  start(eligible: () => boolean): void;
  /** Finishes or aborts the writes (`drain`), and only then gives the lease up. */
  stop(drain: () => Promise<void>): Promise<void>;
}

/** `run` without `--leader-elect`: one process, leading alone (`ecs_log_operator_leader` 1). */
export class SoleLeader implements Leadership {
  readonly gate = alwaysLeading;
  readonly requestGuard = undefined;
  readonly lease = undefined;

  constructor(registry: Registry) {
    new LeaderElectionMetrics(registry).setLeading(true);
  }

  status(): undefined {
    return undefined;
  }

  leaderOnly(events: WatchEvents): WatchEvents {
    return events;
  }

  async prepare(): Promise<void> {}

  start(): void {}

  stop(drain: () => Promise<void>): Promise<void> {
    return drain();
  }
}

export interface ElectedLeadershipOptions {
  readonly table: string;
  readonly resourceName: string;
  readonly durations: LeaderElectionDurations;
  readonly registry: Registry;
  readonly logger: Logger;
  /** This replica's name in the lease; default host, pid and a random suffix. */
  readonly identity?: string | undefined;
}

/**
 * `run --leader-elect`: a lease in DynamoDB (the table created when missing), an elector, a write guard over it.
 * A term that ends (renew deadline, lease taken, fenced out) returns the replica to standby, informers warm, HTTP
 * served, ready for the next election; it does not exit (controller-runtime exits instead, to drop caches it cannot
 * trust: ours re-reads AWS on every reconcile and keeps nothing across terms that another leader could change).
 */
export class ElectedLeadership implements Leadership {
  readonly requestGuard: AwsRequestGuard;
  readonly gate: LeadershipGate;
  readonly lease: LeaseTerms;
  private readonly options: ElectedLeadershipOptions;
  private readonly metrics: LeaderElectionMetrics;
  private readonly listeners: (() => void)[] = [];
  private elector: LeaderElector | undefined;
  private started = false;
  private eligible: () => boolean = () => false;

  constructor(options: ElectedLeadershipOptions) {
    this.options = options;
    this.metrics = new LeaderElectionMetrics(options.registry);
    const term = () => this.elector?.currentTerm();
    this.requestGuard = new LeaseWriteGuard({
      term,
      marginMs: writeMarginFor(options.durations),
    }).requestGuard;
    this.gate = {
      term: () => term()?.signal,
      onTermStarted: (listener) => this.listeners.push(listener),
    };
    this.lease = { resourceName: options.resourceName, term };
  }

  status(): LeaderStatus | undefined {
    return this.elector?.status();
  }

  leaderOnly(events: WatchEvents): WatchEvents {
    return {
      run: (signal, onKeys) => this.receiveWhileLeading(events, signal, onKeys),
    };
  }

  async prepare(clients: AwsClients): Promise<void> {
    const { table, logger } = this.options;
    // Not guarded: a standby writes the lease to take it. Few attempts: the elector retries every retry period, and a
    // renewal must not spend its deadline in the SDK's backoff.
    const dynamodb = clients.client(
      "dynamodb",
      (config) => new DynamoDBClient({ ...config, maxAttempts: 2 }),
      {
        guarded: false,
      },
    );
    // The EC2 client is loaded on first use, and loading it takes a second or more of CPU (seconds on a quarter vCPU)
    // during which nothing else runs: a new leader whose first reconcile loaded it could not renew its lease. A
    // replica that may lead loads it before it campaigns.
    await clients.ec2();
    await ensureLeaseTable(dynamodb, table, {
      create: true,
      onCreate: (name) => logger.info("lease table created (on-demand billing)", { table: name }),
    });
    this.elector = new LeaderElector({
      lock: new DynamoDbLeaseLock({ dynamodb, table, name: this.options.resourceName }),
      config: {
        ...this.options.durations,
        resourceName: this.options.resourceName,
        identity: this.options.identity ?? defaultIdentity(),
      },
      metrics: this.metrics,
      logger,
      eligible: () => this.eligible(),
      onStartedLeading: () => {
        for (const listener of this.listeners) listener();
      },
    });
  }

  start(eligible: () => boolean): void {
    this.eligible = eligible;
    this.started = this.elector !== undefined;
    this.elector?.start();
  }

  async stop(drain: () => Promise<void>): Promise<void> {
    if (this.elector === undefined || !this.started) return drain();
    await this.elector.stop(drain);
  }

  /** Each term: the events queue runs under the term's signal, and stops with it. */
  private async receiveWhileLeading(
    events: WatchEvents,
    signal: AbortSignal,
    onKeys: OnWatchKeys,
  ): Promise<void> {
    while (!signal.aborted && this.elector !== undefined) {
      const term = await this.elector.whenLeading(signal).catch(() => undefined);
      if (term === undefined) return;
      await events.run(AbortSignal.any([signal, term.signal]), onKeys);
    }
  }
}
