import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { createAwsClients } from "../../controllers/aws/clients.ts";
import { allKinds, buildReconcilers } from "../kinds.ts";
import { parseS3ObjectArn } from "../../reconcilers/log-router/s3-object-arn.ts";

export const iamPolicyHelp: CommandHelp = {
  usage: "ecs-log-operator iam-policy DIR [options]",
  summary: [
    "Prints the least-privilege IAM policy (JSON) that `run` and `apply` need for the specs under DIR, for the",
    "operator's task role. Actions are granted per kind in use; resources are narrowed to ARNs where AWS allows it",
    "(ECS clusters, services and task definition families, Route 53 zones given by id, Auto Scaling groups, the",
    "events queue), and Route 53 changes to the specs' record names and types. Offline: reads only the specs.",
    "Each pass also sweeps AWS for what removed specs left behind: its reads are always granted; its deletes",
    "follow the specs' `prune: true`, and Route 53 records at names no spec holds any more need --allow-prune",
    "(or the policy of the specs before the removal, until the operator has cleaned up).",
    "Exit code: 0, 1 if a spec is invalid.",
  ].join("\n"),
  options: [
    ["--account ID", "AWS account id in the ARNs (default *)"],
    ["--region REGION", "AWS region in the ARNs (default *)"],
    ["--events-queue-url URL", "grant receiving from this SQS queue (as `run --events-queue-url`)"],
    ["--allow-prune", "grant every delete the sweep may need, whatever the specs say now"],
    ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator iam-policy manifests/examples/kinds/ --account 123456789012 --region eu-west-1",
    "aws iam put-role-policy --role-name ecs-log-operator-task --policy-name ecs-log-operator \\\n" +
      '    --policy-document "$(npx ecs-log-operator iam-policy specs/ --account 123456789012 --region eu-west-1)"',
  ],
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
   * The kinds whose reconcilers sweep AWS for what this owner created under specs that are gone (the kinds' planOrphans).
   * They run on every pass whatever the specs hold, so their reads are granted even with no spec of the kind.
   */
  readonly sweptKinds: readonly string[];
}

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

// The spec fields read here, as the contract (shared/api.md) defines them; the loader has validated them.
interface EcsTasksSelector {
  readonly cluster: string;
  readonly service?: string;
  readonly family?: string;
}
interface CloudMapNamespaceSpec {
  readonly name: string;
  readonly prune?: boolean;
}
interface CloudMapServiceSpec {
  readonly namespace: string;
  readonly name: string;
  readonly instances: { readonly ecsTasks: EcsTasksSelector };
  readonly prune?: boolean;
}
interface WeightedRecordSetSpec {
  readonly hostedZone: string;
  readonly name: string;
  readonly type: string;
  readonly targets: { readonly autoScalingGroup?: string; readonly ecsTasks?: EcsTasksSelector };
  readonly drain?: { readonly lifecycleHook: string };
}
interface TaskDefinitionPatchSpec {
  readonly family: string;
  readonly rollout?: { readonly services: readonly { readonly cluster: string; readonly service: string }[] };
  readonly router?: { readonly configFile?: { readonly type: string; readonly value: string } };
}

/** A hosted zone id as Route 53 prints it (`Z0123456789ABC`), as opposed to a zone name. */
const ZONE_ID = /^Z[A-Z0-9]{1,32}$/;

/**
 * The policy for a set of valid spec documents. Pure and deterministic: the same specs give the same text.
 *
 * What each kind calls is what its AWS adapter calls (reconcilers/<kind>/aws-*.ts), plus the permissions AWS checks
 * on the caller behind some calls: Cloud Map creates a namespace's hosted zone and writes its services' records in
 * Route 53 as the caller, and a task definition revision that names roles needs iam:PassRole on them.
 */
export function iamPolicy(documents: readonly SpecDocument[], options: IamPolicyOptions): PolicyDocument {
  const { account, region } = options;
  const arn = (service: string, resource: string, r = region) =>
    `arn:aws:${service}:${r}:${account}:${resource}`;
  const of = <T>(kind: string) => documents.filter((d) => d.kind === kind).map((d) => d.spec as T);
  const namespaces = of<CloudMapNamespaceSpec>("CloudMapNamespace");
  const services = of<CloudMapServiceSpec>("CloudMapService");
  const recordSets = of<WeightedRecordSetSpec>("WeightedRecordSet");
  const patches = [
    ...of<TaskDefinitionPatchSpec>("LogRouter"),
    ...of<TaskDefinitionPatchSpec>("SidecarVolume"),
  ];
  const allowPrune = options.allowPrune === true;
  const sweeps = new Set(options.sweptKinds);
  const statements: PolicyStatement[] = [];
  const add = (s: PolicyStatement) => statements.push(s);

  // ---- ECS tasks: the targets of CloudMapService and WeightedRecordSet, listed by the informers and the adapters.
  const clusters = sorted([
    ...services.map((s) => s.instances.ecsTasks.cluster),
    ...recordSets.flatMap((r) => (r.targets.ecsTasks === undefined ? [] : [r.targets.ecsTasks.cluster])),
  ]);
  if (clusters.length > 0) {
    add({
      Sid: "ListTasksOfWatchedClusters",
      Effect: "Allow",
      Action: ["ecs:ListTasks"],
      Resource: "*",
      Condition: { ArnLike: { "ecs:cluster": clusters.map((c) => arn("ecs", `cluster/${c}`)) } },
    });
    add({
      Sid: "DescribeTasksOfWatchedClusters",
      Effect: "Allow",
      Action: ["ecs:DescribeContainerInstances", "ecs:DescribeTasks"],
      Resource: clusters.flatMap((c) => [arn("ecs", `task/${c}/*`), arn("ecs", `container-instance/${c}/*`)]),
    });
  }
  // A task's or an Auto Scaling instance's private address (bridge and host networking, ASG targets).
  if (clusters.length > 0 || recordSets.some((r) => r.targets.autoScalingGroup !== undefined)) {
    add({ Sid: "DescribeInstances", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" });
  }

  // ---- Cloud Map. Its ids are made by AWS, so ARNs can be narrowed to the region and account only. The operator
  // sweeps for namespaces and services it created whose specs are gone on every pass, specs of the kind or not.
  const sweepsCloudMap = sweeps.has("CloudMapNamespace") || sweeps.has("CloudMapService");
  const pruneNamespaces = allowPrune || namespaces.some((n) => n.prune === true);
  // Pruning a namespace deletes the services this operator created in it first, whose specs may be gone.
  const pruneServices = pruneNamespaces || services.some((s) => s.prune === true);
  if (sweepsCloudMap || namespaces.length > 0 || services.length > 0) {
    add({
      Sid: "CloudMapRead",
      Effect: "Allow",
      Action: [
        "servicediscovery:GetOperation",
        "servicediscovery:ListInstances",
        "servicediscovery:ListNamespaces",
        "servicediscovery:ListServices",
        // A namespace's VPCs are its hosted zone's: read to check the spec's vpc.
        "route53:GetHostedZone",
      ],
      Resource: "*",
    });
    // Ownership is in tags: read on everything the sweep meets, written on what the specs create or adopt.
    add({
      Sid: "CloudMapTags",
      Effect: "Allow",
      Action: [
        "servicediscovery:ListTagsForResource",
        ...(namespaces.length > 0 || services.length > 0 ? ["servicediscovery:TagResource"] : []),
      ],
      Resource: [arn("servicediscovery", "namespace/*"), arn("servicediscovery", "service/*")],
    });
  }
  if (namespaces.length > 0) {
    add({
      Sid: "CloudMapNamespaces",
      Effect: "Allow",
      Action: [
        "servicediscovery:CreatePrivateDnsNamespace",
        // Cloud Map creates the namespace's private hosted zone, in the VPC, with the caller's permissions.
        "route53:CreateHostedZone",
        "route53:ListHostedZonesByName",
        "ec2:DescribeVpcs",
        "ec2:DescribeRegions",
      ],
      Resource: "*",
    });
  }
  if (namespaces.length > 0 || pruneNamespaces) {
    add({
      Sid: "CloudMapNamespaceUpdates",
      Effect: "Allow",
      Action: [
        ...(namespaces.length > 0 ? ["servicediscovery:UpdatePrivateDnsNamespace"] : []),
        ...(pruneNamespaces ? ["servicediscovery:DeleteNamespace"] : []),
      ],
      Resource: arn("servicediscovery", "namespace/*"),
    });
  }
  if (pruneNamespaces) {
    add({
      Sid: "CloudMapNamespaceZoneDelete",
      Effect: "Allow",
      Action: ["route53:DeleteHostedZone"],
      Resource: "*",
    });
  }
  if (services.length > 0 || pruneServices) {
    add({
      Sid: "CloudMapInstances",
      Effect: "Allow",
      Action: [
        // A pruned service's instances are deregistered before it is deleted.
        "servicediscovery:DeregisterInstance",
        ...(services.length > 0
          ? [
              "servicediscovery:CreateService",
              "servicediscovery:GetInstancesHealthStatus",
              "servicediscovery:RegisterInstance",
              "servicediscovery:UpdateInstanceCustomHealthStatus",
            ]
          : []),
        // Cloud Map writes each instance's DNS records (and any health check) as the caller.
        "route53:ChangeResourceRecordSets",
        "route53:CreateHealthCheck",
        "route53:DeleteHealthCheck",
        "route53:GetHealthCheck",
        "route53:UpdateHealthCheck",
      ],
      Resource: "*",
    });
    add({
      Sid: "CloudMapServiceUpdates",
      Effect: "Allow",
      Action: [
        ...(services.length > 0 ? ["servicediscovery:UpdateService"] : []),
        ...(pruneServices ? ["servicediscovery:DeleteService"] : []),
      ],
      Resource: arn("servicediscovery", "service/*"),
    });
  }

  // ---- Route 53 weighted records. Every pass sweeps every zone for records this owner wrote at names no spec
  // covers any more (reconcilers/weighted-record-set), so reading is granted on all zones; changes are narrowed to
  // the zones given by id and to the specs' record names, unless --allow-prune lets the sweep delete at other names.
  if (sweeps.has("WeightedRecordSet") || recordSets.length > 0) {
    add({
      Sid: "Route53ReadZones",
      Effect: "Allow",
      Action: [
        "route53:GetHostedZone",
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
      ],
      Resource: "*",
    });
  }
  if (recordSets.length > 0 || (allowPrune && sweeps.has("WeightedRecordSet"))) {
    const zones = sorted(
      recordSets.map((r) => (ZONE_ID.test(r.hostedZone) && !allowPrune ? r.hostedZone : "*")),
    );
    const zoneArns =
      zones.length === 0 || zones.includes("*")
        ? ["arn:aws:route53:::hostedzone/*"]
        : zones.map((z) => `arn:aws:route53:::hostedzone/${z}`);
    // Every record has a TXT twin at `_elo-<type>.<name>` that records its owner.
    const names = sorted(
      recordSets.flatMap((r) => {
        const name = normalizeRecordName(r.name);
        return [name, `_elo-${r.type.toLowerCase()}.${name}`];
      }),
    );
    add({
      Sid: "Route53ChangeOwnRecords",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: zoneArns,
      ...(allowPrune
        ? {}
        : {
            Condition: {
              "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
                "route53:ChangeResourceRecordSetsRecordTypes": sorted([
                  ...recordSets.map((r) => r.type),
                  "TXT",
                ]),
              },
            },
          }),
    });
  }
  if (recordSets.length > 0) {
    const groups = sorted(
      recordSets.flatMap((r) =>
        r.targets.autoScalingGroup === undefined ? [] : [r.targets.autoScalingGroup],
      ),
    );
    if (groups.length > 0) {
      add({
        Sid: "AutoScalingGroups",
        Effect: "Allow",
        // Auto Scaling's Describe actions accept no resource ARN. A drain also reads its lifecycle hook.
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          ...(recordSets.some((r) => r.drain !== undefined) ? ["autoscaling:DescribeLifecycleHooks"] : []),
        ],
        Resource: "*",
      });
    }
    const draining = sorted(
      recordSets.flatMap((r) =>
        r.drain === undefined || r.targets.autoScalingGroup === undefined ? [] : [r.targets.autoScalingGroup],
      ),
    );
    if (draining.length > 0) {
      add({
        Sid: "AutoScalingDrain",
        Effect: "Allow",
        Action: ["autoscaling:CompleteLifecycleAction"],
        Resource: draining.map((g) => arn("autoscaling", `autoScalingGroup:*:autoScalingGroupName/${g}`)),
      });
      // A drain's hold starts once the change that removed the record is INSYNC.
      add({
        Sid: "Route53DrainInSync",
        Effect: "Allow",
        Action: ["route53:GetChange"],
        Resource: "arn:aws:route53:::change/*",
      });
    }
  }

  // ---- Task definitions (LogRouter, SidecarVolume): new revisions of the specs' families, rollouts to services.
  if (patches.length > 0) {
    const families = sorted(patches.map((p) => p.family));
    add({
      Sid: "TaskDefinitionsReadAndRegister",
      Effect: "Allow",
      // Neither action accepts a resource ARN: AWS evaluates them against "*".
      Action: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
      Resource: "*",
    });
    add({
      Sid: "TaskDefinitionsTagOnRegister",
      Effect: "Allow",
      Action: ["ecs:TagResource"],
      Resource: families.map((f) => arn("ecs", `task-definition/${f}:*`)),
      Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    });
    add({
      // A revision keeps the family's task and execution roles; registering it passes them to ECS again.
      Sid: "TaskDefinitionsPassRolesToEcsTasks",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: `arn:aws:iam::${account}:role/*`,
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    });
    const rollouts = sorted(
      patches.flatMap((p) => (p.rollout?.services ?? []).map((s) => `${s.cluster}/${s.service}`)),
    );
    if (rollouts.length > 0) {
      add({
        Sid: "RolloutServices",
        Effect: "Allow",
        Action: ["ecs:DescribeServices", "ecs:UpdateService"],
        Resource: rollouts.map((s) => arn("ecs", `service/${s}`)),
      });
    }
  }

  // ---- Fluent Bit config files the operator uploads for FireLens (`router.configFile` of type s3).
  const configObjects = patches.flatMap((p) => {
    const ref = p.router?.configFile?.type === "s3" ? parseS3ObjectArn(p.router.configFile.value) : undefined;
    return ref === undefined ? [] : [ref];
  });
  if (configObjects.length > 0) {
    add({
      Sid: "FluentBitConfigObjects",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: sorted(configObjects.map((o) => `arn:${o.partition}:s3:::${o.bucket}/${o.key}`)),
    });
    add({
      // Without ListBucket, S3 answers a missing object with 403 instead of 404, and the first upload never happens.
      Sid: "FluentBitConfigBuckets",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: sorted(configObjects.map((o) => `arn:${o.partition}:s3:::${o.bucket}`)),
    });
  }

  // ---- The events queue (`run --events-queue-url`). DeleteMessageBatch is authorized as sqs:DeleteMessage.
  if (options.eventsQueueUrl !== undefined) {
    add({
      Sid: "EventsQueue",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:ReceiveMessage"],
      Resource: queueArn(options.eventsQueueUrl, account, region),
    });
  }

  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => ({ ...s, Action: sorted(s.Action) })),
  };
}

