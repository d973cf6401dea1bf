import { createAwsClients } from "../../controllers/aws/clients.ts";
import { AwsError } from "../../controllers/aws/errors.ts";
import { pool } from "../../controllers/pool.ts";
import { DESCRIBE_SERVICES_BATCH } from "../../controllers/service-health/ecs-service-api.ts";
import {
  parseServiceArn,
  type ServiceDescription,
  type TaskDefinitionSummary,
} from "../../controllers/service-health/observation.ts";
import { resourceKey } from "../../controllers/spec/document.ts";
import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import { checkAwsSetup } from "../aws-preflight.ts";
import {
  emulatorNote,
  formatHelp,
  parseCommandArgs,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import { AwsClusterInventory, type ClusterInventoryApi, type ClusterSummary } from "../cluster-inventory.ts";
import { allKinds, buildReconcilers, kindParts } from "../kinds.ts";
import { buildInspectReport, formatInspectText, type SpecWatches } from "../inspect-report.ts";

export const inspectHelp: CommandHelp = {
  usage: "ecs-log-operator inspect CLUSTER [--specs DIR] [-o text|json] [options]",
  summary: [
    "Shows, live from AWS and read-only, every ECS service of CLUSTER: desired, running and pending tasks, its health",
    "(a placement failure's cause, a failed deployment), the task definition revision with its images and tags, the",
    "network mode and Cloud Map registries, the latest events, and with --specs DIR which specs manage it.",
    "Exit code: 0, 1 if the cluster or AWS cannot be reached.",
  ].join("\n"),
  options: [
    [
      "--specs DIR",
      "the spec directory whose specs manage the services (MANAGED BY); offline, no spec is applied",
    ],
    ["--events N", "latest events shown per service (default 3)"],
    ["-o, --output text|json", "output format (default text)"],
    ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
    ["--region REGION", "AWS region (default: the SDK's chain, e.g. $AWS_REGION)"],
    ["--endpoint-url URL", "send every AWS call to URL, e.g. a local emulator (default: $AWS_ENDPOINT_URL)"],
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator inspect logs",
    "npx ecs-log-operator inspect logs --specs manifests/examples/kinds/ --events 5",
    "npx ecs-log-operator inspect arn:aws:ecs:us-east-1:123456789012:cluster/logs -o json",
  ],
  examplesNote:
    emulatorNote(
      "The examples read ECS through the usual AWS configuration (AWS_REGION, the credential chain).",
    ) +
    "\nA cluster in another region: its ARN, and that region in AWS_REGION:\n" +
    "  AWS_REGION=ap-northeast-1 npx ecs-log-operator inspect arn:aws:ecs:ap-northeast-1:123456789012:cluster/logs -o json",
};

export async function inspectCommand(
  args: string[],
  io: Output,
  now: () => number = Date.now,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    specs: { type: "string" },
    events: { type: "string", default: "3" },
    output: { type: "string", short: "o", default: "text" },
    environment: { type: "string" },
    region: { type: "string" },
    "endpoint-url": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(inspectHelp));
    return 0;
  }
  const cluster = positionals[0];
  if (cluster === undefined || positionals.length > 1) throw new UsageError("inspect takes one CLUSTER");
  if (values.output !== "text" && values.output !== "json") throw new UsageError("--output is text or json");
  const events = Number(values.events);
  if (!Number.isInteger(events) || events < 0 || events > 100)
    throw new UsageError("--events takes 0 to 100");

  // Fewer attempts than a reconcile: a person is waiting, and an unreachable endpoint should say so soon.
  const clients = createAwsClients({
    region: values.region,
    endpoint: values["endpoint-url"],
    maxAttempts: 3,
  });
  try {
    await checkAwsSetup(clients);
    let specs: SpecWatches[] = [];
    if (values.specs !== undefined) {
      const loaded = await loadSpecDirectory(values.specs, allKinds(), { environment: values.environment });
      for (const d of loaded.diagnostics) io.err(formatDiagnostic(d) + "\n");
      if (loaded.files.length === 0)
        throw new UsageError(`--specs ${values.specs}: no spec files (*.yaml, *.yml) there`);
      const reconcilers = await buildReconcilers(kindParts(clients));
      specs = loaded.documents.map((doc) => ({
        resource: resourceKey(doc),
        watches: reconcilers.find((r) => r.kind === doc.kind)?.watches?.(doc) ?? [],
      }));
    }
    const api = new AwsClusterInventory(clients);
    const signal = AbortSignal.timeout(5 * 60_000);
    const observed = await readCluster(api, cluster, signal, values["endpoint-url"]);
    const report = buildInspectReport({
      ...observed,
      specs,
      specDir: values.specs ?? null,
      now: now(),
      events,
    });
    io.out(values.output === "json" ? JSON.stringify(report, null, 2) + "\n" : formatInspectText(report));
    return 0;
  } finally {
    clients.destroy();
  }
}

/** The cluster, its services (ListServices pages, DescribeServices ten at a time) and their task definitions. */
export async function readCluster(
  api: ClusterInventoryApi,
  cluster: string,
  signal: AbortSignal,
  endpoint?: string,
): Promise<{
  cluster: ClusterSummary;
  services: ServiceDescription[];
  taskDefinitions: Map<string, TaskDefinitionSummary>;
}> {
  const summary = await api.describeCluster(cluster, signal).catch((error: unknown) => {
    throw unreachable(error, endpoint) ?? error;
  });
  if (summary === undefined) {
    throw new Error(
      `ECS has no cluster "${cluster}" in this region (DescribeClusters: MISSING); check the name and AWS_REGION`,
    );
  }
  const names = (await api.listServiceArns(cluster, signal)).map((arn) => parseServiceArn(arn)?.name ?? arn);
  const services: ServiceDescription[] = [];
  for (let i = 0; i < names.length; i += DESCRIBE_SERVICES_BATCH) {
    services.push(
      ...(await api.describeServices(cluster, names.slice(i, i + DESCRIBE_SERVICES_BATCH), signal)),
    );
  }
  const taskDefinitions = new Map<string, TaskDefinitionSummary>();
  const unique = [...new Set(services.map((s) => s.taskDefinition).filter((t) => t !== ""))];
  await pool(unique, 4, async (arn) => {
    const td = await api.describeTaskDefinition(arn, signal);
    if (td !== undefined) taskDefinitions.set(arn, td);
  });
  return { cluster: summary, services, taskDefinitions };
}

/** A connection that never reached AWS, said as such. */
function unreachable(error: unknown, endpoint: string | undefined): Error | undefined {
  if (!(error instanceof AwsError) || error.errorClass !== "transient") return undefined;
  const text = `${error.message} ${String((error.cause as { code?: string } | undefined)?.code ?? "")}`;
  if (!/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up|TimeoutError/.test(text))
    return undefined;
  const where =
    endpoint ?? process.env.AWS_ENDPOINT_URL_ECS ?? process.env.AWS_ENDPOINT_URL ?? "ECS's endpoint";
  return new Error(
    `cannot reach ECS at ${where} (${error.message}): check the network, AWS_REGION and AWS_ENDPOINT_URL`,
    { cause: error },
  );
}
