import { AwsCallCounter, createAwsClients } from "../../controllers/aws/clients.ts";
import { silentLogger, type Logger } from "../../controllers/logger.ts";
import { runPass } from "../../controllers/pass.ts";
import { formatDiagnostic, isComplete, loadSpecDirectory } from "../../controllers/spec/load.ts";
import {
  AWS_OPTIONS,
  AWS_OPTIONS_HELP,
  awsSettings,
  emulatorNote,
  formatHelp,
  LOG_LEVEL_OPTIONS,
  logLevelHelp,
  parseCommandArgs,
  stderrLogger,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import { checkAwsSetup, checkEndpoints, configuredEndpoints } from "../aws-preflight.ts";
import {
  GIT_OPTIONS,
  GIT_OPTIONS_HELP,
  gitExamples,
  gitSourceSettings,
  specsLabel,
  withSpecs,
  type FetchedSpecs,
} from "../git-source.ts";
import { allKinds, buildReconcilers, kindParts } from "../kinds.ts";
import {
  OUTPUT_OPTION,
  outputHelp,
  parseOutputFormat,
  printData,
  type OutputFormat,
} from "../output-format.ts";
import { formatPlanText, planJson } from "../plan-output.ts";
import { environmentProblem, reportUnreadable } from "../spec-report.ts";

const FORMATS = ["table", "json", "yaml"] as const;

const commonOptions: CommandHelp["options"] = [
  outputHelp(FORMATS, "table"),
  ...AWS_OPTIONS_HELP,
  ...GIT_OPTIONS_HELP,
  logLevelHelp("none"),
  ["-h, --help", "show this help"],
];

const planGit = gitExamples(
  "plan",
  "npx ecs-log-operator plan --git-url git@github.com:acme/ecs-specs.git --git-path prod \\\n" +
    "      --git-ssh-key-file ~/.ssh/ecs-specs --git-known-hosts-file ~/.ssh/known_hosts",
);
const applyGit = gitExamples(
  "apply",
  "npx ecs-log-operator apply --git-url https://github.com/acme/ecs-specs.git --git-ref v1.4.0 --git-path prod \\\n" +
    "      --git-token-secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token",
);

export const planHelp: CommandHelp = {
  usage: "ecs-log-operator plan DIR|--git-url URL [--output table|json|yaml] [options]",
  summary:
    "Shows the changes `apply` would make to AWS for the specs under DIR (or in one fetch of a Git repository).\n" +
    "Reads AWS; writes nothing.\nExit code: 0 no changes, 2 changes, 1 error.",
  options: commonOptions,
  examples: [
    "npx ecs-log-operator plan manifests/examples/kinds/",
    "npx ecs-log-operator plan manifests/examples/seeds/003-firelens-datadog/ --environment development --output json",
    planGit.example,
  ],
  examplesNote: `${emulatorNote()}\n${planGit.note}`,
};

export const applyHelp: CommandHelp = {
  usage: "ecs-log-operator apply DIR|--git-url URL [options]",
  summary:
    "Makes AWS match the specs under DIR (or in one fetch of a Git repository: the commit applied is printed) in\n" +
    "one reconcile pass. A converged apply makes no write call.\n" +
    "Exit code: 0 converged, 1 error (every other resource is still reconciled).",
  options: commonOptions,
  examples: [
    "npx ecs-log-operator apply manifests/examples/kinds/",
    "npx ecs-log-operator apply manifests/examples/kinds/ --owner-id prod-logs --log-level info",
    applyGit.example,
  ],
  examplesNote: `${emulatorNote()}\n${applyGit.note}`,
};

export async function planOrApplyCommand(
  mode: "plan" | "apply",
  args: string[],
  io: Output,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...OUTPUT_OPTION,
    ...AWS_OPTIONS,
    ...LOG_LEVEL_OPTIONS,
    ...GIT_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(mode === "plan" ? planHelp : applyHelp));
    return 0;
  }
  const git = gitSourceSettings(values, positionals);
  const dir = positionals[0];
  if (git === undefined && (dir === undefined || positionals.length > 1)) {
    throw new UsageError(`${mode} takes one spec directory (or --git-url)`);
  }
  const format = parseOutputFormat(values.output, FORMATS, "table");
  const aws = awsSettings(values);
  const logger = stderrLogger(values, io) ?? silentLogger;
  const deps = {
    logger: silentLogger,
    endpoint: aws.endpoint,
    connectTimeoutMs: aws.connectTimeoutMs,
    requestTimeoutMs: aws.requestTimeoutMs,
  };
  return withSpecs(dir, git, deps, (specs) => {
    if (specs.revision !== undefined) io.err(`Fetched ${specsLabel(specs, dir)}.\n`);
    return planOrApply(mode, specs, dir, aws, format, logger, values.environment, io);
  });
}

