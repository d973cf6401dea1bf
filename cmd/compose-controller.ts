import type { AwsClients } from "../controllers/aws/clients.ts";
import { Controller } from "../controllers/controller.ts";
import { EventsQueue } from "../controllers/events-queue.ts";
import { HttpServer } from "../controllers/http-server.ts";
import { Informer } from "../controllers/informers.ts";
import type { Logger } from "../controllers/logger.ts";
import type { ControllerMetrics } from "../controllers/metrics.ts";
import type { PruneGuardPolicy } from "../controllers/prune-guard.ts";
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
  /** `--reconcile-timeout`. */
  readonly reconcileTimeoutMs?: number | undefined;
  /** `--allow-empty`, `--prune-guard-count`, `--prune-guard-fraction`. */
  readonly pruneGuard?: PruneGuardPolicy | undefined;
}

/**
 * The controller as `run` builds it: every part made here, over the process's clients and metrics, and handed in.
 * The spec source is the directory, or the Git source's revisions (then `/status` has its `source` section and the
 * webhook, when it has a secret, is served at `POST /hooks/git`); the informers list through the kinds' listers; the
 * events queue is SQS; the HTTP server serves the registry and the controller's endpoints. The Git source itself is
 * the caller's to close, after the controller stopped.
 */
export function composeController(options: ComposeControllerOptions & SpecOrigin): Controller {
  const { clients, logger, metrics } = options;
  const parts = kindParts(clients);
  const queueUrl = options.eventsQueueUrl;
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
    reconcileTimeoutMs: options.reconcileTimeoutMs,
    pruneGuard: options.pruneGuard,
    informer: new Informer({ lister: buildWatchLister(parts), logger }),
    events:
      queueUrl === undefined
        ? undefined
        : new EventsQueue({ sqs: clients.sqs, queueUrl, logger, waitSeconds: options.eventsWaitSeconds }),
    server: (endpoints) =>
      new HttpServer({
        bindAddress: options.bindAddress,
        registry: metrics.registry,
        ...endpoints,
        ...(specs instanceof GitSpecWatcher
          ? { status: () => ({ ...endpoints.status(), source: specs.status() }) }
          : {}),
        routes: webhook === undefined ? [] : [webhookRoute(webhook)],
      }),
  });
}
