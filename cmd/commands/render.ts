import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { resourceKey } from "../../controllers/spec/document.ts";
import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import { AwsTaskDefinitionApi } from "../../reconcilers/task-definition/aws-task-definition-api.ts";
import { FileTaskDefinitionApi } from "../../reconcilers/task-definition/file-task-definition-api.ts";
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
  formatHelp,
  parseCommandArgs,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import { allKinds, taskDefinitionPatches } from "../kinds.ts";

export const renderHelp: CommandHelp = {
  usage: "ecs-log-operator render DIR [--from FILE]... [--family NAME] [options]",
  summary:
    "Prints the task definitions `apply` would register for the LogRouter and SidecarVolume specs under DIR, as " +
    "JSON: per family, the RegisterTaskDefinition input (`taskDefinition`), whether it differs from the latest " +
    "ACTIVE revision, lint warnings, and the extra Fluent Bit config a router reads (Grace, buffering, multiline, " +
    "throttle, additional outputs) with how it is delivered (init-s3 and s3: `apply` uploads it). Reads ECS unless " +
    "every family is given with --from; registers nothing.\nExit code: 0 rendered, 1 error.",
  options: [
    [
      "--from FILE",
      "a task definition JSON to patch instead of the family's latest revision in ECS (repeatable)",
    ],
    ["--family NAME", "print only this family's RegisterTaskDefinition input"],
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
    "npx ecs-log-operator render manifests/examples/seeds/003-firelens-datadog/ --from taskdef.json --region ap-northeast-1",
    "npx ecs-log-operator render specs/ --family gaze-heatmap > td.json && " +
      "aws ecs register-task-definition --cli-input-json file://td.json",
  ],
};

export async function renderCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: "string", multiple: true },
    family: { type: "string" },
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

  const loaded = await loadSpecDirectory(dir, allKinds(), { environment: values.environment });
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
    throw new UsageError(`no LogRouter or SidecarVolume spec under ${dir} patches family ${values.family}`);
  }
  const timeouts = awsTimeouts(values);
  const files = await FileTaskDefinitionApi.readFiles(values.from ?? []);
  let clients: AwsClients | undefined;
  const aws = (): AwsClients =>
    (clients ??= createAwsClients({
      region: values.region,
      endpoint: values["endpoint-url"],
      maxAttempts: 2,
      connectTimeoutMs: timeouts.connectTimeoutMs,
      requestTimeoutMs: timeouts.requestTimeoutMs,
    }));
  const api = new FileTaskDefinitionApi(files, () => new AwsTaskDefinitionApi(aws()));
  const region = async (): Promise<string | undefined> =>
    values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (await sdkRegion(aws().ecs));
  const reconciler = new TaskDefinitionReconciler({ api, region, patches: patches.list() });
  const ownerId = values["owner-id"] ?? process.env.ECS_LOG_OPERATOR_OWNER_ID ?? "default";
  try {
    const rendered: FamilyDesired[] = [];
    const errors: string[] = [];
    for (const family of values.family !== undefined ? [values.family] : families) {
      try {
        rendered.push(await reconciler.desired(family, patches.specsOfFamily(loaded.documents, family)));
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (errors.length > 0) {
      for (const e of errors) io.err(e + "\n");
      io.err(`${errors.length} famil${errors.length === 1 ? "y" : "ies"} could not be rendered.\n`);
      return 1;
    }
    const entries = rendered.map((d) => renderEntry(d, ownerId));
    const out = values.family !== undefined ? entries[0]?.taskDefinition : { taskDefinitions: entries };
    io.out(JSON.stringify(out, null, 2) + "\n");
    return 0;
  } finally {
    clients?.destroy();
  }
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
