import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand } from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import { ensureLeaseTable } from "../../controllers/leader-election/dynamodb-lease-lock.ts";
import { leaseTableStatements } from "../../controllers/leader-election/iam.ts";
import { iamPolicy, sweepingKinds } from "../../cmd/commands/iam-policy.ts";
import { allKinds } from "../../cmd/kinds.ts";
import { leaderElectionSettings, LEADER_ELECTION_OPTIONS } from "../../cmd/leader-election-options.ts";
import { parseCommandArgs } from "../../cmd/cli-support.ts";
import { startEmulator } from "./harness.ts";

// manifests/deploy/terraform/ applied by real Terraform with the hashicorp/aws provider (from the machine's offline
// plugin mirror, as bench/terraform.ts uses it) against the emulator; what it built is read back through the SDK and
// Terraform's state.

const exec = promisify(execFile);
const MODULE = join(import.meta.dirname, "../../manifests/deploy/terraform");
const MIRROR = process.env.TF_PLUGIN_MIRROR ?? "/opt/tf-plugins";
const ACCOUNT = "123456789012";

/** The emulator, typed through the harness (which owns where MotoEmulator lives). */
let moto: Awaited<ReturnType<typeof startEmulator>>["moto"];
let clients: AwsClients;
let dir: string;
let env: NodeJS.ProcessEnv;

async function terraform(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec("terraform", [...args, "-no-color"], {
      cwd: dir,
      env,
      maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number; message: string };
    throw Object.assign(
      new Error(
        `terraform ${args.join(" ")} failed:\n${e.stderr ?? ""}${e.stdout?.slice(-4000) ?? e.message}`,
      ),
      { code: e.code },
    );
  }
}