/** Route 53's normalized form of a record name, as its condition keys compare it: lower case, no final dot. */
function normalizeRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
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

function sorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

export async function iamPolicyCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    account: { type: "string", default: "*" },
    region: { type: "string", default: "*" },
    "events-queue-url": { type: "string" },
    "allow-prune": { type: "boolean" },
    environment: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(iamPolicyHelp));
    return 0;
  }
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1)
    throw new UsageError("iam-policy takes one spec directory");
  if (values.account !== "*" && !/^\d{12}$/.test(values.account)) {
    throw new UsageError(`--account "${values.account}" is not a 12-digit account id`);
  }
  if (values.region !== "*" && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region)) {
    throw new UsageError(`--region "${values.region}" is not a region name such as eu-west-1`);
  }
  const result = await loadSpecDirectory(dir, allKinds(), { environment: values.environment });
  for (const d of result.diagnostics) io.err(formatDiagnostic(d) + "\n");
  if (result.diagnostics.length > 0) {
    io.err(
      `${result.diagnostics.length} problem(s) in ${dir}; no policy printed (it would miss what they need).\n`,
    );
    return 1;
  }
  const policy = iamPolicy(result.documents, {
    sweptKinds: sweepingKinds(),
    account: values.account,
    region: values.region,
    eventsQueueUrl: values["events-queue-url"],
    allowPrune: values["allow-prune"] === true,
  });
  io.out(JSON.stringify(policy, null, 2) + "\n");
  return 0;
}

/** The kinds whose reconcilers sweep for orphans, from the reconcilers themselves (built offline: no AWS call). */
export function sweepingKinds(): string[] {
  const clients = createAwsClients({ region: "us-east-1" });
  try {
    return buildReconcilers({ clients })
      .filter((r) => r.planOrphans !== undefined)
      .map((r) => r.kind);
  } finally {
    clients.destroy();
  }
}
