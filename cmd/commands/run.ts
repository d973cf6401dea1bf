import { Registry } from "prom-client";
import { createAwsClients, observeAll } from "../../controllers/aws/clients.ts";
import { AwsReachability } from "../../controllers/aws/reachability.ts";
import { TickReadCache } from "../../controllers/aws/read-cache.ts";
import { DEFAULT_WORKERS } from "../../controllers/controller.ts";
import { parseBindAddress } from "../../controllers/http-server.ts";
import { JsonLogger } from "../../controllers/logger.ts";
import { collectProcessMetrics, ControllerMetrics } from "../../controllers/metrics.ts";
import { UnusableSpecsError } from "../../controllers/spec-source.ts";
import {
  AWS_OPTIONS,
  AWS_OPTIONS_HELP,
  awsSettings,
  emulatorNote,
  formatHelp,
  LOG_LEVEL_OPTIONS,
  logLevelHelp,
  logLevelOption,
  parseCommandArgs,
  parseDuration,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import { checkAwsSetup, checkEndpoints, configuredEndpoints } from "../aws-preflight.ts";
import { composeController } from "../compose-controller.ts";
import {
  buildGitSource,
  GIT_RUN_OPTIONS,
  GIT_RUN_OPTIONS_HELP,
  gitExamples,
  gitSourceSettings,
  specRevisionCheck,
  type BuiltGitSource,
} from "../git-source.ts";
import { allKinds } from "../kinds.ts";
import { METRICS_SERVING_HELP, METRICS_SERVING_OPTIONS, metricsServing } from "../metrics-serving.ts";

const runGit = gitExamples(
  "run",
  "npx ecs-log-operator run --git-url https://github.com/acme/ecs-specs.git --git-path prod --git-interval 1m \\\n" +
    "      --git-token-secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token \\\n" +
    "      --git-webhook-secret-file /run/secrets/git-webhook",
);
import {
  LEADER_ELECTION_OPTIONS,
  LEADER_ELECTION_OPTIONS_HELP,
  leaderElectionSettings,
  leadershipFor,
} from "../leader-election-options.ts";

export const runHelp: CommandHelp = {
  usage: "ecs-log-operator run DIR|--git-url URL [options]",
  summary: [
    "The controller: keeps AWS converged to the specs under DIR until SIGTERM. Reconciles on spec edits, on ECS",
    "task and Auto Scaling changes (listed each interval, or at once from an EventBridge-fed SQS queue) and on a",
    "periodic resync. Reads the watched ECS services' health each interval (counts, events, stopped tasks) and",
    "serves /metrics, /healthz, /readyz, /status and the status page / (for a browser; `get` and `describe` read",
    "/status). Logs one JSON line per decision on stdout.",
    "With --git-url the specs are the repository's: its ref is asked for each --git-interval (and at once on",
    "POST /hooks/git with --git-webhook-secret-*), each new commit checked out whole and applied only when every",
    "spec validates; otherwise, and while the remote cannot be reached, the last good commit stays applied.",
    "With --leader-elect, replicas elect one leader through a lease in DynamoDB: only the leader writes; the",
    "others serve and stand by, and take over when it stops, dies or freezes.",
    "Exit code: 0 after SIGTERM (the writes in flight are finished first, then the lease is released), 1 if it",
    "cannot start.",
  ].join("\n"),
  options: [
    [
      "--interval DURATION",
      "how often AWS state is listed, the specs re-read and everything resynced (default 30s)",
    ],
    [
      "--metrics-bind-address ADDR",
      "where /metrics, /healthz, /readyz, /status and the page / are served (default :9464)",
    ],
    ...METRICS_SERVING_HELP,
    ["--events-queue-url URL", "SQS queue fed by EventBridge with ECS task and Auto Scaling events"],
    [
      "--workers N",
      "reconciles at once, never two of one resource (default 64; AWS's quotas are kept by the rate limits)",
    ],
    logLevelHelp("info"),
    ...LEADER_ELECTION_OPTIONS_HELP,
    ...AWS_OPTIONS_HELP,
    ...GIT_RUN_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator run manifests/examples/kinds/",
    "npx ecs-log-operator run manifests/examples/kinds/ --interval 1m --log-level debug \\\n" +
      "    --events-queue-url http://127.0.0.1:5000/123456789012/ecs-events   # on AWS: the queue of manifests/deploy/events.cfn.yaml",
    "npx ecs-log-operator run manifests/examples/kinds/ --leader-elect --leader-elect-table ecs-log-operator-leases --owner-id prod-logs",
    runGit.example,
  ],
  examplesNote: `${emulatorNote()}\n${runGit.note}`,
};

export async function runCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    interval: { type: "string", default: "30s" },
    "metrics-bind-address": { type: "string", default: ":9464" },
    "events-queue-url": { type: "string" },
    workers: { type: "string", default: String(DEFAULT_WORKERS) },
    ...METRICS_SERVING_OPTIONS,
    ...LOG_LEVEL_OPTIONS,
    ...LEADER_ELECTION_OPTIONS,
    ...AWS_OPTIONS,
    ...GIT_RUN_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(runHelp));
    return 0;
  }
  const git = gitSourceSettings(values, positionals);
  const dir = positionals[0];
  if (git === undefined && (dir === undefined || positionals.length > 1)) {
    throw new UsageError("run takes one spec directory (or --git-url)");
  }
  const intervalMs = parseDuration(values.interval);
  if (intervalMs < 100) throw new UsageError("--interval must be at least 100ms");
  try {
    parseBindAddress(values["metrics-bind-address"]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError("--workers takes a positive integer");
  const aws = awsSettings(values);
  const level = logLevelOption(values, io) ?? "info";
  const serving = metricsServing(values);
  const election = leaderElectionSettings(values, aws.ownerId);

  const registry = new Registry();
  collectProcessMetrics(registry);
  const metrics = new ControllerMetrics(registry);
  const logger = new JsonLogger({ write: (line) => io.out(line + "\n"), level });
  // Watched state is read once per interval and shared by every reconcile of it (see TickReadCache).
  const reads = new TickReadCache({ maxAgeMs: intervalMs });
  // Ready means AWS answers: every attempt the clients make tells it (see AWS_LOSS_MS for how long a loss lasts).
  const reachability = new AwsReachability();
  const leadership = leadershipFor(election, { registry, logger });
  const clients = createAwsClients({
    readCache: reads,
    region: aws.region,
    endpoint: aws.endpoint,
    observer: observeAll(metrics, reachability),
    route53RequestsPerSecond: aws.route53RequestsPerSecond,
    requestsPerSecond: aws.requestsPerSecond,
    requestGuard: leadership.requestGuard,
    connectTimeoutMs: aws.connectTimeoutMs,
    requestTimeoutMs: aws.requestTimeoutMs,
  });
  try {
    await checkAwsSetup(clients);
    // A stopped or mistyped emulator is one line at start, not a reconcile error per resource every pass.
    await checkEndpoints(configuredEndpoints(aws.endpoint));
    await leadership.prepare(clients);
  } catch (error) {
    clients.destroy();
    throw error;
  }
  let built: BuiltGitSource | undefined;
  if (git !== undefined) {
    built = await buildGitSource(git, {
      logger,
      registry,
      endpoint: aws.endpoint,
      connectTimeoutMs: aws.connectTimeoutMs,
      requestTimeoutMs: aws.requestTimeoutMs,
      check: specRevisionCheck(allKinds(), aws.environment),
    }).catch((error: unknown) => {
      clients.destroy();
      throw error;
    });
  }
  const controller = await composeController({
    ...(built !== undefined ? { git: built } : { specDir: dir ?? "" }),
    clients,
    metrics,
    logger,
    ownerId: aws.ownerId,
    environment: aws.environment,
    intervalMs,
    bindAddress: values["metrics-bind-address"],
    serving,
    eventsQueueUrl: values["events-queue-url"],
    workers,
    reads,
    readiness: [reachability],
    leadership,
    reconcileTimeoutMs: aws.reconcileTimeoutMs,
    pruneGuard: aws.pruneGuard,
  });
  // Writes finished first, then the lease released: the other order is two leaders at once. Writes the shutdown
  // timeout aborted may still be on the wire: then the lease is not released, and the standby waits it out.
  const stop = () =>
    leadership.stop(async () => {
      await controller.stop();
      if (controller.writesAbortedAtShutdown) {
        throw new Error("writes in flight were aborted at the shutdown timeout");
      }
    });

  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info("signal received; stopping", { signal });
      stop().then(resolve, resolve);
    };
  });
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await controller.start();
    if (controller.phase === "ready") {
      const specs = built !== undefined ? { gitUrl: built.source.status().url } : { specDir: dir };
      logger.info("ready", { ...specs, port: controller.port, scheme: serving.scheme });
    }
    // A replica campaigns once ready, and takes the lease only while it stays ready.
    leadership.start(() => controller.endpoints.ready().ready);
    await stopped;
    logger.info("stopped");
    return 0;
  } catch (error) {
    // What start left running is stopped; the error said is the one that stopped it.
    await stop().catch(() => undefined);
    if (error instanceof Error && /EADDRINUSE/.test(error.message)) {
      throw new Error(
        `${error.message}: another process serves that port; choose another with --metrics-bind-address`,
        { cause: error },
      );
    }
    if (error instanceof UnusableSpecsError) {
      // As the other commands say it: an environment no spec declares is a usage error, a path with nothing to
      // read says what to give instead.
      if (error.reason === "environment") throw new UsageError(error.message);
      throw new Error(
        `${error.message}; nothing was reconciled. Give the directory of spec files (*.yaml, *.yml) to watch, ` +
          "e.g. manifests/examples/kinds",
        { cause: error },
      );
    }
    throw error;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    // The controller has stopped its pull loop; a fetch in flight is waited for and the checkouts removed.
    await built?.close();
    clients.destroy();
  }
}
