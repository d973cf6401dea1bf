import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import type { Output } from "../cli-support.ts";
import { createAwsClients } from "../../controllers/aws/clients.ts";
import { parseWatchKey } from "../../controllers/informers.ts";
import { leaseTableStatements } from "../../controllers/leader-election/iam.ts";
import { gitSourceIamStatements, gitSourceSettings } from "../git-source.ts";
import { allKinds, buildReconcilers, kindParts } from "../kinds.ts";
import {
  iamPolicy,
  iamPolicyCommand,
  queueArn,
  sweepingKinds,
  taskRolePolicy,
  type PolicyDocument,
} from "./iam-policy.ts";

const ROOT = join(import.meta.dirname, "../..");
// One example of every kind (manifests/examples/kinds/), kept valid by the kinds' own tests.
const EXAMPLES = join(ROOT, "manifests/examples/kinds");
const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-log-operator-events";
const ctx = { account: "123456789012", region: "eu-west-1", sweptKinds: [] };
const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token-AbCdEf";

function doc(kind: string, spec: unknown, name = "x"): SpecDocument {
  return {
    apiVersion: "ecs-log-operator/v1alpha1",
    kind,
    metadata: { name },
    spec,
    source: { file: "t.yaml", line: 1, col: 1 },
    generation: "g",
    positionOf: () => ({ file: "t.yaml", line: 1, col: 1 }),
  };
}

const actions = (p: PolicyDocument) => new Set(p.Statement.flatMap((s) => s.Action));

/** IAM's wildcard match: `*` any run of characters, `?` one. */
function globMatches(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(value);
}

/**
 * Whether a statement of the policy allows `action` on `resource`, given the request's condition keys: its action
 * and resource patterns match, and every condition it sets holds (ArnLike and StringLike by pattern, the others
 * exactly; a key the request lacks fails). The subset of IAM's evaluation these policies use (no Deny, no NotAction).
 */
function allows(
  p: PolicyDocument,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): boolean {
  return p.Statement.some(
    (s) =>
      s.Action.some((a) => globMatches(a, action)) &&
      [s.Resource].flat().some((r) => globMatches(r, resource)) &&
      Object.entries(s.Condition ?? {}).every(([op, kv]) =>
        Object.entries(kv).every(([key, values]) => {
          const value = context[key];
          if (value === undefined) return false;
          const like = op === "ArnLike" || op === "StringLike";
          return [values].flat().some((v) => (like ? globMatches(v, value) : v === value));
        }),
      ),
  );
}
const statement = (p: PolicyDocument, sid: string) => p.Statement.find((s) => s.Sid === sid);

/**
 * Every AWS SDK command the operator's own code sends (tests and the demo's scene builder left out): a `new XCommand(`
 * of an imported command, or a `paginateX(` of an imported paginator.
 */
/** SDK package (`@aws-sdk/client-NAME`) -> IAM prefix, for every service the operator may call. */
const IAM_PREFIXES: Record<string, string> = {
  ecs: "ecs",
  "route-53": "route53",
  servicediscovery: "servicediscovery",
  "auto-scaling": "autoscaling",
  ec2: "ec2",
  sqs: "sqs",
  s3: "s3",
  "cloudwatch-logs": "logs",
  cloudwatch: "cloudwatch",
  dynamodb: "dynamodb",
  "secrets-manager": "secretsmanager",
  sns: "sns",
  "resource-groups-tagging-api": "tag",
};

