import {
  mergeStatements,
  type IamContext,
  type PolicyDocument,
  type PolicyStatement,
} from "../../controllers/iam.ts";
import type { KindEntry } from "../../controllers/kind-entry.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import {
  emulatorNote,
  formatHelp,
  parseCommandArgs,
  UsageError,
  type CommandHelp,
  type Output,
} from "../cli-support.ts";
import {
  GIT_RUN_OPTIONS,
  GIT_RUN_OPTIONS_HELP,
  gitExamples,
  gitPolicySettings,
  specsLabel,
  withSpecs,
} from "../git-source.ts";
import { allKinds, KINDS, sweepingKinds } from "../kinds.ts";
import { OUTPUT_OPTION, outputHelp, parseOutputFormat, printData } from "../output-format.ts";
import { environmentProblem, reportUnreadable } from "../spec-report.ts";

// A policy is a document: JSON for IAM, YAML for a CloudFormation template.
const FORMATS = ["json", "yaml"] as const;

// With a secret's ARN, the policy also grants reading it.
const iamGit = gitExamples(
  "iam-policy",
  "npx ecs-log-operator iam-policy --git-url https://github.com/acme/ecs-specs.git --git-path prod \\\n" +
    "      --git-token-secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token-AbCdEf",
);
import { leaseTableStatements, type LeaseTableAccess } from "../../controllers/leader-election/iam.ts";

export const iamPolicyHelp: CommandHelp = {
  usage: "ecs-log-operator iam-policy DIR|--git-url URL [options]",
  summary: [
    "Prints the least-privilege IAM policy (JSON) that `run` and `apply` need for the specs under DIR, for the",
    "operator's task role. Actions are granted per kind in use; resources are narrowed to ARNs where AWS allows it",
    "(ECS clusters, services and task definition families, Route 53 zones given by id, Auto Scaling groups, the",
    "events queue), and Route 53 changes to the specs' record names and types. Offline: reads only the specs.",
    "With --lookup it also asks Cloud Map (read only) for the hosted zones of the namespaces that exist, and",
    "narrows the Route 53 changes Cloud Map makes for instances to them; offline, or for a namespace not created",
    "yet, that statement (Sid CloudMapWritesInstanceRecordsInAnyZone) is on any zone. Each Sid says why.",
    "Each pass also sweeps AWS for what removed specs left behind: its reads are always granted; its deletes",
    "follow the specs' `prune: true`, and Route 53 records at names no spec holds any more need --allow-prune",
    "(or the policy of the specs before the removal, until the operator has cleaned up).",
    "Give it `run`'s Git flags: --git-url reads the specs from one fetch (as `validate --git-url`), and the",
    "secrets --git-token-secret-arn and --git-webhook-secret-arn name are granted (also beside DIR, a checkout).",
    "Exit code: 0, 1 if a spec is invalid.",
  ].join("\n"),
  options: [
    ["--account ID", "AWS account id in the ARNs (default *)"],
    ["--region REGION", "AWS region in the ARNs (default *)"],
    ["--events-queue-url URL", "grant receiving from this SQS queue (as `run --events-queue-url`)"],
    [
      "--lookup",
      "read the existing Cloud Map namespaces' hosted zones (servicediscovery:ListNamespaces, with the SDK's " +
        "credentials) to narrow the instances' records to them",
    ],
    [
      "--endpoint-url URL",
      "with --lookup: send the lookup to URL, e.g. a local emulator (default: $AWS_ENDPOINT_URL)",
    ],
    ["--allow-prune", "grant every delete the sweep may need, whatever the specs say now"],
    ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
    [
      "--role operator|task",
      "operator (default): the operator's own policy; task: what a routed family's task role needs for its " +
        "LogRouter (the init image's S3 reads)",
    ],
    ["--family NAME", "with --role task: only this family's LogRouter (each family has its own task role)"],
    outputHelp(FORMATS, "json"),
    [
      "--leader-elect-table NAME",
      "grant `run --leader-elect` its lease table and its Route 53 fence records (as `run --leader-elect-table`)",
    ],
    [
      "--leader-elect-resource-name NAME",
      "narrow the lease table to this lease, and the fence records to its own (as `run`; default any lease)",
    ],
    ["--leader-elect-create-table", "also grant dynamodb:CreateTable, so that `run` may create the table"],
    ...GIT_RUN_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator iam-policy manifests/examples/kinds/ --account 123456789012 --region eu-west-1",
    "npx ecs-log-operator iam-policy manifests/examples/kinds/ --role task --family gaze-heatmap",
    `${iamGit.example} --account 123456789012 --region eu-west-1`,
    "aws iam put-role-policy --role-name ecs-log-operator-task --policy-name ecs-log-operator \\\n" +
      '    --policy-document "$(npx ecs-log-operator iam-policy manifests/examples/kinds/ --account 123456789012 --region eu-west-1)"',
  ],
  examplesNote:
    emulatorNote(
      "The first three examples are offline. The fourth gives the policy to an existing role with the AWS CLI.",
    ) +
    "\n" +
    iamGit.note,
};