async function planOrApply(
  mode: "plan" | "apply",
  specs: FetchedSpecs,
  dirArg: string | undefined,
  aws: ReturnType<typeof awsSettings>,
  format: OutputFormat,
  logger: Logger,
  environment: string | undefined,
  io: Output,
): Promise<number> {
  const dir = specs.dir;
  const where = specsLabel(specs, dirArg);
  const loaded = await loadSpecDirectory(dir, allKinds(), { environment });
  if (reportUnreadable(loaded, dir, io)) return 1;
  const unknownEnvironment = environmentProblem(environment, loaded, where);
  if (unknownEnvironment !== undefined) throw new UsageError(unknownEnvironment);
  for (const d of loaded.diagnostics) io.err(formatDiagnostic({ ...d, file: specs.display(d.file) }) + "\n");
  if (loaded.diagnostics.length > 0) {
    io.err(
      `${loaded.diagnostics.length} problem(s) in ${where}: the invalid specs are skipped and nothing is deleted ` +
        `this run. Fix them and run again (\`validate ${dirArg ?? "--git-url ..."}\` checks offline).\n`,
    );
  }
  const counter = new AwsCallCounter();
  const clients = createAwsClients({
    region: aws.region,
    endpoint: aws.endpoint,
    observer: counter,
    route53RequestsPerSecond: aws.route53RequestsPerSecond,
    requestsPerSecond: aws.requestsPerSecond,
    connectTimeoutMs: aws.connectTimeoutMs,
    requestTimeoutMs: aws.requestTimeoutMs,
  });
  const endpoints = configuredEndpoints(aws.endpoint);
  try {
    await checkAwsSetup(clients);
    await checkEndpoints(endpoints);
    const result = await runPass(
      {
        reconcilers: await buildReconcilers(kindParts(clients)),
        documents: loaded.documents,
        complete: isComplete(loaded),
        ownerId: aws.ownerId,
        logger,
        signal: AbortSignal.timeout(15 * 60_000),
        reconcileTimeoutMs: aws.reconcileTimeoutMs,
        pruneGuard: aws.pruneGuard,
      },
      mode === "apply",
    );
    const failures = result.failures.map((f) =>
      f.source === undefined ? f : { ...f, source: { ...f.source, file: specs.display(f.source.file) } },
    );
    if (format !== "table") {
      printData(io, format, {
        ...(planJson(result.plans, failures, result.held) as object),
        calls: Object.fromEntries(counter.byOperation()),
        ...(specs.revision !== undefined ? { source: specs.revision } : {}),
      });
    } else {
      io.out(formatPlanText(result.plans, failures, io.color, endpoints, mode, result.held));
      if (mode === "apply") {
        io.out(`${counter.calls.length} AWS call(s), ${counter.writes().length} write(s).\n`);
      }
      if (specs.revision !== undefined) {
        io.out(
          `${mode === "apply" ? "Applied" : "Planned"} commit ${specs.revision.commit} (${specs.revision.ref}).\n`,
        );
      }
    }
    if (result.failures.length > 0 || loaded.diagnostics.length > 0) return 1;
    // Held deletions are a difference between AWS and the specs that waits for a person: plan says so (2), and an
    // apply that held them has not converged (1).
    if (mode === "plan") return result.plans.some((p) => p.changes.length > 0) ? 2 : 0;
    if (result.held.length > 0) {
      io.err(`${result.held.length} kind(s) had deletions held by the prune guard; see "Held:" above.\n`);
      return 1;
    }
    return 0;
  } finally {
    clients.destroy();
  }
}
