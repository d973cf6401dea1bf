import type { AwsClients } from "../controllers/aws/clients.ts";
import { Controller } from "../controllers/controller.ts";
import { EventsQueue } from "../controllers/events-queue.ts";
import { HttpServer } from "../controllers/http-server.ts";
import { Informer } from "../controllers/informers.ts";
import type { Leadership } from "../controllers/leader-election/leadership.ts";
import type { Logger } from "../controllers/logger.ts";
import type { ControllerMetrics } from "../controllers/metrics.ts";
import { SpecWatcher } from "../controllers/spec-watcher.ts";
import { allKinds, buildReconcilers, buildWatchLister, kindParts } from "./kinds.ts";

export interface ComposeControllerOptions {
  readonly specDir: string;
  readonly clients: AwsClients;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly ownerId: string;
  readonly environment?: string | undefined;
  readonly intervalMs: number;
  /** `/metrics`, `/healthz`, `/readyz`, `/status`. */
  readonly bindAddress: string;
  /** An SQS queue fed by EventBridge. */
  readonly eventsQueueUrl?: string | undefined;
  /** SQS long polling (default 20 s); the bench waits less. */
  readonly eventsWaitSeconds?: number | undefined;
  readonly workers?: number | undefined;
  /** With `--leader-elect`: only the leader writes and receives events; `/status` says who leads. */
  readonly leadership?: Leadership | undefined;
}

/**
 * The controller as `run` builds it: every part made here, over the process's clients and metrics, and handed in.
 * The spec source is the directory; the informers list through the kinds' listers; the events queue is SQS; the HTTP
 * server serves the registry and the controller's endpoints.
 */
export function composeController(options: ComposeControllerOptions): Controller {
  const { clients, logger, metrics, leadership } = options;
  const parts = kindParts(clients, leadership?.lease);
  const queueUrl = options.eventsQueueUrl;
  const events =
    queueUrl === undefined
      ? undefined
      : new EventsQueue({ sqs: clients.sqs, queueUrl, logger, waitSeconds: options.eventsWaitSeconds });
  return new Controller({
    specs: new SpecWatcher({
      dir: options.specDir,
      kinds: allKinds(),
      environment: options.environment,
      logger,
    }),
    reconcilers: buildReconcilers(parts),
    metrics,
    logger,
    ownerId: options.ownerId,
    intervalMs: options.intervalMs,
    workers: options.workers,
    informer: new Informer({ lister: buildWatchLister(parts), logger }),
    events: events && (leadership?.leaderOnly(events) ?? events),
    leadership: leadership?.gate,
    server: (endpoints) =>
      new HttpServer({
        bindAddress: options.bindAddress,
        registry: metrics.registry,
        ...endpoints,
        status: () => withLeaderElection(endpoints.status(), leadership),
      }),
  });
}

/** `/status`, with who leads when there is an election. */
function withLeaderElection(status: object, leadership: Leadership | undefined): object {
  const election = leadership?.status();
  return election === undefined ? status : { ...status, leaderElection: election };
}
