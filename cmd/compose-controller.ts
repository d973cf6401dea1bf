import type { AwsClients } from "../controllers/aws/clients.ts";
import { systemClock, type Clock } from "../controllers/clock.ts";
import { Controller } from "../controllers/controller.ts";
import { EventsQueue } from "../controllers/events-queue.ts";
import { HttpServer } from "../controllers/http-server.ts";
import { Informer } from "../controllers/informers.ts";
import type { Leadership } from "../controllers/leader-election/leadership.ts";
import type { Logger } from "../controllers/logger.ts";
import type { ControllerMetrics } from "../controllers/metrics.ts";
import type { TickReads } from "../controllers/tick-reads.ts";
import type { PruneGuardPolicy } from "../controllers/prune-guard.ts";
import { GitSpecWatcher } from "../controllers/git-source/git-spec-watcher.ts";
import { webhookRoute } from "../controllers/git-source/webhook.ts";
import { AwsEcsServiceApi } from "../controllers/service-health/aws-ecs-service-api.ts";
import { ServiceHealthMetrics } from "../controllers/service-health/metrics.ts";
import { ServiceHealthPoller } from "../controllers/service-health/poller.ts";
import { WatchedServices } from "../controllers/service-health/watched-services.ts";
import type { ReadinessCheck } from "../controllers/readiness.ts";
import type { StatusDocument } from "../controllers/status-model.ts";
import { SpecWatcher } from "../controllers/spec-watcher.ts";
import type { BuiltGitSource } from "./git-source.ts";
import { allKinds, buildReconcilers, buildWatchLister, kindParts } from "./kinds.ts";
import { TlsRenewingServer, type MetricsServing } from "./metrics-serving.ts";

/** Where the specs come from: a directory, or a Git repository (the source `buildGitSource` made, not yet started). */
export type SpecOrigin =
  | { readonly specDir: string; readonly git?: undefined }
  | { readonly git: BuiltGitSource; readonly specDir?: undefined };

export interface ComposeControllerOptions {
  readonly clients: AwsClients;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly ownerId: string;
  readonly environment?: string | undefined;
  readonly intervalMs: number;
  /** `/metrics`, `/healthz`, `/readyz`, `/status` and the status page `/`. */
  readonly bindAddress: string;
  /** TLS and the bearer token for `/`, `/status` and `/metrics` (`run --metrics-tls-*`, `--metrics-bearer-token-file`). */
  readonly serving?: MetricsServing | undefined;
  /** An SQS queue fed by EventBridge. */
  readonly eventsQueueUrl?: string | undefined;
  /** SQS long polling (default 20 s); the bench waits less. */
  readonly eventsWaitSeconds?: number | undefined;
  readonly workers?: number | undefined;
  /** The tick's shared read cache, the same one `clients` were built with (`AwsClientOptions.readCache`). */
  readonly reads?: TickReads | undefined;
  /** Default: the system clock; tests move a `ManualClock`. */
  readonly clock?: Clock | undefined;
  /**
   * More conditions `/readyz` waits for: `run` gives the `AwsReachability` its clients report to. Leader election
   * (issue 12) is to take the same checks: a replica for which one has a reason takes no lease.
   */
  readonly readiness?: readonly ReadinessCheck[] | undefined;
  /** With `--leader-elect`: only the leader writes and receives events; `/status` says who leads. */
  readonly leadership?: Leadership | undefined;
  /** `--reconcile-timeout`. */
  readonly reconcileTimeoutMs?: number | undefined;
  /** `--allow-empty`, `--prune-guard-count`, `--prune-guard-fraction`. */
  readonly pruneGuard?: PruneGuardPolicy | undefined;
}

/**
 * The controller as `run` builds it: every part made here, over the process's clients and metrics, and handed in.
 * The spec source is the directory, or the Git source's revisions (then `/status` and the page have its `source`
 * section and the webhook, when it has a secret, is served at `POST /hooks/git`); each interval's poll reads the
 * watched ECS services' health and hands their running tasks to the informer, which lists the rest through the kinds'
 * listers; the events queue is SQS, its events also read for the services' failures; the HTTP server serves the
 * registry, the controller's endpoints and the page. The Git source itself is the caller's to close, after the
 * controller stopped.
 */
export async function composeController(options: ComposeControllerOptions & SpecOrigin): Promise<Controller> {
  const { clients, logger, metrics, leadership } = options;
  const clock = options.clock ?? systemClock;
  const parts = kindParts(clients, leadership?.lease);
  const [reconcilers, lister] = await Promise.all([buildReconcilers(parts), buildWatchLister(parts)]);
  const queueUrl = options.eventsQueueUrl;
  const watched = new WatchedServices({ clock, metrics: new ServiceHealthMetrics(metrics.registry) });
  const events =
    queueUrl === undefined
      ? undefined
      : new EventsQueue({
          sqs: clients.sqs,
          queueUrl,
          logger,
          waitSeconds: options.eventsWaitSeconds,
          clock,
          onEvent: (event) => watched.handleEvent(event),
        });
  const serving = options.serving;
  const kinds = allKinds();
  const environment = options.environment;
  const specs =
    options.git === undefined
      ? new SpecWatcher({ dir: options.specDir, kinds, environment, logger })
      : new GitSpecWatcher({ source: options.git.source, kinds, environment, logger });
  const webhook = options.git?.webhook;
  return new Controller({
    specs,
    reconcilers,
    metrics,
    logger,
    ownerId: options.ownerId,
    intervalMs: options.intervalMs,
    workers: options.workers,
    reads: options.reads,
    reconcileTimeoutMs: options.reconcileTimeoutMs,
    pruneGuard: options.pruneGuard,
    readiness: options.readiness,
    informer: new ServiceHealthPoller({
      informer: new Informer({ lister, logger }),
      watched,
      api: new AwsEcsServiceApi(clients),
      logger,
      clock,
    }),
    watched,
    events: events && (leadership?.leaderOnly(events) ?? events),
    leadership: leadership?.gate,
    server: (endpoints) => {
      const server = new HttpServer({
        bindAddress: options.bindAddress,
        registry: metrics.registry,
        clock,
        ...serving?.server,
        ...endpoints,
        status: () =>
          withLeaderElection(
            specs instanceof GitSpecWatcher
              ? { ...endpoints.status(), source: specs.status() }
              : endpoints.status(),
            leadership,
          ),
        routes: webhook === undefined ? [] : [webhookRoute(webhook)],
      });
      return serving?.scheme === "https"
        ? new TlsRenewingServer(server, serving, { clock, checkMs: options.intervalMs, logger })
        : server;
    },
    clock,
  });
}

/**
 * `/status`, with who leads when there is an election: the election's own section (`leaderElection`), and the
 * summary the page and `get` read (`leadership`).
 */
function withLeaderElection(status: object, leadership: Leadership | undefined): object {
  const election = leadership?.status();
  if (election === undefined) return status;
  const summary: StatusDocument["leadership"] = {
    identity: election.identity,
    leader: election.role === "leader",
    holder: election.leader?.holder ?? null,
    epoch: election.leader?.epoch ?? null,
    since: election.leader?.since ?? null,
  };
  return { ...status, leaderElection: election, leadership: summary };
}