export interface IamPolicyOptions {
  /** `*` when unknown: ARNs then match any account. */
  readonly account: string;
  readonly region: string;
  readonly eventsQueueUrl?: string | undefined;
  /**
   * Let the operator delete what removed or pruned specs leave behind: Cloud Map deletes for every namespace and
   * service, Route 53 changes at any record name. Without it, deletes follow the specs' `prune: true`.
   */
  readonly allowPrune?: boolean;
  /**
   * The kinds whose orphan sweeps run (default: every entry with `sweeps`). They run on every pass whatever the specs
   * hold, so their reads are granted even with no spec of the kind.
   */
  readonly sweptKinds?: readonly string[];
  /** The kinds to grant for; default the registry. */
  readonly kinds?: readonly KindEntry[];
  /** `run --leader-elect`: the lease table's statements (controllers/leader-election/iam.ts). */
  readonly leaderElection?: Omit<LeaseTableAccess, "account" | "region"> | undefined;
  /** `--lookup`: the hosted zones of the Cloud Map namespaces that exist (IamContext.namespaceZones). */
  readonly namespaceZones?: ReadonlyMap<string, readonly string[]> | undefined;
  /** What `run`'s flags need beyond the kinds and the events queue: the Git source's secrets. */
  readonly statements?: readonly PolicyStatement[];
}

export type { PolicyDocument, PolicyStatement };

/**
 * The policy for a set of valid spec documents. Pure and deterministic: the same specs give the same text.
 *
 * Each kind's entry gives the statements for its specs (`KindEntry.iam`): what its AWS adapter calls
 * (reconcilers/<kind>/aws-*.ts), plus the permissions AWS checks on the caller behind some calls (Cloud Map creates a
 * namespace's hosted zone and writes its services' records in Route 53 as the caller; a task definition revision that
 * names roles needs iam:PassRole on them). Statements kinds share are merged by Sid.
 */
export function iamPolicy(documents: readonly SpecDocument[], options: IamPolicyOptions): PolicyDocument {
  const kinds = options.kinds ?? KINDS;
  const swept = new Set(options.sweptKinds ?? kinds.filter((k) => k.sweeps).map((k) => k.definition.kind));
  const statements: PolicyStatement[] = [];
  for (const entry of kinds) {
    const kind = entry.definition.kind;
    const ctx: IamContext = {
      account: options.account,
      region: options.region,
      allowPrune: options.allowPrune === true,
      sweeping: swept.has(kind),
      fencedLease:
        options.leaderElection === undefined
          ? undefined
          : { resourceName: options.leaderElection.resourceName },
      namespaceZones: options.namespaceZones,
    };
    statements.push(...entry.iam(specsOf(documents, entry), ctx));
  }
  // ---- The events queue (`run --events-queue-url`). DeleteMessageBatch is authorized as sqs:DeleteMessage.
  if (options.eventsQueueUrl !== undefined) {
    statements.push({
      Sid: "ReceiveTaskEventsFromQueue",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:ReceiveMessage"],
      Resource: queueArn(options.eventsQueueUrl, options.account, options.region),
    });
  }
  if (options.leaderElection) {
    statements.push(
      ...leaseTableStatements({
        ...options.leaderElection,
        account: options.account,
        region: options.region,
      }),
    );
  }
  statements.push(...(options.statements ?? []));
  return { Version: "2012-10-17", Statement: mergeStatements(statements) };
}

/**
 * What the task roles of the specs' families need because of the specs (`--role task`), from each kind's entry
 * (`KindEntry.taskRole`); `family` narrows it to one family, whose task role it is. Pure and deterministic.
 */
export function taskRolePolicy(
  documents: readonly SpecDocument[],
  options: { readonly family?: string | undefined; readonly kinds?: readonly KindEntry[] } = {},
): PolicyDocument {
  const statements = (options.kinds ?? KINDS).flatMap(
    (entry) => entry.taskRole?.statements(specsOf(documents, entry), options.family) ?? [],
  );
  return { Version: "2012-10-17", Statement: mergeStatements(statements) };
}

/** Why the task role policy is empty, a sentence per kind that grants task roles anything. */
function emptyTaskRoleReason(
  documents: readonly SpecDocument[],
  family: string | undefined,
  kinds: readonly KindEntry[] = KINDS,
): string {
  const reasons = kinds.flatMap((entry) => {
    if (entry.taskRole === undefined) return [];
    const families = entry.taskRole.families(specsOf(documents, entry));
    return [
      `no ${entry.definition.kind} ${family !== undefined ? `of family ${family} ` : ""}${entry.taskRole.need}` +
        (families.length > 0 ? ` (those that do: ${families.join(", ")})` : ""),
    ];
  });
  return `${reasons.join("; ")}; the task role needs nothing from these specs`;
}

function specsOf(documents: readonly SpecDocument[], entry: KindEntry): unknown[] {
  return documents.filter((d) => d.kind === entry.definition.kind).map((d) => d.spec);
}

