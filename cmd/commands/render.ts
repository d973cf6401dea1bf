import type { AwsClients } from "../../controllers/aws/clients.ts";
import { resourceKey } from "../../controllers/spec/document.ts";
import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import { FileTaskDefinitionApi } from "../../reconcilers/task-definition/file-task-definition-api.ts";
import type { TaskDefinitionApi } from "../../reconcilers/task-definition/task-definition-api.ts";
import { TaskDefinitionPatches } from "../../reconcilers/task-definition/task-definition-patch.ts";
import {
  familyTags,
  sdkRegion,
  TaskDefinitionReconciler,
  type FamilyDesired,
} from "../../reconcilers/task-definition/task-definition-reconciler.ts";
import {
  AWS_TIMEOUT_OPTIONS,
  AWS_TIMEOUT_OPTIONS_HELP,
  awsTimeouts,
  emulatorNote,
  formatHelp,
  ownerIdOption,
  parseCommandArgs,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import {
  accessProblem,
  AwsSetupError,
  checkAwsSetup,
  checkEndpoints,
  configuredEndpoints,
  type ConfiguredEndpoint,
} from "../aws-preflight.ts";
import { didYouMean } from "../../controllers/did-you-mean.ts";
import { formatTable, OUTPUT_OPTION, outputHelp, parseOutputFormat, printData } from "../output-format.ts";
import { environmentProblem, reportUnreadable } from "../spec-report.ts";
import { allKinds, taskDefinitionPatches } from "../kinds.ts";

const FORMATS = ["json", "yaml", "table"] as const;

export const renderHelp: CommandHelp = {
  usage: "ecs-log-operator render DIR [--from FILE]... [--family NAME] [--output json|yaml|table] [options]",
  summary:
    "Prints the task definitions `apply` would register for the LogRouter and SidecarVolume specs under DIR, as " +
    "JSON: per family, the RegisterTaskDefinition input (`taskDefinition`), whether it differs from the latest " +
    "ACTIVE revision, lint warnings, and the extra Fluent Bit config a router reads (Grace, buffering, multiline, " +
    "throttle, additional outputs) with how it is delivered (init-s3 and s3: `apply` uploads it). Reads ECS unless " +
    "every family is given with --from; registers nothing. A family that cannot be rendered is reported and the " +
    "others are still printed.\nExit code: 0 rendered, 1 error.",
  options: [
    [
      "--from FILE",
      "a task definition JSON to patch instead of the family's latest revision in ECS (repeatable)",
    ],
    ["--family NAME", "print only this family's RegisterTaskDefinition input"],
    outputHelp(FORMATS, "json"),
    ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
    [
      "--region REGION",
      "AWS region, also the default awslogs-region (default: the SDK's chain, e.g. $AWS_REGION)",
    ],
    ["--endpoint-url URL", "send every AWS call to URL, e.g. a local emulator (default: $AWS_ENDPOINT_URL)"],
    ["--owner-id ID", "the owner tag value (default: $ECS_LOG_OPERATOR_OWNER_ID or `default`)"],
    ...AWS_TIMEOUT_OPTIONS_HELP.slice(0, 2),
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator render manifests/examples/seeds/003-firelens-datadog/ \\\n" +
      "    --from test/fixtures/task-definitions/gaze-heatmap.base.json --region ap-northeast-1",
    "npx ecs-log-operator render manifests/examples/kinds/ --family log-batch > td.json && " +
      "aws ecs register-task-definition --cli-input-json file://td.json",
  ],
  examplesNote: emulatorNote(
    "The first example is offline. The second reads the family's latest revision from ECS and registers the\n" +
      "result with the AWS CLI, both through the usual AWS configuration (AWS_REGION, the credential chain).",
  ),
};

export async function renderCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: "string", multiple: true },
    family: { type: "string" },
    ...OUTPUT_OPTION,
    environment: { type: "string" },
    region: { type: "string" },
    "endpoint-url": { type: "string" },
    "aws-connect-timeout": AWS_TIMEOUT_OPTIONS["aws-connect-timeout"],
    "aws-request-timeout": AWS_TIMEOUT_OPTIONS["aws-request-timeout"],
    "owner-id": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(renderHelp));
    return 0;
  }
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1) throw new UsageError("render takes one spec directory");
  const format = parseOutputFormat(values.output, FORMATS, "json");
  const ownerId = ownerIdOption(values["owner-id"]);

  const loaded = await loadSpecDirectory(dir, allKinds(), { environment: values.environment });
  if (reportUnreadable(loaded, dir, io)) return 1;
  const environment = environmentProblem(values.environment, loaded, dir);
  if (environment !== undefined) throw new UsageError(environment);
  for (const d of loaded.diagnostics) io.err(formatDiagnostic(d) + "\n");
  if (loaded.diagnostics.length > 0) {
    io.err(`${loaded.diagnostics.length} problem(s) in ${dir}; nothing was rendered.\n`);
    return 1;
  }
  const patches = new TaskDefinitionPatches(taskDefinitionPatches());
  const families = [
    ...new Set(loaded.documents.map((d) => patches.familyOf(d)).filter((f): f is string => f !== undefined)),
  ].sort();
  if (values.family !== undefined && !families.includes(values.family)) {
    throw new UsageError(
      `no LogRouter or SidecarVolume spec under ${dir} patches family ${values.family}` +
        didYouMean(values.family, families),
    );
  }
  const timeouts = awsTimeouts(values);
  const files = await FileTaskDefinitionApi.readFiles(values.from ?? []);
  // The SDK is loaded only for a family without a --from file (or a region found only in the shared config):
  // `render --from` stays offline and starts fast.
  let clients: AwsClients | undefined;
  let ecs: Promise<TaskDefinitionApi> | undefined;
  const aws = async (): Promise<AwsClients> => {
    const { createAwsClients } = await import("../../controllers/aws/clients.ts");
    return (clients ??= createAwsClients({
      region: values.region,
      endpoint: values["endpoint-url"],
      maxAttempts: 2,
      connectTimeoutMs: timeouts.connectTimeoutMs,
      requestTimeoutMs: timeouts.requestTimeoutMs,
    }));
  };
  const endpoints = configuredEndpoints(values["endpoint-url"]);
  const connect = (): Promise<TaskDefinitionApi> =>
    (ecs ??= (async () => {
      const { AwsTaskDefinitionApi } =
        await import("../../reconcilers/task-definition/aws-task-definition-api.ts");
      const c = await aws();
      // As plan does: a missing region or credentials, or an endpoint that does not answer, is one sentence.
      await checkAwsSetup(c);
      await checkEndpoints(endpoints);
      return new AwsTaskDefinitionApi(c);
    })());
  const viaEcs: TaskDefinitionApi = {
    describeLatest: async (family, signal) => (await connect()).describeLatest(family, signal),
    describe: async (td, signal) => (await connect()).describe(td, signal),
    register: () => Promise.reject(new Error("render registers nothing")),
    describeService: async () => undefined,
    updateServiceTaskDefinition: () => Promise.reject(new Error("render rolls out nothing")),
  };
  const api = new FileTaskDefinitionApi(files, () => viaEcs);
  const region = async (): Promise<string | undefined> =>
    values.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    (await sdkRegion((await aws()).ecs));
  const reconciler = new TaskDefinitionReconciler({ api, region, patches: patches.list() });
  try {
    const rendered: FamilyDesired[] = [];
    const errors: string[] = [];
    // Families that failed on reaching AWS at all: one line for all of them.
    const unreachable = new Map<string, string[]>();
    for (const family of values.family !== undefined ? [values.family] : families) {
      try {
        rendered.push(await reconciler.desired(family, patches.specsOfFamily(loaded.documents, family)));
      } catch (error) {
        const shared = setupProblem(error, endpoints);
        if (shared !== undefined) unreachable.set(shared, [...(unreachable.get(shared) ?? []), family]);
        else errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    const entries = rendered.map((d) => renderEntry(d, ownerId));
    if (entries.length > 0) {
      if (format === "table") io.out(renderTable(entries));
      else
        printData(
          io,
          format,
          values.family !== undefined ? entries[0]?.taskDefinition : { taskDefinitions: entries },
        );
    }
    for (const e of errors) io.err(e + "\n");
    for (const [reason, names] of unreachable) {
      io.err(
        `${names.length === 1 ? "family" : "families"} ${names.join(", ")} cannot be read from AWS (${reason}); ` +
          `to render offline, give ${names.length === 1 ? "its task definition" : "their task definitions"} with --from FILE\n`,
      );
    }
    const failed = errors.length + [...unreachable.values()].flat().length;
    if (failed > 0) {
      io.err(
        `${failed} famil${failed === 1 ? "y" : "ies"} could not be rendered` +
          (entries.length > 0
            ? `; the other ${entries.length} ${entries.length === 1 ? "is" : "are"} printed above.\n`
            : ".\n"),
      );
      return 1;
    }
    return 0;
  } finally {
    clients?.destroy();
  }
}

/** The sentence for a failure every family would share (setup, endpoint, credentials), else undefined. */
function setupProblem(error: unknown, endpoints: readonly ConfiguredEndpoint[]): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof AwsSetupError) return e.message;
  }
  return accessProblem(error, endpoints)?.summary;
}

function renderTable(entries: readonly Record<string, unknown>[]): string {
  return formatTable(
    ["FAMILY", "FROM", "CHANGED", "WARNINGS", "SPECS"],
    entries.map((e) => [
      String(e.family),
      String(e.from),
      e.changed === true ? "yes" : "no",
      String((e.warnings as unknown[]).length),
      (e.specs as string[]).join(", "),
    ]),
  );
}

/** One family in `render` output. `taskDefinition` is RegisterTaskDefinition input, tags included. */
export function renderEntry(d: FamilyDesired, ownerId: string): Record<string, unknown> {
  return {
    family: d.family,
    from: d.base.arn,
    specs: d.docs.map(resourceKey),
    changed: d.changed,
    ...(d.changed ? { difference: d.difference } : {}),
    warnings: d.warnings,
    // The only config file a patch renders today is a LogRouter's; the key is part of render's output.
    ...(d.configFile !== undefined
      ? { fluentBitConfig: { delivery: d.configFile.delivery, text: d.configFile.text } }
      : {}),
    taskDefinition: { ...d.definition, tags: familyTags(d, ownerId) },
  };
}