async function commandsInSources(): Promise<Map<string, string>> {
  const prefixes = IAM_PREFIXES;
  const used = new Map<string, string>(); // action -> file
  for (const dir of ["controllers", "reconcilers"]) {
    for (const entry of await readdir(join(ROOT, dir), { recursive: true })) {
      if (!entry.endsWith(".ts") || entry.endsWith(".test.ts")) continue;
      const file = join(ROOT, dir, entry);
      const text = await readFile(file, "utf8");
      // Static imports, and the dynamic ones of clients loaded on first use (`const { X } = await import(...)`).
      for (const m of text.matchAll(
        /(?:import\s*\{([^}]*)\}\s*from\s*|const\s*\{([^}]*)\}\s*=\s*await\s+import\()"@aws-sdk\/client-([a-z0-9-]+)"/g,
      )) {
        const imported = m[1] ?? m[2] ?? "";
        const prefix = prefixes[m[3] ?? ""];
        // A service not in the table would go unchecked: its calls are reported as an action of its own.
        if (prefix === undefined) {
          used.set(
            `unknown SDK package @aws-sdk/client-${m[3] ?? ""}: add its IAM prefix to IAM_PREFIXES`,
            relative(ROOT, file),
          );
          continue;
        }
        for (const name of imported.split(",").map((s) => s.trim())) {
          const command = /^([A-Z]\w+)Command$/.exec(name)?.[1] ?? /^paginate([A-Z]\w+)$/.exec(name)?.[1];
          const called = name.startsWith("paginate") ? `${name}\\(` : `new ${name}\\(`;
          if (command === undefined || !new RegExp(called).test(text)) continue;
          // SQS authorizes a batch delete as sqs:DeleteMessage.
          used.set(
            `${prefix}:${command === "DeleteMessageBatch" ? "DeleteMessage" : command}`,
            relative(ROOT, file),
          );
        }
      }
    }
  }
  return used;
}

/** Actions AWS checks on the caller behind another call, never sent by the operator itself. Each has its reason. */
const IMPLIED: Record<string, string> = {
  "route53:CreateHostedZone": "CreatePrivateDnsNamespace creates the namespace's hosted zone",
  "route53:ListHostedZonesByName": "CreatePrivateDnsNamespace",
  "ec2:DescribeVpcs": "CreatePrivateDnsNamespace",
  "ec2:DescribeRegions": "CreatePrivateDnsNamespace",
  "route53:DeleteHostedZone": "DeleteNamespace deletes the hosted zone",
  "route53:ChangeResourceRecordSets": "Register/DeregisterInstance write the instance's records",
  "route53:CreateHealthCheck": "RegisterInstance, UpdateService",
  "route53:DeleteHealthCheck": "DeregisterInstance, UpdateService",
  "route53:GetHealthCheck": "RegisterInstance, DeregisterInstance",
  "route53:UpdateHealthCheck": "RegisterInstance, DeregisterInstance",
  "ecs:TagResource": "RegisterTaskDefinition with tags",
  "iam:PassRole": "RegisterTaskDefinition of a revision with task or execution roles",
  "s3:ListBucket": "GetObject of a missing config object answers 404 only with ListBucket (403 without)",
};