/** `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` (or any host with /ACCOUNT/NAME) -> the queue's ARN. */
export function queueArn(url: string, account: string, region: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--events-queue-url "${url}" is not a URL`);
  }
  const m = /^\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)\/?$/.exec(parsed.pathname);
  if (m === null) throw new UsageError(`--events-queue-url "${url}" does not end in /ACCOUNT/QUEUE`);
  const hostRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(parsed.hostname)?.[1];
  return `arn:aws:sqs:${hostRegion ?? region}:${m[1] ?? account}:${m[2]}`;
}

export async function iamPolicyCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    account: { type: "string", default: "*" },
    region: { type: "string", default: "*" },
    "events-queue-url": { type: "string" },
    "allow-prune": { type: "boolean" },
    lookup: { type: "boolean" },
    "endpoint-url": { type: "string" },
    environment: { type: "string" },
    role: { type: "string", default: "operator" },
    family: { type: "string" },
    ...OUTPUT_OPTION,
    "leader-elect-table": { type: "string" },
    "leader-elect-resource-name": { type: "string" },
    "leader-elect-create-table": { type: "boolean" },
    ...GIT_RUN_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(iamPolicyHelp));
    return 0;
  }
  const git = gitPolicySettings(values, positionals);
  const dir = positionals[0];
  if (git.source === undefined && (dir === undefined || positionals.length > 1))
    throw new UsageError("iam-policy takes one spec directory (or --git-url)");
  if (values.role !== "operator" && values.role !== "task") {
    throw new UsageError(`--role "${values.role}" is not one of operator, task`);
  }
  if (values.family !== undefined && values.role !== "task") {
    throw new UsageError("--family narrows --role task; the operator's policy covers every spec");
  }
  if (values.account !== "*" && !/^\d{12}$/.test(values.account)) {
    throw new UsageError(`--account "${values.account}" is not a 12-digit account id`);
  }
  if (values.region !== "*" && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region)) {
    throw new UsageError(`--region "${values.region}" is not a region name such as eu-west-1`);
  }
  if (values["endpoint-url"] !== undefined && values.lookup !== true) {
    throw new UsageError(
      "--endpoint-url is where --lookup reads; without --lookup the policy is made offline",
    );
  }
  const format = parseOutputFormat(values.output, FORMATS, "json");
  const result = await withSpecs(dir, git.source, { logger: silentLogger }, async (specs) => {
    const loaded = await loadSpecDirectory(specs.dir, allKinds(), { environment: values.environment });
    const where = specsLabel(specs, dir);
    if (reportUnreadable(loaded, specs.dir, io)) return undefined;
    const environment = environmentProblem(values.environment, loaded, where);
    if (environment !== undefined) throw new UsageError(environment);
    const diagnostics = loaded.diagnostics.map((d) => ({ ...d, file: specs.display(d.file) }));
    return { ...loaded, diagnostics, where };
  });
  if (result === undefined) return 1;
  for (const d of result.diagnostics) io.err(formatDiagnostic(d) + "\n");
  if (result.diagnostics.length > 0) {
    io.err(
      `${result.diagnostics.length} problem(s) in ${result.where}; no policy printed (it would miss what they need).\n`,
    );
    return 1;
  }
  if (values.role === "task") {
    const policy = taskRolePolicy(result.documents, { family: values.family });
    if (policy.Statement.length === 0) {
      io.err(emptyTaskRoleReason(result.documents, values.family) + "\n");
    }
    printData(io, format === "yaml" ? "yaml" : "json", policy);
    return 0;
  }
  // Loaded only with --lookup: the offline default loads no SDK client (test/integration/offline-commands.test.ts).
  const namespaceZones =
    values.lookup === true
      ? await (
          await import("../iam-lookup.ts")
        ).lookUpNamespaceZones(result.documents, {
          region: values.region !== "*" ? values.region : undefined,
          endpoint: values["endpoint-url"],
        })
      : undefined;
  const policy = iamPolicy(result.documents, {
    namespaceZones,
    account: values.account,
    region: values.region,
    eventsQueueUrl: values["events-queue-url"],
    allowPrune: values["allow-prune"] === true,
    leaderElection: leaseAccess(values),
    statements: git.statements,
  });
  printData(io, format === "yaml" ? "yaml" : "json", policy);
  return 0;
}

/** `--leader-elect-*`: what `run --leader-elect` needs of its lease table, or undefined without leader election. */
function leaseAccess(values: {
  "leader-elect-table"?: string | undefined;
  "leader-elect-resource-name"?: string | undefined;
  "leader-elect-create-table"?: boolean | undefined;
}): IamPolicyOptions["leaderElection"] {
  const table = values["leader-elect-table"];
  if (table === undefined) {
    const given = (["leader-elect-resource-name", "leader-elect-create-table"] as const).filter(
      (k) => values[k] !== undefined,
    );
    if (given.length > 0) {
      throw new UsageError(`${given.map((k) => `--${k}`).join(", ")} needs --leader-elect-table NAME`);
    }
    return undefined;
  }
  return {
    table,
    resourceName: values["leader-elect-resource-name"],
    createTable: values["leader-elect-create-table"] === true,
  };
}

export { sweepingKinds };