beforeAll(async () => {
  if (!existsSync(MIRROR)) {
    throw new Error(
      `the hashicorp/aws provider mirror ${MIRROR} is missing (set TF_PLUGIN_MIRROR to its path)`,
    );
  }
  // The execution role attaches AWS's AmazonECSTaskExecutionRolePolicy, which the emulator knows only when asked to
  // load AWS's managed policies (read when moto_server starts).
  const saved = process.env.MOTO_IAM_LOAD_MANAGED_POLICIES;
  process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = "true";
  try {
    ({ moto, clients } = await startEmulator({ region: "us-east-1" }));
  } finally {
    if (saved === undefined) delete process.env.MOTO_IAM_LOAD_MANAGED_POLICIES;
    else process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = saved;
  }
  dir = await mkdtemp(join(tmpdir(), "terraform-module-"));
  await writeFile(
    join(dir, "terraformrc"),
    `provider_installation {\n  filesystem_mirror {\n    path = "${MIRROR}"\n  }\n}\n`,
  );
  env = {
    ...process.env,
    TF_CLI_CONFIG_FILE: join(dir, "terraformrc"),
    TF_IN_AUTOMATION: "1",
    CHECKPOINT_DISABLE: "1",
  };
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the Terraform module (manifests/deploy/terraform)", () => {
  // The timeout is a cap, not a measure: about 213 s alone, over 300 s with the machine's two cores shared by several
  // suites at once.
  it("stands the whole operator up: lease table, events queue and rule, roles with the computed policy, task definition, a service of two", async () => {
    // What the user has already: a VPC with private subnets, a security group, a cluster.
    const ec2 = await clients.ec2();
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
    const VpcId = vpc.Vpc?.VpcId;
    const subnets = await Promise.all(
      ["10.0.1.0/24", "10.0.2.0/24"].map((CidrBlock) =>
        ec2.send(new CreateSubnetCommand({ VpcId, CidrBlock })),
      ),
    );
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({ VpcId, GroupName: "operator", Description: "operator" }),
    );
    const cluster = await clients.ecs.send(new CreateClusterCommand({ clusterName: "control-plane" }));

    // The specs' policy, computed by iam-policy from the first seed's specs.
    const specs = await loadSpecDirectory(
      join(import.meta.dirname, "../../manifests/examples/seeds/000-log-cluster"),
      allKinds(),
    );
    expect(specs.diagnostics).toEqual([]);
    const policy = iamPolicy(specs.documents, {
      account: ACCOUNT,
      region: "us-east-1",
      sweptKinds: sweepingKinds(),
    });
    await writeFile(join(dir, "task-role-policy.json"), JSON.stringify(policy, null, 2));

    const endpoint = moto.endpoint;
    await writeFile(
      join(dir, "main.tf"),
      `provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    dynamodb = "${endpoint}"
    ec2      = "${endpoint}"
    ecs      = "${endpoint}"
    events   = "${endpoint}"
    iam      = "${endpoint}"
    logs     = "${endpoint}"
    sqs      = "${endpoint}"
    sts      = "${endpoint}"
  }
}

module "operator" {
  source               = "${MODULE}"
  cluster_arn          = "${cluster.cluster?.clusterArn}"
  image                = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-log-operator-specs:main"
  subnets              = ${JSON.stringify(subnets.map((s) => s.Subnet?.SubnetId))}
  security_groups      = ["${sg.GroupId}"]
  operator_policy_json = file("task-role-policy.json")
  owner_id             = "blue"
}

output "operator" {
  value = module.operator
}
`,
    );
    await terraform("init", "-input=false");
    await terraform("apply", "-auto-approve", "-input=false");
    const out = JSON.parse(await terraform("output", "-json")) as {
      operator: { value: Record<string, string> };
    };
    const o = out.operator.value;
    expect(o).toMatchObject({
      lease_table_name: "ecs-log-operator-leases",
      lease_resource_name: "ecs-log-operator-blue",
      service_name: "ecs-log-operator",
    });

    // The lease table is one the operator accepts as it is (no CreateTable needed).
    const dynamodb = new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    try {
      expect(await ensureLeaseTable(dynamodb, o.lease_table_name!, { create: false })).toBe("exists");
      const table = await dynamodb.send(new DescribeTableCommand({ TableName: o.lease_table_name }));
      expect(table.Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    } finally {
      dynamodb.destroy();
    }

    // The events queue has its dead-letter queue, and only the rule may send to it.
    const attrs = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: o.events_queue_url, AttributeNames: ["All"] }),
    );
    expect(JSON.parse(attrs.Attributes?.RedrivePolicy ?? "{}")).toMatchObject({ maxReceiveCount: 5 });
    const queuePolicy = JSON.parse(attrs.Attributes?.Policy ?? "{}") as {
      Statement: { Sid: string; Condition?: unknown }[];
    };
    expect(
      queuePolicy.Statement.find((s) => s.Sid === "EventBridgeSendsOnlyFromTheRule")?.Condition,
    ).toMatchObject({
      ArnEquals: { "aws:SourceArn": expect.stringContaining(":rule/ecs-log-operator-events") },
    });

    // The service: two replicas, rolled out start-before-stop.
    const described = await clients.ecs.send(
      new DescribeServicesCommand({ cluster: cluster.cluster?.clusterArn, services: [o.service_name!] }),
    );
    const service = described.services?.[0];
    expect(service?.desiredCount).toBe(2);

    // The task: run with leader election on the module's table, flags the operator accepts.
    const td = await clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: o.task_definition_arn }),
    );
    const command = td.taskDefinition?.containerDefinitions?.[0]?.command ?? [];
    expect(command.slice(0, 2)).toEqual(["run", "/specs"]);
    expect(command[command.indexOf("--events-queue-url") + 1]).toBe(o.events_queue_url);
    const leader = leaderElectionSettings(
      parseCommandArgs(
        command.filter((_, i) => i >= command.indexOf("--leader-elect")),
        LEADER_ELECTION_OPTIONS,
      ).values,
      "blue",
    );
    expect(leader).toEqual({
      enabled: true,
      table: "ecs-log-operator-leases",
      resourceName: "ecs-log-operator-blue",
      durations: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    });
    expect(td.taskDefinition?.taskRoleArn).toBe(o.task_role_arn);

    // The task role's policies, as the provider read them back: the specs' policy unchanged, and exactly the lease
    // statements iam-policy computes for this table and lease (no CreateTable), plus the events queue.
    const state = JSON.parse(await readFile(join(dir, "terraform.tfstate"), "utf8")) as {
      resources: {
        module?: string;
        type: string;
        name: string;
        instances: { attributes: Record<string, string> }[];
      }[];
    };
    const inline = (name: string) =>
      JSON.parse(
        state.resources.find((r) => r.type === "aws_iam_role_policy" && r.name === name)!.instances[0]!
          .attributes.policy!,
      ) as { Statement: unknown[] };
    expect(inline("specs")).toEqual(policy);
    // The emulator's DescribeServices leaves the deployment configuration out: read what Terraform sent.
    const ecsService = state.resources.find((r) => r.type === "aws_ecs_service")!.instances[0]!.attributes;
    expect(ecsService).toMatchObject({
      deployment_maximum_percent: 200,
      deployment_minimum_healthy_percent: 100,
    });
    const runtime = inline("runtime").Statement;
    expect(runtime.slice(0, 2)).toEqual(
      leaseTableStatements({
        table: "ecs-log-operator-leases",
        resourceName: "ecs-log-operator-blue",
        createTable: false,
        account: ACCOUNT,
        region: "us-east-1",
      }),
    );
    expect(runtime[2]).toMatchObject({
      Sid: "ReceiveTaskEventsFromQueue",
      Resource: expect.stringContaining(":ecs-log-operator-events"),
    });

    // Applied again, nothing changes but what the emulator returns differently from AWS: no
    // availabilityZoneRebalancing for a service (the provider wants to set its default again), and a redrive policy
    // re-spaced (the same JSON).
    const exit = await terraform("plan", "-input=false", "-detailed-exitcode", "-out=tfplan").then(
      () => 0,
      (e: { code?: number }) => e.code,
    );
    expect(exit === 0 || exit === 2).toBe(true);
    const plan = JSON.parse(await terraform("show", "-json", "tfplan")) as {
      resource_changes: {
        address: string;
        change: { actions: string[]; before: Record<string, unknown>; after: Record<string, unknown> };
      }[];
    };
    const same = (a: unknown, b: unknown) => JSON.stringify(normalized(a)) === JSON.stringify(normalized(b));
    const changed = plan.resource_changes
      .filter((c) => !c.change.actions.every((a) => a === "no-op" || a === "read"))
      .flatMap((c) =>
        Object.keys({ ...c.change.before, ...c.change.after })
          .filter((k) => !same(c.change.before?.[k], c.change.after?.[k]))
          .map((k) => `${c.address} ${c.change.actions.join("+")} ${k}`),
      );
    expect(
      changed.filter(
        (c) => c !== "module.operator.aws_ecs_service.operator update availability_zone_rebalancing",
      ),
    ).toEqual([]);
  }, 600_000);
});

/** A value with JSON held in strings parsed, so that two spellings of the same JSON compare equal. */
function normalized(value: unknown): unknown {
  if (typeof value === "string" && /^[[{]/.test(value)) {
    try {
      return normalized(JSON.parse(value));
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(normalized);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, normalized(v)]),
    );
  }
  return value;
}
