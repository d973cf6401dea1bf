import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
} from "@aws-sdk/client-route-53";
import {
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
} from "@aws-sdk/client-servicediscovery";
import { CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { logAlarmClients } from "../../reconcilers/log-alarm/log-alarm-clients.ts";
import { MotoEmulator } from "../../test/moto-emulator.ts";
import { processOutput } from "../cli-support.ts";
import { renderTable, type StepRow } from "./live-table.ts";
import { startDemoOperator } from "./operator.ts";
import { AwsScene } from "./scene.ts";

/**
 * `npm start`: the operator's main job on an embedded default. Starts a local AWS emulator, builds the scene the seeds
 * describe (a log cluster Auto Scaling group, a fluentd ECS service with running tasks, an application task definition
 * without log routing), applies `manifests/examples/kinds/`, runs the controller, then scales the service and the group
 * out and in while a live table shows AWS converging. Ctrl-C stops everything it started and removes what it wrote.
 */

const EXAMPLES = "manifests/examples/kinds";
const STEP_TIMEOUT_MS = 30_000;

const DEMO_OPTIONS = {
  "exit-after-scale-in": { type: "boolean" },
  "metrics-port": { type: "string", default: "9464" },
  interval: { type: "string", default: "1s" },
  "summary-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

let flags: ReturnType<typeof parseArgs<{ options: typeof DEMO_OPTIONS }>>["values"];
try {
  flags = parseArgs({ options: DEMO_OPTIONS }).values;
} catch (error) {
  process.stderr.write(
    `npm start: ${error instanceof Error ? error.message : String(error)}. See \`npm start -- --help\`.\n`,
  );
  process.exit(1);
}

if (flags.help) {
  process.stdout.write(
    [
      "Usage: npm start -- [--exit-after-scale-in] [--metrics-port N] [--interval 1s] [--summary-file FILE]",
      "",
      "Runs the operator against a local AWS emulator (moto_server) and a sample log cluster, scales it out and in,",
      "and shows each change converging. Ctrl-C stops everything and removes what it wrote.",
      "",
      "  --exit-after-scale-in  stop after the last scenario step (exit 0 if every step converged)",
      "  --metrics-port N       where /metrics and /status are served (default 9464; 0 picks a free port)",
      "  --interval D           the controller's resync interval (default 1s)",
      "  --summary-file FILE    write the steps and the final AWS state as JSON (for tests)",
      "",
    ].join("\n"),
  );
  process.exit(0);
}

const io = processOutput;
const say = (text: string) => io.out(text + "\n");
const cleanup: (() => Promise<void>)[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch {
        // best effort: keep removing the rest
      }
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => {
  say("\nStopping: the controller, the emulator, and the files written under the temp directory.");
  void shutdown(0);
});
process.on("SIGTERM", () => void shutdown(0));

say("ecs-log-operator demo: starting a local AWS emulator (moto_server)...");
let emulator: MotoEmulator;
try {
  emulator = await MotoEmulator.start();
} catch (error) {
  say(`Cannot start the emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
cleanup.push(() => emulator.stop());
Object.assign(process.env, emulator.env());
const clients = createAwsClients({ endpoint: emulator.endpoint, region: "us-east-1" });
cleanup.push(async () => clients.destroy());

say(`Emulator on ${emulator.endpoint}. Building the scene from the seeds...`);
const scene = await new AwsScene(clients).network();
await scene.cluster("logs", 2);
await scene.taskDefinition("fluentd", "awsvpc", [
  { name: "fluentd", image: "fluent/fluentd:v1.16", memory: 256 },
]);
let fluentdTasks = await scene.runTasks("logs", "fluentd", 3, "fluentd");
await scene.autoScalingGroup("log-asg", 3, { lifecycleHook: "drain-dns" });
await clients.route53.send(
  new CreateHostedZoneCommand({
    Name: "logs.internal",
    CallerReference: `demo-${Date.now()}`,
    HostedZoneConfig: { PrivateZone: true, Comment: "demo" },
    VPC: { VPCId: scene.vpcId, VPCRegion: "us-east-1" },
  }),
);
await scene.cluster("app", 1);
// Seed 003: the application as its deploy pipeline registers it, without any log routing.
const appTaskDefinition = await scene.registerTaskDefinitionFrom({
  family: "gaze-heatmap",
  taskRoleArn: "arn:aws:iam::123456789012:role/ECSTaskGazeHeatmap",
  executionRoleArn: "arn:aws:iam::123456789012:role/ECSTaskExecutionRole",
  networkMode: "awsvpc",
  containerDefinitions: [{ name: "gaze-heatmap", image: "gaze-heatmap:1.0.0", essential: true }],
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
});
await scene.createEcsService("app", "gaze-heatmap", appTaskDefinition);
// The LogRouter example keeps its extra Fluent Bit config in this bucket (router.configFile, type init-s3).
await clients.s3.send(new CreateBucketCommand({ Bucket: "gaze-heatmap-log-config" }));
// Seed 001: a legacy batch that reads the log files its fluentd sidecar writes.
await scene.registerTaskDefinitionFrom({
  family: "log-batch",
  networkMode: "awsvpc",
  containerDefinitions: [
    { name: "fluentd", image: "fluentd:v1.16", cpu: 400, memoryReservation: 400, essential: true },
    { name: "batch", image: "batch:2024.1", cpu: 400, memoryReservation: 400, essential: true },
  ],
});

// The log group fluentd's awslogs driver writes to, which the LogAlarm example watches.
const logs = await logAlarmClients(clients).logs();
await logs.send(new CreateLogGroupCommand({ logGroupName: "/aws/ecs/fluentd" }));

const specDir = await mkdtemp(join(tmpdir(), "ecs-log-operator-demo-"));
cleanup.push(() => rm(specDir, { recursive: true, force: true }));
await copySpecs(EXAMPLES, specDir, { "vpc-0abc1234": scene.vpcId });

const operatorStarted = performance.now();
const operator = await startDemoOperator({
  specDir,
  endpoint: emulator.endpoint,
  metricsPort: Number(flags["metrics-port"]),
  interval: flags.interval ?? "1s",
});
cleanup.push(() => operator.stop());
say(`Operator running on the specs of ${EXAMPLES}/ (copied to ${specDir}).`);
say(`  metrics: ${operator.metricsUrl}/metrics   status: ${operator.metricsUrl}/status`);
say(`  decisions (JSON lines): ${operator.logFile}`);
say("");

const rows: StepRow[] = [];
const steps: { step: string; change: string; act: () => Promise<void>; expect: Expectation }[] = [
  {
    step: "1",
    change: "apply the examples",
    act: async () => undefined,
    expect: expectAll([cloudMapInstances(3), weightedRecords(3), routerPatched()]),
  },
  {
    step: "2",
    change: "fluentd service 3 -> 5 tasks",
    act: async () => {
      fluentdTasks = [...fluentdTasks, ...(await scene.runTasks("logs", "fluentd", 2, "fluentd"))];
    },
    expect: cloudMapInstances(5),
  },
  {
    step: "3",
    change: "log-asg 3 -> 6 instances",
    act: () => scene.scaleGroup("log-asg", 6),
    expect: weightedRecords(6),
  },
  {
    step: "4",
    change: "fluentd service 5 -> 2 tasks",
    act: async () => {
      await scene.stopTasks("logs", fluentdTasks.slice(2));
      fluentdTasks = fluentdTasks.slice(0, 2);
    },
    expect: cloudMapInstances(2),
  },
  {
    step: "5",
    change: "log-asg 6 -> 2 instances",
    act: () => scene.scaleGroup("log-asg", 2),
    expect: weightedRecords(2),
  },
];

let allConverged = true;
for (const s of steps) {
  const row: StepRow = {
    step: s.step,
    change: s.change,
    expected: s.expect.label,
    observed: "",
    state: "converging",
  };
  rows.push(row);
  await s.act();
  // The first step counts from the operator's start: its first sync is what applies the examples.
  const started = s.step === "1" ? operatorStarted : performance.now();
  for (;;) {
    const observed = await s.expect.observe(clients).catch((e: unknown): Observation => ({
      ok: false,
      text: `error: ${e instanceof Error ? e.message : String(e)}`,
    }));
    row.observed = observed.text;
    if (observed.ok) {
      row.state = "converged";
      row.seconds = (performance.now() - started) / 1000;
      break;
    }
    if (performance.now() - started > STEP_TIMEOUT_MS) {
      row.state = "timed out";
      allConverged = false;
      break;
    }
    draw();
    await new Promise((r) => setTimeout(r, 250));
  }
  draw();
}
draw(true);
say("");
say(allConverged ? "Every step converged." : "Some steps did not converge: see the table.");
if (flags["summary-file"] !== undefined) {
  const final = await expectAll([cloudMapInstances(2), weightedRecords(2), routerPatched()]).observe(clients);
  await writeFile(
    flags["summary-file"],
    JSON.stringify({ allConverged, steps: rows, finalAwsState: final.text, specDir }, null, 2) + "\n",
  );
}

if (flags["exit-after-scale-in"]) {
  await shutdown(allConverged ? 0 : 1);
}
say("The operator keeps running: change something by hand and watch it heal. To look with the CLI:");
say(
  `  AWS_ENDPOINT_URL=${emulator.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \\\n` +
    `    npx ecs-log-operator plan ${specDir} --owner-id demo`,
);
say(`Metrics at ${operator.metricsUrl}/metrics. Ctrl-C to stop.`);
await new Promise(() => undefined);

// --- helpers -------------------------------------------------------------------------------------------------------

let drawnLines = 0;
function draw(final = false): void {
  const table = renderTable(rows, io.color);
  if (process.stdout.isTTY) {
    if (drawnLines > 0) io.out(`\u001b[${drawnLines}A\u001b[0J`);
    io.out(table + "\n");
    drawnLines = table.split("\n").length;
  } else if (final) {
    io.out(table + "\n");
  }
}

interface Observation {
  readonly ok: boolean;
  readonly text: string;
}
interface Expectation {
  readonly label: string;
  observe(clients: AwsClients): Promise<Observation>;
}

function expectAll(parts: Expectation[]): Expectation {
  return {
    label: parts.map((p) => p.label).join(", "),
    async observe(c) {
      const seen = await Promise.all(parts.map((p) => p.observe(c)));
      return { ok: seen.every((s) => s.ok), text: seen.map((s) => s.text).join(", ") };
    },
  };
}

function cloudMapInstances(n: number): Expectation {
  return {
    label: `${n} fluentd.local instances`,
    async observe(c) {
      const ns = (await c.serviceDiscovery.send(new ListNamespacesCommand({}))).Namespaces?.find(
        (x) => x.Name === "fluentd.local",
      );
      if (ns?.Id === undefined) return { ok: false, text: "no namespace yet" };
      const svc = (
        await c.serviceDiscovery.send(
          new ListServicesCommand({ Filters: [{ Name: "NAMESPACE_ID", Values: [ns.Id], Condition: "EQ" }] }),
        )
      ).Services?.find((s) => s.Name === "fluentd");
      if (svc?.Id === undefined) return { ok: false, text: "no service yet" };
      const count =
        (await c.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: svc.Id }))).Instances?.length ??
        0;
      return { ok: count === n, text: `${count} instances` };
    },
  };
}

function weightedRecords(n: number): Expectation {
  return {
    label: `${n} weighted records`,
    async observe(c) {
      const zones = await c.route53.send(new ListHostedZonesByNameCommand({ DNSName: "logs.internal" }));
      const zone = zones.HostedZones?.find((z) => z.Name === "logs.internal.");
      if (zone?.Id === undefined) return { ok: false, text: "no zone" };
      const sets = await c.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zone.Id,
          StartRecordName: "fluentd.logs.internal",
        }),
      );
      const count = (sets.ResourceRecordSets ?? []).filter(
        (r) =>
          r.Name === "fluentd.logs.internal." &&
          r.Type === "A" &&
          r.Weight !== undefined &&
          r.AliasTarget === undefined,
      ).length;
      return { ok: count === n, text: `${count} records` };
    },
  };
}

function routerPatched(): Expectation {
  return {
    label: "gaze-heatmap has a log router",
    async observe(c) {
      const td = await c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "gaze-heatmap" }));
      const has = (td.taskDefinition?.containerDefinitions ?? []).some(
        (x) => x.firelensConfiguration !== undefined,
      );
      return { ok: has, text: has ? `revision ${td.taskDefinition?.revision} routed` : "no router yet" };
    },
  };
}

async function copySpecs(from: string, to: string, replace: Record<string, string>): Promise<void> {
  await cp(from, to, { recursive: true });
  for (const entry of await readdir(to, { recursive: true })) {
    const file = join(to, entry);
    if (!/\.ya?ml$/.test(file)) continue;
    let text = await readFile(file, "utf8");
    for (const [a, b] of Object.entries(replace)) text = text.replaceAll(a, b);
    await writeFile(file, text);
  }
}
