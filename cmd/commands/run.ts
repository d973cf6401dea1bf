import { Registry } from "prom-client";
import { createAwsClients } from "../../controllers/aws/clients.ts";
import { parseBindAddress } from "../../controllers/http-server.ts";
import { JsonLogger, type LogLevel } from "../../controllers/logger.ts";
import { collectProcessMetrics, ControllerMetrics } from "../../controllers/metrics.ts";
import {
  AWS_OPTIONS,
  AWS_OPTIONS_HELP,
  awsSettings,
  formatHelp,
  parseCommandArgs,
  parseDuration,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import { checkAwsSetup } from "../aws-preflight.ts";
import { composeController } from "../compose-controller.ts";
import {
  buildGitSource,
  GIT_RUN_OPTIONS,
  GIT_RUN_OPTIONS_HELP,
  gitSourceSettings,
  specRevisionCheck,
  type BuiltGitSource,
} from "../git-source.ts";
import { allKinds } from "../kinds.ts";

export const runHelp: CommandHelp = {
  usage: "ecs-log-operator run DIR|--git-url URL [options]",
  summary: [
    "The controller: keeps AWS converged to the specs under DIR until SIGTERM. Reconciles on spec edits, on ECS",
    "task and Auto Scaling changes (listed each interval, or at once from an EventBridge-fed SQS queue) and on a",
    "periodic resync. Serves /metrics, /healthz, /readyz and /status. Logs one JSON line per decision on stdout.",
    "With --git-url the specs are the repository's: its ref is asked for each --git-interval (and at once on",
    "POST /hooks/git with --git-webhook-secret-*), each new commit checked out whole and applied only when every",
    "spec validates; otherwise, and while the remote cannot be reached, the last good commit stays applied.",
    "Exit code: 0 after SIGTERM (the writes in flight are finished first), 1 if it cannot start.",
  ].join("\n"),
  options: [
    [
      "--interval DURATION",
      "how often AWS state is listed, the specs re-read and everything resynced (default 30s)",
    ],
    [
      "--metrics-bind-address ADDR",
      "where /metrics, /healthz, /readyz and /status are served (default :9464)",
    ],
    ["--events-queue-url URL", "SQS queue fed by EventBridge with ECS task and Auto Scaling events"],
    ["--workers N", "reconciles at once, never two of one resource (default 4)"],
    ["--log-level LEVEL", "debug, info, warn or error (default info)"],
    ...AWS_OPTIONS_HELP,
    ...GIT_RUN_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator run manifests/examples/kinds/",
    "npx ecs-log-operator run specs/ --interval 1m --events-queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events",
    "npx ecs-log-operator run --git-url https://github.com/acme/ecs-specs.git --git-path prod --git-interval 1m \\\n" +
      "    --git-token-secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token \\\n" +
      "    --git-webhook-secret-file /run/secrets/git-webhook",
  ],
};

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export async function runCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    interval: { type: "string", default: "30s" },
    "metrics-bind-address": { type: "string", default: ":9464" },
    "events-queue-url": { type: "string" },
    workers: { type: "string", default: "4" },
    "log-level": { type: "string", default: "info" },
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
  const level = values["log-level"] as LogLevel;
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level is one of ${LEVELS.join(", ")}`);

  const registry = new Registry();
  collectProcessMetrics(registry);
  const metrics = new ControllerMetrics(registry);
  const logger = new JsonLogger({ write: (line) => io.out(line + "\n"), level });
  const clients = createAwsClients({
    region: aws.region,
    endpoint: aws.endpoint,
    observer: metrics,
    route53RequestsPerSecond: aws.route53RequestsPerSecond,
    connectTimeoutMs: aws.connectTimeoutMs,
    requestTimeoutMs: aws.requestTimeoutMs,
  });
  await checkAwsSetup(clients).catch((error: unknown) => {
    clients.destroy();
    throw error;
  });
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
  const controller = composeController({
    ...(built !== undefined ? { git: built } : { specDir: dir ?? "" }),
    clients,
    metrics,
    logger,
    ownerId: aws.ownerId,
    environment: aws.environment,
    intervalMs,
    bindAddress: values["metrics-bind-address"],
    eventsQueueUrl: values["events-queue-url"],
    workers,
    reconcileTimeoutMs: aws.reconcileTimeoutMs,
    pruneGuard: aws.pruneGuard,
  });

  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info("signal received; stopping", { signal });
      controller.stop().then(resolve, resolve);
    };
  });
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await controller.start();
    if (controller.phase === "ready") {
      const specs = built !== undefined ? { gitUrl: built.source.status().url } : { specDir: dir };
      logger.info("ready", { ...specs, port: controller.port });
    }
    await stopped;
    logger.info("stopped");
    return 0;
  } catch (error) {
    await controller.stop();
    if (error instanceof Error && /EADDRINUSE/.test(error.message)) {
      throw new Error(
        `${error.message}: another process serves that port; choose another with --metrics-bind-address`,
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