describe("iamPolicy", () => {
  it("grants every AWS call the operator's code makes, for specs of every kind (and nothing unexplained)", async () => {
    // kinds/ has every kind; seed 002 adds a router whose Fluent Bit config the operator uploads to S3.
    const loadedKinds = await loadSpecDirectory(EXAMPLES, allKinds());
    const loadedS3 = await loadSpecDirectory("manifests/examples/seeds/002-cloudwatch-logs", allKinds());
    expect([...loadedKinds.diagnostics, ...loadedS3.diagnostics]).toEqual([]);
    const loaded = { documents: [...loadedKinds.documents, ...loadedS3.documents] };
    const kinds = new Set(loaded.documents.map((d) => d.kind));
    // `run --git-url` with a token in Secrets Manager: the Git source's reads are granted by its flags.
    const git = gitSourceSettings(
      { "git-url": "https://github.com/acme/ecs-specs.git", "git-token-secret-arn": TOKEN_ARN },
      [],
    );
    const policy = iamPolicy(loaded.documents, {
      ...ctx,
      sweptKinds: sweepingKinds(),
      eventsQueueUrl: QUEUE,
      allowPrune: true,
      leaderElection: { table: "ecs-log-operator-leases", createTable: true },
      statements: git === undefined ? [] : gitSourceIamStatements(git),
    });
    const granted = actions(policy);
    const used = await commandsInSources();
    expect(used.size).toBeGreaterThan(10);
    // Only kinds with an example can be checked: a kind still being written has neither example nor adapter yet.
    const missing = [...used].filter(([action]) => !granted.has(action)).map(([a, file]) => `${a} (${file})`);
    expect(missing, `examples cover kinds ${[...kinds].join(", ")}`).toEqual([]);
    const unexplained = [...granted].filter((a) => !used.has(a) && IMPLIED[a] === undefined);
    expect(unexplained).toEqual([]);
  });

  it("grants the reads of every watched ECS service and family on that service and its cluster", async () => {
    // What `run` reads each interval for a watch key (the informer, and controllers/service-health/ for the
    // services' health): ListTasks of its running and stopped tasks, DescribeTasks, and DescribeServices of a service.
    const loaded = await loadSpecDirectory(EXAMPLES, allKinds());
    const policy = iamPolicy(loaded.documents, { ...ctx, sweptKinds: sweepingKinds() });
    const clients = createAwsClients({ region: ctx.region });
    try {
      const reconcilers = await buildReconcilers(kindParts(clients));
      const watched = loaded.documents
        .flatMap((d) => reconcilers.find((r) => r.kind === d.kind)?.watches?.(d) ?? [])
        .flatMap((k) => {
          const t = parseWatchKey(k);
          return t === undefined || t.type === "asg" ? [] : [t];
        });
      expect(watched.filter((t) => t.type === "ecs-service").length).toBeGreaterThan(1);
      const arn = (what: string) => `arn:aws:ecs:${ctx.region}:${ctx.account}:${what}`;
      const denied: string[] = [];
      for (const t of watched) {
        const cluster = { "ecs:cluster": arn(`cluster/${t.cluster}`) };
        type Check = [action: string, resource: string, context: Record<string, string>];
        const checks: Check[] = [
          ["ecs:ListTasks", arn(`container-instance/${t.cluster}/*`), cluster],
          ["ecs:DescribeTasks", arn(`task/${t.cluster}/0123456789abcdef`), {}],
          ...(t.type === "ecs-service"
            ? [["ecs:DescribeServices", arn(`service/${t.cluster}/${t.service}`), {}] satisfies Check]
            : []),
        ];
        for (const [action, resource, context] of checks) {
          if (!allows(policy, action, resource, context)) denied.push(`${action} on ${resource}`);
        }
      }
      expect(denied).toEqual([]);
      // The check can fail: a service no spec watches is not granted.
      expect(allows(policy, "ecs:DescribeServices", arn("service/logs/not-watched"))).toBe(false);
      expect(
        allows(policy, "ecs:ListTasks", arn("container-instance/other/*"), {
          "ecs:cluster": arn("cluster/other"),
        }),
      ).toBe(false);
    } finally {
      clients.destroy();
    }
  });

  it("grants nothing for no specs, and only what a kind needs for one kind", () => {
    expect(iamPolicy([], ctx).Statement).toEqual([]);
    const ns = iamPolicy([doc("CloudMapNamespace", { name: "fluentd.local", vpc: "vpc-0abc1234" })], ctx);
    expect([...actions(ns)].some((a) => a.startsWith("ecs:") || a.startsWith("autoscaling:"))).toBe(false);
    expect(actions(ns).has("servicediscovery:CreatePrivateDnsNamespace")).toBe(true);
  });

  it("grants the orphan sweeps' reads, and no write, for kinds without specs", () => {
    const kinds = sweepingKinds();
    expect(kinds).toEqual(
      expect.arrayContaining(["CloudMapNamespace", "CloudMapService", "WeightedRecordSet"]),
    );
    const granted = [...actions(iamPolicy([], { ...ctx, sweptKinds: kinds }))];
    expect(granted).toEqual(
      expect.arrayContaining(["route53:ListResourceRecordSets", "servicediscovery:ListServices"]),
    );
    const writes = granted.filter((a) => !/^[a-z0-9]+:(List|Get|Describe)/.test(a));
    expect(writes).toEqual([]);
  });

  it("grants deletes only where a spec prunes (or --allow-prune)", () => {
    const keep = [doc("CloudMapNamespace", { name: "a.local", vpc: "vpc-0abc1234" })];
    const prune = [doc("CloudMapNamespace", { name: "a.local", vpc: "vpc-0abc1234", prune: true })];
    const deletes = (p: PolicyDocument) => [...actions(p)].filter((a) => a.includes(":Delete")).sort();
    expect(deletes(iamPolicy(keep, ctx))).toEqual([]);
    // Deleting a namespace deletes its services first, and those deregister their instances (and health checks).
    const all = [
      "route53:DeleteHealthCheck",
      "route53:DeleteHostedZone",
      "servicediscovery:DeleteNamespace",
      "servicediscovery:DeleteService",
    ];
    expect(deletes(iamPolicy(prune, ctx))).toEqual(all);
    expect(deletes(iamPolicy(keep, { ...ctx, allowPrune: true }))).toEqual(all);
  });

  it("narrows ECS to the specs' clusters, services and families", () => {
    const policy = iamPolicy(
      [
        doc("CloudMapService", {
          namespace: "fluentd.local",
          name: "fluentd",
          dns: { records: [{ type: "A", ttl: 10 }] },
          instances: { ecsTasks: { cluster: "logs", service: "fluentd" } },
        }),
        doc("LogRouter", {
          family: "gaze-heatmap",
          output: { forward: { host: "fluentd.local" } },
          rollout: { services: [{ cluster: "app", service: "gaze-heatmap" }] },
        }),
      ],
      ctx,
    );
    // The rolled-out service is watched too: its tasks are listed and its health read.
    expect(statement(policy, "ListTasksOfWatchedClusters")?.Condition).toEqual({
      ArnLike: {
        "ecs:cluster": [
          "arn:aws:ecs:eu-west-1:123456789012:cluster/app",
          "arn:aws:ecs:eu-west-1:123456789012:cluster/logs",
        ],
      },
    });
    expect(statement(policy, "DescribeWatchedServices")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:service/app/gaze-heatmap",
      "arn:aws:ecs:eu-west-1:123456789012:service/logs/fluentd",
    ]);
    expect(statement(policy, "DescribeTasksOfWatchedClusters")?.Resource).toContain(
      "arn:aws:ecs:eu-west-1:123456789012:task/logs/*",
    );
    expect(statement(policy, "RolloutServices")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:service/app/gaze-heatmap",
    ]);
    expect(statement(policy, "TaskDefinitionsTagOnRegister")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:task-definition/gaze-heatmap:*",
    ]);
    expect(statement(policy, "TaskDefinitionsPassRolesToEcsTasks")?.Condition).toEqual({
      StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
    });
  });

  it("narrows Route 53 changes to the zone given by id and to the specs' record names and types", () => {
    const wrs = (hostedZone: string, name: string) =>
      doc("WeightedRecordSet", {
        hostedZone,
        name,
        type: "A",
        ttl: 10,
        weight: 10,
        targets: { autoScalingGroup: "log-asg" },
        drain: { lifecycleHook: "drain-dns", seconds: 30 },
      });
    const byId = iamPolicy([wrs("Z0123456789ABC", "Fluentd.Logs.Internal.")], ctx);
    const change = statement(byId, "Route53ChangeOwnRecords");
    expect(change?.Resource).toEqual(["arn:aws:route53:::hostedzone/Z0123456789ABC"]);
    expect(change?.Condition).toEqual({
      "ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
          "_elo-a.fluentd.logs.internal",
          "fluentd.logs.internal",
        ],
        "route53:ChangeResourceRecordSetsRecordTypes": ["A", "TXT"],
      },
    });
    expect(statement(byId, "AutoScalingDrain")?.Resource).toEqual([
      "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/log-asg",
    ]);
    // The drain follows its change with GetChange until INSYNC before its hold starts.
    expect(statement(byId, "Route53DrainInSync")?.Action).toEqual(["route53:GetChange"]);
    // A zone given by name has an id only AWS knows.
    const byName = iamPolicy([wrs("logs.internal", "fluentd.logs.internal")], ctx);
    expect(statement(byName, "Route53ChangeOwnRecords")?.Resource).toEqual([
      "arn:aws:route53:::hostedzone/*",
    ]);
  });

  it("with leader election: the lease table's statements, and the fence's record names in the Route 53 change condition", () => {
    const wrs = doc("WeightedRecordSet", {
      hostedZone: "Z0123456789ABC",
      name: "fluentd.logs.internal",
      type: "A",
      ttl: 10,
      weight: 10,
      targets: { autoScalingGroup: "log-asg" },
    });
    const lease = {
      table: "ecs-log-operator-leases",
      resourceName: "ecs-log-operator-prod",
      createTable: false,
    };
    const policy = iamPolicy([wrs], { ...ctx, leaderElection: lease });
    // Every fenced batch deletes and creates two TXT records under the lease's fence beside its own records; IAM
    // evaluates ForAllValues over every name of the request, so without them every batch would be AccessDenied.
    expect(statement(policy, "Route53ChangeOwnRecords")?.Condition).toEqual({
      "ForAllValues:StringLike": {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
          "_elo-a.fluentd.logs.internal",
          "fluentd.logs.internal",
          "*.ecs-log-operator-prod._ecs-log-operator-fence.*",
        ],
      },
      "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["A", "TXT"] },
    });
    const lastTwo = policy.Statement.slice(-2);
    expect(lastTwo).toEqual(
      leaseTableStatements({ ...lease, account: ctx.account, region: ctx.region }).map((st) => ({
        ...st,
        Action: [...st.Action].sort(),
      })),
    );
    // Without the lease's name: any lease's item and fence.
    const anyLease = iamPolicy([wrs], { ...ctx, leaderElection: { table: lease.table, createTable: true } });
    expect(
      statement(anyLease, "Route53ChangeOwnRecords")?.Condition?.["ForAllValues:StringLike"]?.[
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      ],
    ).toContain("*._ecs-log-operator-fence.*");
    expect(statement(anyLease, "LeaderElectionCreateLeaseTable")?.Action).toEqual(["dynamodb:CreateTable"]);
    // Without leader election nothing of it.
    expect([...actions(iamPolicy([wrs], ctx))].some((a) => a.startsWith("dynamodb:"))).toBe(false);
  });

  it("is deterministic: same specs, same text, whatever their order", () => {
    const a = doc("CloudMapNamespace", { name: "a.local", vpc: "vpc-0abc1234" }, "a");
    const b = doc("LogRouter", { family: "f", output: { forward: { host: "h" } } }, "b");
    expect(JSON.stringify(iamPolicy([a, b], ctx))).toBe(JSON.stringify(iamPolicy([b, a], ctx)));
  });

  it("turns a queue URL into its ARN, and refuses what is not one", () => {
    expect(queueArn(QUEUE, "*", "*")).toBe("arn:aws:sqs:eu-west-1:123456789012:ecs-log-operator-events");
    expect(queueArn("http://127.0.0.1:5000/123456789012/q.fifo", "*", "us-east-1")).toBe(
      "arn:aws:sqs:us-east-1:123456789012:q.fifo",
    );
    for (const bad of ["not a url", "https://sqs.eu-west-1.amazonaws.com/queue"]) {
      expect(() => queueArn(bad, "*", "*")).toThrow(/--events-queue-url/);
    }
  });
});

