import { AwsCallCounter, createAwsClients } from "../../controllers/aws/clients.ts";
import { JsonLogger, silentLogger } from "../../controllers/logger.ts";
import { runPass } from "../../controllers/pass.ts";
import { formatDiagnostic, isComplete, loadSpecDirectory } from "../../controllers/spec/load.ts";
import {
  AWS_OPTIONS,
  AWS_OPTIONS_HELP,
  awsSettings,
  formatHelp,
  parseCommandArgs,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import { checkAwsSetup } from "../aws-preflight.ts";
import {
  GIT_OPTIONS,
  GIT_OPTIONS_HELP,
  gitSourceSettings,
  specsLabel,
  withSpecs,
  type FetchedSpecs,
} from "../git-source.ts";
import { allKinds, buildReconcilers, kindParts } from "../kinds.ts";
import { formatPlanText, planJson } from "../plan-output.ts";

const commonOptions: CommandHelp["options"] = [
  ...AWS_OPTIONS_HELP,
  ...GIT_OPTIONS_HELP,
  ["--verbose", "log each decision as JSON on stderr"],
  ["-h, --help", "show this help"],
];

export const planHelp: CommandHelp = {
  usage: "ecs-log-operator plan DIR|--git-url URL [--output text|json] [options]",
  summary:
    "Shows the changes `apply` would make to AWS for the specs under DIR (or in one fetch of a Git repository).\n" +
    "Reads AWS; writes nothing.\nExit code: 0 no changes, 2 changes, 1 error.",
  options: [["--output text|json", "output format (default text)"], ...commonOptions],
  examples: [
    "npx ecs-log-operator plan manifests/examples/kinds/",
    "AWS_ENDPOINT_URL=http://127.0.0.1:5000 npx ecs-log-operator plan specs/ --output json",
    "npx ecs-log-operator plan --git-url git@github.com:acme/ecs-specs.git --git-path prod \\\n" +
      "    --git-ssh-key-file ~/.ssh/ecs-specs --git-known-hosts-file ~/.ssh/known_hosts",
  ],
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
    "npx ecs-log-operator apply specs/ --owner-id prod-logs",
    "npx ecs-log-operator apply --git-url https://github.com/acme/ecs-specs.git --git-ref v1.4.0 --git-path prod \\\n" +
      "    --git-token-secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token",
  ],
};

export async function planOrApplyCommand(
  mode: "plan" | "apply",
  args: string[],
  io: Output,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", default: "text" },
    ...AWS_OPTIONS,
    ...GIT_OPTIONS,
    verbose: { type: "boolean" },
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
  if (values.output !== "text" && values.output !== "json") throw new UsageError("--output is text or json");
  const aws = awsSettings(values);
  const output = values.output;
  const deps = {
    logger: silentLogger,
    endpoint: aws.endpoint,
    connectTimeoutMs: aws.connectTimeoutMs,
    requestTimeoutMs: aws.requestTimeoutMs,
  };
  return withSpecs(dir, git, deps, (specs) => {
    if (specs.revision !== undefined) io.err(`Fetched ${specsLabel(specs, dir)}.\n`);
    return planOrApply(mode, specs, dir, aws, output, values.verbose === true, values.environment, io);
  });
}

async function planOrApply(
  mode: "plan" | "apply",
  specs: FetchedSpecs,
  dirArg: string | undefined,
  aws: ReturnType<typeof awsSettings>,
  output: "text" | "json",
  verbose: boolean,
  environment: string | undefined,
  io: Output,
): Promise<number> {
  const dir = specs.dir;
  const where = specsLabel(specs, dirArg);
  const loaded = await loadSpecDirectory(dir, allKinds(), { environment });
  for (const d of loaded.diagnostics) io.err(formatDiagnostic({ ...d, file: specs.display(d.file) }) + "\n");
  if (loaded.diagnostics.length > 0) {
    io.err(
      loaded.files.length === 0
        ? `Nothing to read at ${where}: give a directory of spec files (*.yaml, *.yml).\n`
        : `${loaded.diagnostics.length} problem(s) in ${where}: the invalid specs are skipped and nothing is deleted ` +
            `this run. Fix them and run again (\`validate ${dirArg ?? "--git-url ..."}\` checks offline).\n`,
    );
    if (loaded.files.length === 0) return 1;
  }
  const counter = new AwsCallCounter();
  const clients = createAwsClients({
    region: aws.region,
    endpoint: aws.endpoint,
    observer: counter,
    route53RequestsPerSecond: aws.route53RequestsPerSecond,
    connectTimeoutMs: aws.connectTimeoutMs,
    requestTimeoutMs: aws.requestTimeoutMs,
  });
  await checkAwsSetup(clients).catch((error: unknown) => {
    clients.destroy();
    throw error;
  });
  const logger = verbose ? new JsonLogger({ write: (l) => io.err(l + "\n"), level: "debug" }) : silentLogger;
  try {
    const result = await runPass(
      {
        reconcilers: buildReconcilers(kindParts(clients)),
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
    if (output === "json") {
      io.out(
        JSON.stringify(
          {
            ...(planJson(result.plans, failures, result.held) as object),
            calls: Object.fromEntries(counter.byOperation()),
            ...(specs.revision !== undefined ? { source: specs.revision } : {}),
          },
          null,
          2,
        ) + "\n",
      );
    } else {
      io.out(formatPlanText(result.plans, failures, io.color, result.held));
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
