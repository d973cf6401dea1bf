import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type CreateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { MotoEmulator } from "../moto-emulator.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import { LeaderElectionMetrics } from "../../controllers/leader-election/metrics.ts";
import { LEASE_TABLE_KEY } from "../../controllers/leader-election/dynamodb-lease-lock.ts";
import { GitSourceMetrics } from "../../controllers/git-source/git-source-metrics.ts";
import { ServiceHealthMetrics } from "../../controllers/service-health/metrics.ts";
import { gitSourceSettings } from "../../cmd/git-source.ts";
import { leaderElectionSettings } from "../../cmd/leader-election-options.ts";

// manifests/deploy/: what a user deploys the operator with. Prometheus's own checker validates the scrape config and
// the alert rules and runs their unit tests; the ECS task definition and service go through the emulator's ECS API;
// every metric the alerts and the dashboard query is one the controller registers.

const DEPLOY = join(import.meta.dirname, "../../manifests/deploy");
const PROMETHEUS = join(DEPLOY, "prometheus");
const exec = promisify(execFile);

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await exec("promtool", args, { cwd: PROMETHEUS });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`, {
      cause: error,
    });
  }
}

async function readJson<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(join(DEPLOY, name), "utf8")) as T;
}

/** The HEALTHCHECK command of the project's Dockerfile, as the exec-form JSON array it is written in. */
async function dockerfileHealthcheck(): Promise<string[]> {
  const text = await readFile(join(DEPLOY, "../../Dockerfile"), "utf8");
  const m = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(text);
  if (m?.[1] === undefined) throw new Error("no exec-form HEALTHCHECK in the Dockerfile");
  return JSON.parse(m[1]) as string[];
}

describe("Prometheus config and alert rules", () => {
  it("pass promtool check config and check rules", async () => {
    expect(await promtool("check", "config", "prometheus.yml")).toMatch(/SUCCESS: prometheus\.yml is valid/);
    expect(await promtool("check", "rules", "alerts.yml")).toMatch(/SUCCESS: \d+ rules found/);
    // Its token and CA files are the user's: only the syntax is checked here; a real Prometheus scrapes with it in
    // test/integration/metrics-tls.test.ts.
    expect(await promtool("check", "config", "--syntax-only", "prometheus-tls.yml")).toMatch(
      /SUCCESS: prometheus-tls\.yml is valid prometheus config file syntax/,
    );
  });

  it("fire as their unit tests expect (promtool test rules)", async () => {
    expect(await promtool("test", "rules", "alerts.test.yml")).toContain("SUCCESS");
  });

  it("alert on the operator down, no leader, reconcile errors, slow convergence, AWS throttling and held deletions", async () => {
    const rules = parseYaml(await readFile(join(PROMETHEUS, "alerts.yml"), "utf8")) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const byName = new Map(rules.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]));
    expect(byName.get("EcsLogOperatorDown")).toContain('up{job="ecs-log-operator"}');
    expect(byName.get("EcsLogOperatorReconcileErrors")).toContain(
      "ecs_log_operator_reconcile_total{result=~",
    );
    expect(byName.get("EcsLogOperatorConvergenceSlow")).toContain(
      "ecs_log_operator_convergence_latency_seconds_bucket",
    );
    expect(byName.get("EcsLogOperatorAwsThrottled")).toContain(
      'ecs_log_operator_aws_requests_total{outcome="throttled"}',
    );
    expect(byName.get("EcsLogOperatorNoLeader")).toBe("max(ecs_log_operator_leader) == 0");
    expect(byName.get("EcsLogOperatorSeveralLeaders")).toBe("sum(ecs_log_operator_leader) > 1");
    expect(byName.get("EcsLogOperatorDeletionsHeld")).toContain("ecs_log_operator_deletions_held");
    expect(byName.get("EcsLogOperatorGitSourceStale")).toMatch(
      /ecs_log_operator_git_seconds_since_last_fetch\s+> 3 \* ecs_log_operator_git_interval_seconds/,
    );
  });
});

describe("metric names in the alerts and the dashboard", () => {
  it("are all registered by the controller, its service health and its Git source (with a histogram's _bucket, _sum and _count)", async () => {
    const registry = new Registry();
    new ControllerMetrics(registry);
    new ServiceHealthMetrics(registry);
    new LeaderElectionMetrics(registry);
    new GitSourceMetrics(registry);
    const registered = new Set<string>();
    for (const m of await registry.getMetricsAsJSON()) {
      registered.add(m.name);
      if (m.type.toString() === "histogram")
        for (const s of ["_bucket", "_sum", "_count"]) registered.add(m.name + s);
    }
    const texts = await Promise.all(
      ["prometheus/alerts.yml", "prometheus/alerts.test.yml", "grafana/ecs-log-operator.dashboard.json"].map(
        (f) => readFile(join(DEPLOY, f), "utf8"),
      ),
    );
    const used = new Set(texts.flatMap((t) => t.match(/ecs_log_operator_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !registered.has(name))).toEqual([]);
  });

  it("dashboard: every panel queries Prometheus through the datasource variable, filtered by $job", async () => {
    const dashboard = await readJson<{ panels: { title: string; targets: { expr: string }[] }[] }>(
      "grafana/ecs-log-operator.dashboard.json",
    );
    expect(dashboard.panels.length).toBeGreaterThan(8);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets) expect(t.expr, panel.title).toContain('job="$job"');
    }
  });
});

describe("ECS task definition and service", () => {
  let emulator: MotoEmulator;
  let ecs: ECSClient;
  let ec2: EC2Client;

  beforeAll(async () => {
    emulator = await MotoEmulator.start();
    const config = {
      endpoint: emulator.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    };
    ecs = new ECSClient(config);
    ec2 = new EC2Client(config);
  });

  afterAll(async () => {
    ecs?.destroy();
    ec2?.destroy();
    await emulator?.stop();
  });

  it("the task definition serves metrics on 9464 with the Dockerfile's health check, non-root, logs to awslogs", async () => {
    const td = await readJson<RegisterTaskDefinitionCommandInput>("task-definition.json");
    const container = td.containerDefinitions?.[0];
    // The Git source is the default: the operator's own image, its specs pulled from the repository, flags that
    // `run` accepts as a valid combination.
    const command = container?.command ?? [];
    expect(command[0]).toBe("run");
    expect(container?.image).toMatch(/\/ecs-log-operator:/);
    const flags: Record<string, string> = {};
    for (let i = 1; i < command.length; i++) {
      const name = (command[i] ?? "").replace(/^--/, "");
      const next = command[i + 1];
      // A flag followed by another flag (or nothing) is a boolean one, such as --leader-elect.
      if (next === undefined || next.startsWith("--")) flags[name] = "true";
      else flags[name] = (i++, next);
    }
    expect(gitSourceSettings(flags, [])).toMatchObject({
      url: { transport: "https" },
      credentials: { kind: "token", token: { arn: expect.stringMatching(/^arn:aws:secretsmanager:/) } },
      webhookSecret: { arn: expect.stringMatching(/^arn:aws:secretsmanager:/) },
    });
    const { "leader-elect": elect, ...rest } = flags;
    const election = Object.fromEntries(Object.entries(rest).filter(([k]) => k.startsWith("leader-elect-")));
    expect(
      leaderElectionSettings({ ...election, "leader-elect": elect === "true" }, "default"),
    ).toMatchObject({
      enabled: true,
      table: "ecs-log-operator-leases",
    });
    // Checkouts need a writable directory on a read-only root filesystem.
    expect(td.volumes?.map((v) => v.name)).toContain(container?.mountPoints?.[0]?.sourceVolume);
    expect(container?.mountPoints?.[0]?.containerPath).toBe("/tmp");
    expect(container?.portMappings?.[0]?.containerPort).toBe(9464);
    expect(container?.healthCheck?.command).toEqual(["CMD", ...(await dockerfileHealthcheck())]);
    expect(container?.user).toBe("10001:10001");
    expect(container?.logConfiguration?.logDriver).toBe("awslogs");
    expect(td.taskRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\//);

    const registered = await ecs.send(new RegisterTaskDefinitionCommand(td));
    expect(registered.taskDefinition?.status).toBe("ACTIVE");
    expect(registered.taskDefinition?.containerDefinitions?.[0]?.healthCheck?.command?.[0]).toBe("CMD");
  });

  it("the service runs two operators with leader election, rolled out start-before-stop, registered in Cloud Map", async () => {
    const service = await readJson<CreateServiceCommandInput>("service.json");
    // Only the replica holding the lease writes, so ECS's ordinary rolling deployment is safe: the new task starts
    // as a standby, and the old one hands the lease over when it is stopped.
    expect(service.desiredCount).toBe(2);
    expect(service.deploymentConfiguration?.maximumPercent).toBe(200);
    expect(service.deploymentConfiguration?.minimumHealthyPercent).toBe(100);
    const td = await readJson<RegisterTaskDefinitionCommandInput>("task-definition.json");
    const command = td.containerDefinitions?.[0]?.command ?? [];
    expect(command).toContain("--leader-elect");
    expect(command[command.indexOf("--leader-elect-table") + 1]).toBe("ecs-log-operator-leases");
    expect(service.serviceRegistries?.length).toBe(1);

    // The example's subnet and security group ids stand for the user's own: the emulator checks they exist.
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
    const awsvpc = service.networkConfiguration?.awsvpcConfiguration;
    expect(awsvpc?.subnets?.length).toBe(2);
    expect(awsvpc?.assignPublicIp).toBe("DISABLED");
    if (awsvpc !== undefined) {
      awsvpc.subnets = subnets.map((s) => s.Subnet?.SubnetId ?? "");
      awsvpc.securityGroups = [sg.GroupId ?? ""];
    }

    await ecs.send(new CreateClusterCommand({ clusterName: service.cluster }));
    await ecs.send(new RegisterTaskDefinitionCommand(await readJson("task-definition.json")));
    await ecs.send(new CreateServiceCommand(service));
    const described = await ecs.send(
      new DescribeServicesCommand({ cluster: service.cluster, services: [service.serviceName ?? ""] }),
    );
    expect(described.services?.[0]?.desiredCount).toBe(2);
    expect(described.failures ?? []).toEqual([]);
  });
});

describe("the events stack (CloudFormation)", () => {
  it("sends the rule's ECS and Auto Scaling events to the queue, and only from that rule", async () => {
    type Resource = { Type: string; Properties: Record<string, unknown> };
    const template = parseYaml(await readFile(join(DEPLOY, "events.cfn.yaml"), "utf8")) as {
      Resources: Record<string, Resource>;
      Outputs: Record<string, unknown>;
    };
    const types = Object.fromEntries(Object.entries(template.Resources).map(([k, r]) => [k, r.Type]));
    expect(types).toMatchObject({
      Queue: "AWS::SQS::Queue",
      QueuePolicy: "AWS::SQS::QueuePolicy",
      Rule: "AWS::Events::Rule",
    });

    const rule = template.Resources.Rule?.Properties as {
      EventPattern: { source: string[]; "detail-type": string[] };
      Targets: { Arn: unknown }[];
    };
    expect(rule.EventPattern.source.sort()).toEqual(["aws.autoscaling", "aws.ecs"]);
    expect(rule.EventPattern["detail-type"]).toContain("ECS Task State Change");
    expect(rule.EventPattern["detail-type"]).toContain("EC2 Instance-terminate Lifecycle Action");
    expect(rule.Targets[0]?.Arn).toEqual({ "Fn::GetAtt": ["Queue", "Arn"] });

    const policy = template.Resources.QueuePolicy?.Properties.PolicyDocument as {
      Statement: { Principal: { Service?: string }; Condition?: unknown }[];
    };
    const fromEvents = policy.Statement.find((s) => s.Principal.Service === "events.amazonaws.com");
    expect(fromEvents?.Condition).toEqual({
      ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": ["Rule", "Arn"] } },
    });
    expect(Object.keys(template.Outputs)).toContain("QueueUrl");
  });
});

describe("the lease table stack (CloudFormation)", () => {
  it("creates the on-demand table keyed as the operator's lease lock expects, and keeps it when the stack goes", async () => {
    const template = parseYaml(await readFile(join(DEPLOY, "lease-table.cfn.yaml"), "utf8")) as {
      Resources: {
        LeaseTable: { Type: string; DeletionPolicy: string; Properties: Record<string, unknown> };
      };
      Outputs: Record<string, unknown>;
    };
    const table = template.Resources.LeaseTable;
    expect(table.Type).toBe("AWS::DynamoDB::Table");
    expect(table.DeletionPolicy).toBe("Retain");
    expect(table.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: LEASE_TABLE_KEY, AttributeType: "S" }],
      KeySchema: [{ AttributeName: LEASE_TABLE_KEY, KeyType: "HASH" }],
    });
    expect(Object.keys(template.Outputs)).toContain("TableName");
  });
});