describe("iam-policy command", () => {
  function capture(): Output & { out_: string; err_: string } {
    const io = {
      out_: "",
      err_: "",
      color: false,
      out: (t: string) => void (io.out_ += t),
      err: (t: string) => void (io.err_ += t),
    };
    return io;
  }

  it("prints the policy for a directory as JSON, exit 0", async () => {
    const io = capture();
    expect(await iamPolicyCommand([EXAMPLES, "--account", "123456789012", "--region", "eu-west-1"], io)).toBe(
      0,
    );
    const policy = JSON.parse(io.out_) as PolicyDocument;
    expect(policy.Version).toBe("2012-10-17");
    expect(policy.Statement.length).toBeGreaterThan(3);
  });

  it("grants reading the Git source's secrets given by run's flags, beside DIR (a checkout of the spec repository)", async () => {
    const io = capture();
    const hook = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:git-webhook";
    const args = [EXAMPLES, "--git-token-secret-arn", TOKEN_ARN, "--git-webhook-secret-arn", hook];
    expect(await iamPolicyCommand(args, io)).toBe(0);
    expect(statement(JSON.parse(io.out_) as PolicyDocument, "ReadGitSourceSecrets")).toEqual({
      Sid: "ReadGitSourceSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: [TOKEN_ARN, `${hook}-??????`],
    });
  });

  it("refuses a bad account id or region as a usage error", async () => {
    await expect(iamPolicyCommand([EXAMPLES, "--account", "12"], capture())).rejects.toThrow(/12-digit/);
    await expect(iamPolicyCommand([EXAMPLES, "--region", "Europe"], capture())).rejects.toThrow(/region/);
  });

  it("--leader-elect-table grants the lease table; its other flags need it", async () => {
    const io = capture();
    const args = [EXAMPLES, "--account", "123456789012", "--region", "eu-west-1"];
    expect(
      await iamPolicyCommand(
        [...args, "--leader-elect-table", "leases", "--leader-elect-resource-name", "ecs-log-operator-prod"],
        io,
      ),
    ).toBe(0);
    const policy = JSON.parse(io.out_) as PolicyDocument;
    expect(statement(policy, "LeaderElectionLease")?.Condition).toEqual({
      "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["ecs-log-operator-prod"] },
    });
    expect(statement(policy, "LeaderElectionCreateLeaseTable")).toBeUndefined();
    await expect(iamPolicyCommand([...args, "--leader-elect-create-table"], capture())).rejects.toThrow(
      "--leader-elect-create-table needs --leader-elect-table NAME",
    );
  });

  it("has --help with examples", async () => {
    const io = capture();
    expect(await iamPolicyCommand(["--help"], io)).toBe(0);
    expect(io.out_).toContain("Usage: ecs-log-operator iam-policy DIR");
    expect(io.out_).toContain("Examples:");
  });

  // --role task: what a routed family's task role needs for its LogRouter (the init image's S3 reads).
  it("prints what the family's task role needs, apart from the operator's policy", async () => {
    const io = capture();
    expect(await iamPolicyCommand([EXAMPLES, "--role", "task", "--family", "gaze-heatmap"], io)).toBe(0);
    expect(JSON.parse(io.out_)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "FluentBitInitConfigObjects",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::gaze-heatmap-log-config/firelens/extra.conf"],
        },
        {
          Sid: "FluentBitInitConfigBuckets",
          Effect: "Allow",
          Action: ["s3:GetBucketLocation"],
          Resource: ["arn:aws:s3:::gaze-heatmap-log-config"],
        },
      ],
    });
    expect(io.err_).toBe("");
  });

  it("says so when no router of the family reads init files", async () => {
    const io = capture();
    expect(await iamPolicyCommand([EXAMPLES, "--role", "task", "--family", "other"], io)).toBe(0);
    expect(JSON.parse(io.out_)).toEqual({ Version: "2012-10-17", Statement: [] });
    expect(io.err_).toContain(
      "no LogRouter of family other reads init files from S3 (those that do: gaze-heatmap)",
    );
  });

  it("composes the task role policy from the kinds that grant task roles anything", () => {
    const router = doc(
      "LogRouter",
      {
        family: "a",
        router: { configFile: { type: "init-s3", value: "arn:aws:s3:::cfg/a/extra.conf" } },
        output: { forward: { host: "f" } },
      },
      "a",
    );
    const volume = doc("SidecarVolume", { family: "a", source: { container: "x" }, consumers: [] }, "a");
    expect(taskRolePolicy([router, volume], { family: "a" }).Statement.flatMap((s) => s.Resource)).toEqual([
      "arn:aws:s3:::cfg/a/extra.conf",
      "arn:aws:s3:::cfg",
    ]);
    expect(taskRolePolicy([volume]).Statement).toEqual([]);
  });

  it("lets the operator upload an init-s3 config, and refuses an unknown role", async () => {
    const loaded = await loadSpecDirectory(EXAMPLES, allKinds());
    const policy = iamPolicy(loaded.documents, ctx);
    expect(statement(policy, "FluentBitConfigObjects")?.Resource).toEqual([
      "arn:aws:s3:::gaze-heatmap-log-config/firelens/extra.conf",
    ]);
    await expect(iamPolicyCommand([EXAMPLES, "--role", "admin"], capture())).rejects.toThrow(
      /--role "admin"/,
    );
    await expect(iamPolicyCommand([EXAMPLES, "--family", "x"], capture())).rejects.toThrow(/--role task/);
  });
});
