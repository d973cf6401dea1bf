import { AwsCallCounter, createAwsClients } from "../../controllers/aws/clients.ts";
import { silentLogger } from "../../controllers/logger.ts";
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
import { allKinds, buildReconcilers, kindParts } from "../kinds.ts";
import { OUTPUT_OPTION, outputHelp, parseOutputFormat, printData } from "../output-format.ts";
import { formatPlanText, planJson } from "../plan-output.ts";
import { environmentProblem, reportUnreadable } from "../spec-report.ts";

const FORMATS = ["table", "json", "yaml"] as const;

const commonOptions: CommandHelp["options"] = [
  outputHelp(FORMATS, "table"),
  ...AWS_OPTIONS_HELP,
  logLevelHelp("none"),
  ["-h, --help", "show this help"],
];

export const planHelp: CommandHelp = {
  usage: "ecs-log-operator plan DIR [--output table|json|yaml] [options]",
  summary:
    "Shows the changes `apply` would make to AWS for the specs under DIR. Reads AWS; writes nothing.\nExit code: 0 no changes, 2 changes, 1 error.",
  options: commonOptions,
  examples: [
    "npx ecs-log-operator plan manifests/examples/kinds/",
    "npx ecs-log-operator plan manifests/examples/seeds/003-firelens-datadog/ --environment development --output json",
  ],
  examplesNote: emulatorNote(),
};

export const applyHelp: CommandHelp = {
  usage: "ecs-log-operator apply DIR [options]",
  summary:
    "Makes AWS match the specs under DIR in one reconcile pass. A converged apply makes no write call.\nExit code: 0 converged, 1 error (every other resource is still reconciled).",
  options: commonOptions,
  examples: [
    "npx ecs-log-operator apply manifests/examples/kinds/",
    "npx ecs-log-operator apply manifests/examples/kinds/ --owner-id prod-logs --log-level info",
  ],
  examplesNote: emulatorNote(),
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
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(mode === "plan" ? planHelp : applyHelp));
    return 0;
  }
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1) throw new UsageError(`${mode} takes one spec directory`);
  const format = parseOutputFormat(values.output, FORMATS, "table");
  const aws = awsSettings(values);
  const logger = stderrLogger(values, io) ?? silentLogger;

  const loaded = await loadSpecDirectory(dir, allKinds(), { environment: values.environment });
  if (reportUnreadable(loaded, dir, io)) return 1;
  const environment = environmentProblem(values.environment, loaded, dir);
  if (environment !== undefined) throw new UsageError(environment);
  for (const d of loaded.diagnostics) io.err(formatDiagnostic(d) + "\n");
  if (loaded.diagnostics.length > 0) {
    io.err(
      `${loaded.diagnostics.length} problem(s) in ${dir}: the invalid specs are skipped and nothing is deleted ` +
        `this run. Fix them and run again (\`validate ${dir}\` checks offline).\n`,
    );
  }
  const counter = new AwsCallCounter();
  const clients = createAwsClients({
    region: aws.region,
    endpoint: aws.endpoint,
    observer: counter,
    route53RequestsPerSecond: aws.route53RequestsPerSecond,
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
      },
      mode === "apply",
    );
    if (format !== "table") {
      printData(io, format, {
        ...(planJson(result.plans, result.failures) as object),
        calls: Object.fromEntries(counter.byOperation()),
      });
    } else {
      io.out(formatPlanText(result.plans, result.failures, io.color, endpoints));
      if (mode === "apply") {
        io.out(`${counter.calls.length} AWS call(s), ${counter.writes().length} write(s).\n`);
      }
    }
    if (result.failures.length > 0 || loaded.diagnostics.length > 0) return 1;
    if (mode === "plan") return result.plans.some((p) => p.changes.length > 0) ? 2 : 0;
    return 0;
  } finally {
    clients.destroy();
  }
}
