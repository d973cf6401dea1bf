import type { AwsClients } from "../controllers/aws/clients.ts";
import { Controller } from "../controllers/controller.ts";
import { EventsQueue } from "../controllers/events-queue.ts";
import { HttpServer } from "../controllers/http-server.ts";
import { Informer } from "../controllers/informers.ts";
import type { Leadership } from "../controllers/leader-election/leadership.ts";
import type { Logger } from "../controllers/logger.ts";
import type { ControllerMetrics } from "../controllers/metrics.ts";
import { GitSpecWatcher } from "../controllers/git-source/git-spec-watcher.ts";
import { webhookRoute } from "../controllers/git-source/webhook.ts";
import { SpecWatcher } from "../controllers/spec-watcher.ts";
import type { BuiltGitSource } from "./git-source.ts";
import { allKinds, buildReconcilers, buildWatchLister, kindParts } from "./kinds.ts";

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
 * The spec source is the directory, or the Git source's revisions (then `/status` has its `source` section and the
 * webhook, when it has a secret, is served at `POST /hooks/git`); the informers list through the kinds' listers; the
 * events queue is SQS; the HTTP server serves the registry and the controller's endpoints. The Git source itself is
 * the caller's to close, after the controller stopped.
 */
export function composeController(options: ComposeControllerOptions & SpecOrigin): Controller {
  const { clients, logger, metrics, leadership } = options;
  const parts = kindParts(clients, leadership?.lease);
  const queueUrl = options.eventsQueueUrl;
  const events =
    queueUrl === undefined
      ? undefined
      : new EventsQueue({ sqs: clients.sqs, queueUrl, logger, waitSeconds: options.eventsWaitSeconds });
  const kinds = allKinds();
  const environment = options.environment;
  const specs =
    options.git === undefined
      ? new SpecWatcher({ dir: options.specDir, kinds, environment, logger })
      : new GitSpecWatcher({ source: options.git.source, kinds, environment, logger });
  const webhook = options.git?.webhook;
  return new Controller({
    specs,
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
        status: () =>
          withLeaderElection(
            specs instanceof GitSpecWatcher
              ? { ...endpoints.status(), source: specs.status() }
              : endpoints.status(),
            leadership,
          ),
        routes: webhook === undefined ? [] : [webhookRoute(webhook)],
      }),
  });
}

/** `/status`, with who leads when there is an election. */
function withLeaderElection(status: object, leadership: Leadership | undefined): object {
  const election = leadership?.status();
  return election === undefined ? status : { ...status, leaderElection: election };
}
