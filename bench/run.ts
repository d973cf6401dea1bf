import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { Registry } from "prom-client";
import {
  AwsCallCounter,
  createAwsClients,
  type AwsCallObserver,
  isReadOperation,
  observeAll,
  type AwsClients,
} from "../controllers/aws/clients.ts";
import { refreshableCredentials } from "../controllers/aws/credentials.ts";
import { TickReadCache } from "../controllers/aws/read-cache.ts";
import type { Controller } from "../controllers/controller.ts";
import type { Logger } from "../controllers/logger.ts";
import { ControllerMetrics } from "../controllers/metrics.ts";
import { composeController } from "../cmd/compose-controller.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import { AwsRoute53Api } from "../reconcilers/weighted-record-set/aws-route53-api.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { FakeSdk } from "./fake-sdk.ts";
import { cloudMapSpecs, weightedSpec } from "./specs.ts";

export interface RunFigures {
  /** moto (the emulator, real HTTP), or fake (bench/fake-sdk.ts: the same SDK clients answered in process). */
  readonly backend: "moto" | "fake";
  readonly cloudMapServices: number;
  readonly weightedRecordSets: number;
  /** Running tasks over all the watched ECS services. */
  readonly tasks?: number;
  /** Auto Scaling groups the WeightedRecordSets follow, and instances in each. */
  readonly groups?: number;
  readonly instancesPerGroup?: number;
  /** Record sets in the WeightedRecordSets' zone once converged, its SOA and NS included: what its listing reads. */
  readonly zoneRecords?: number;
  readonly intervalMs: number;
  /** From `start()` to every key reconciled once (what `/readyz` waits for). */
  readonly firstSyncSeconds: number;
  /**
   * From `start()` to every spec's Ready condition True (converged): stricter than `firstSyncSeconds`, for which a
   * spec that waited for its namespace once counts as reconciled. The first-sync target is judged on this.
   */
  readonly firstConvergedSeconds?: number;
  /** The calls of the first sync, by `service:Operation`. */
  readonly firstSyncCalls: Record<string, number>;
  /**
   * Specs whose Ready condition was not True when every key had been reconciled once, by `Kind: reason`, with the
   * first message: a first sync timed through failures (a call the fake does not answer, say) is not a first sync.
   */
  readonly firstSyncNotReady?: Record<string, { count: number; first: string }>;
  /** Intervals (resyncs) counted once converged. */
  readonly intervals: number;
  /** AWS calls per interval once converged, by `service:Operation`. */
  readonly callsPerInterval: Record<string, number>;
  readonly readsPerInterval: number;
  readonly writesPerInterval: number;
  /** The floor by the formula, and the same with one ownership-tag read per Cloud Map service. */
  readonly floor: number;
  readonly floorWithServiceTags: number;
  /**
   * `floorWithServiceTags` and the watched services' health read (issue 19, after the issue's floor was written):
   * one DescribeServices per ten services of a cluster. What the 10% target is held against.
   */
  readonly floorWithHealth: number;
  /** The floor by operation (pages counted): what `callsPerInterval` is held against. */
  readonly floorByOperation?: Record<string, number>;
  /** Route 53 requests a second over the converged intervals. */
  readonly route53PerSecond: number;
  /** Route 53 requests per converged interval. */
  readonly route53PerInterval?: number;
  /** Seconds spent waiting on each client-side rate limiter over the converged intervals, when the metric exists. */
  readonly limiterWaitSeconds?: Record<string, number>;
  /** Seconds from one resync to the next over the converged intervals (the interval plus the informer's listing). */
  readonly secondsPerInterval?: number;
  /**
   * Memory (fake only, in a child process of its own): the highest RSS sampled every 100 ms over the converged
   * intervals; the process's peak RSS over its whole life, the cold first sync included; and RSS with the fake's
   * state built, before the controller starts.
   */
  readonly convergedPeakRssMb?: number;
  readonly processPeakRssMb?: number;
  readonly baselineRssMb?: number;
  /** CPU seconds of the whole child over the converged intervals, and the part spent answering in the fake. */
  readonly cpuSecondsPerInterval?: number;
  readonly fakeCpuSecondsPerInterval?: number;
}

const execFileAsync = promisify(execFile);
const REGION = "us-east-1";
const ZONE = "logs.internal";
const GROUP = "log-asg";

/** A silent logger that counts the controller's resyncs: one per interval. */
export class ResyncCounter implements Logger {
  resyncs = 0;
  debug(msg: string): void {
    if (msg === "resync") this.resyncs++;
  }
  info(): void {}
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (process.env.BENCH_RUN_LOG !== undefined)
      process.stderr.write(`warn: ${msg} ${String(fields?.error ?? "")}\n`);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    if (process.env.BENCH_RUN_LOG !== undefined)
      process.stderr.write(`error: ${msg} ${String(fields?.error ?? "")}\n`);
  }
  child(): Logger {
    return this;
  }
}

/**
 * `run` as a user starts it: the controller in process (built as `ecs-log-operator run` builds it) over
 * `services` CloudMapServices, each following its own 2-task ECS service (one cluster each: the emulator ignores
 * ListTasks' serviceName filter), and `recordSets` WeightedRecordSets in one zone over one Auto Scaling group of 3.
 * Measures the first sync, then the calls of `intervals` converged intervals.
 */
export async function benchRun(
  emulator: MotoEmulator,
  options: { services: number; recordSets: number; intervalMs: number; intervals: number },
): Promise<RunFigures> {
  await emulator.reset();
  const clients = createAwsClients({ endpoint: emulator.endpoint, region: REGION });
  const dir = await mkdtemp(join(tmpdir(), "bench-run-"));
  try {
    const scene = await new AwsScene(clients).network();
    await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
    for (let s = 0; s < options.services; s++) {
      await scene.cluster(`logs-${s}`, 1);
      await scene.runTasks(`logs-${s}`, "fluentd", 2, `fluentd-${s}`);
    }
    const zone = await clients.route53.send(
      new CreateHostedZoneCommand({
        Name: ZONE,
        CallerReference: `bench-run-${Date.now()}`,
        HostedZoneConfig: { PrivateZone: true, Comment: "bench" },
        VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
      }),
    );
    await scene.autoScalingGroup(GROUP, 3);
    await writeSpecs(
      dir,
      scene.vpcId,
      options.services,
      (s) => `logs-${s}`,
      options.recordSets,
      () => GROUP,
    );
    await warmEmulator(emulator);
    const figures = await measureRun(
      (observer, readCache) =>
        createAwsClients({ endpoint: emulator.endpoint, region: REGION, observer, readCache }),
      dir,
      options,
    );
    const zoneRecords = (await new AwsRoute53Api(clients).listRecordSets(zone.HostedZone?.Id ?? "")).length;
    return {
      backend: "moto",
      cloudMapServices: options.services,
      weightedRecordSets: options.recordSets,
      tasks: options.services * 2,
      groups: 1,
      instancesPerGroup: 3,
      zoneRecords,
      intervalMs: options.intervalMs,
      ...figures,
      ...floors({
        tasksPerService: Array<number>(options.services).fill(2),
        zoneRecords,
        groups: [3],
        servicesPerCluster: Array<number>(options.services).fill(1),
      }),
    };
  } finally {
    clients.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * moto imports a service's Python modules on its first request: the first tag:GetResources of a fresh emulator took
 * 0.8 to 2.9 s here and the next ones 8 ms (DescribeAlarms 60 ms, then 9). AWS has no such cost, so the APIs the
 * operator's sweeps call are asked once before the first sync is timed.
 */
async function warmEmulator(emulator: MotoEmulator): Promise<void> {
  const { ResourceGroupsTaggingAPIClient, GetResourcesCommand } =
    await import("@aws-sdk/client-resource-groups-tagging-api");
  const { CloudWatchClient, DescribeAlarmsCommand } = await import("@aws-sdk/client-cloudwatch");
  const tag = new ResourceGroupsTaggingAPIClient({ endpoint: emulator.endpoint, region: REGION });
  const cloudWatch = new CloudWatchClient({ endpoint: emulator.endpoint, region: REGION });
  try {
    await tag.send(new GetResourcesCommand({ ResourceTypeFilters: ["ecs:task-definition"] }));
    await cloudWatch.send(new DescribeAlarmsCommand({}));
  } finally {
    tag.destroy();
    cloudWatch.destroy();
  }
}

export interface FakeRunOptions {
  readonly services: number;
  /** Spread over the services as evenly as they go (16,000 over 350: 250 of 46 and 100 of 45). */
  readonly tasks: number;
  /** ECS clusters the services are spread over. */
  readonly clusters: number;
  readonly recordSets: number;
  readonly groups: number;
  readonly instancesPerGroup: number;
  readonly intervalMs: number;
  readonly intervals: number;
}

/**
 * The same controller over bench/fake-sdk.ts: the real SDK clients (read cache, rate limiters at their defaults, call
 * record) answered in process, at sizes the emulator cannot hold: `services` CloudMapServices each following its own
 * ECS service (`tasks` in all, over `clusters` clusters), `recordSets` WeightedRecordSets at as many names of one
 * private zone, record set i over Auto Scaling group i mod `groups`. Run it in a child process of its own
 * (`benchRunOnFakeInChild`), so that its memory figures are the controller's and the fake's alone.
 */
export async function benchRunOnFake(options: FakeRunOptions): Promise<RunFigures> {
  const sdk = new FakeSdk();
  const tasksPerService = Array.from(
    { length: options.services },
    (_, s) => Math.floor(options.tasks / options.services) + (s < options.tasks % options.services ? 1 : 0),
  );
  const clusterOf = (s: number) => `logs-${s % options.clusters}`;
  tasksPerService.forEach((n, s) => sdk.fake.addTasks(clusterOf(s), `fluentd-${s}`, n));
  const vpc = "vpc-0abc1234";
  const zoneId = sdk.addZone(ZONE, vpc);
  const groupOf = (i: number) => `${GROUP}-${i % options.groups}`;
  for (let g = 0; g < options.groups; g++) sdk.fake.addGroup(groupOf(g), options.instancesPerGroup);
  const dir = await mkdtemp(join(tmpdir(), "bench-run-fake-"));
  try {
    await writeSpecs(dir, vpc, options.services, clusterOf, options.recordSets, groupOf);
    const credentials = refreshableCredentials(() => async () => ({
      accessKeyId: "bench",
      secretAccessKey: "bench",
    }));
    const baselineRssMb = process.memoryUsage.rss() / 1e6;
    let fakeCpuBefore = 0;
    const figures = await measureRun(
      (observer, readCache) =>
        sdk.attach(
          createAwsClients({
            endpoint: "http://fake.invalid",
            region: REGION,
            credentials,
            observer,
            readCache,
          }),
        ),
      dir,
      options,
      {
        converged: () => {
          fakeCpuBefore = sdk.cpuMicros;
        },
      },
    );
    const zoneRecords = (sdk.fake.state.records[zoneId]?.length ?? 0) + 2;
    return {
      backend: "fake",
      cloudMapServices: options.services,
      weightedRecordSets: options.recordSets,
      tasks: options.tasks,
      groups: options.groups,
      instancesPerGroup: options.instancesPerGroup,
      zoneRecords,
      intervalMs: options.intervalMs,
      ...figures,
      ...floors({
        tasksPerService,
        zoneRecords,
        groups: Array<number>(options.groups).fill(options.instancesPerGroup),
        servicesPerCluster: Array.from(
          { length: options.clusters },
          (_, c) => tasksPerService.filter((_t, s) => s % options.clusters === c).length,
        ),
      }),
      baselineRssMb,
      processPeakRssMb: process.resourceUsage().maxRSS / 1024,
      fakeCpuSecondsPerInterval: (sdk.cpuMicros - fakeCpuBefore) / 1e6 / options.intervals,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `benchRunOnFake` in a child process (bench/run-fake-child.ts), so its peak RSS is its own. */
export async function benchRunOnFakeInChild(options: FakeRunOptions): Promise<RunFigures> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [join(import.meta.dirname, "run-fake-child.ts"), JSON.stringify(options)],
    { maxBuffer: 1 << 22 },
  );
  return JSON.parse(stdout) as RunFigures;
}

export async function writeSpecs(
  dir: string,
  vpcId: string,
  services: number,
  clusterOf: (s: number) => string,
  recordSets: number,
  groupOf: (i: number) => string,
): Promise<void> {
  const specs = [
    cloudMapSpecs(vpcId, services, clusterOf),
    ...Array.from({ length: recordSets }, (_, i) =>
      weightedSpec(`records-${i}`, ZONE, `r${i}.${ZONE}`, groupOf(i)),
    ),
  ].join("---\n");
  await writeFile(join(dir, "specs.yaml"), specs);
}

type MeasuredFigures = Omit<
  RunFigures,
  | "backend"
  | "cloudMapServices"
  | "weightedRecordSets"
  | "intervalMs"
  | "floor"
  | "floorWithServiceTags"
  | "floorWithHealth"
  | "floorByOperation"
>;

/**
 * Starts the controller over the specs in `dir` with clients from `build` (given the call record and the tick's read
 * cache, as `run` builds them), times its first sync, waits for a whole interval without a write, and counts the
 * calls of `intervals` intervals from resync to resync.
 */
async function measureRun(
  build: (observer: AwsCallObserver, readCache: TickReadCache) => AwsClients,
  dir: string,
  options: { intervalMs: number; intervals: number },
  hooks: { converged?: () => void } = {},
): Promise<MeasuredFigures> {
  const registry = new Registry();
  const metrics = new ControllerMetrics(registry);
  const counter = new AwsCallCounter();
  const logger = new ResyncCounter();
  // As `run` builds it: the operator's defaults (its Route 53 limit of 5/s is part of what the first sync costs)
  // and the tick's shared read cache, whose answers serve for one interval at most.
  const reads = new TickReadCache({ maxAgeMs: options.intervalMs });
  const clients = build(observeAll(metrics, counter), reads);
  let controller: Controller | undefined;
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    controller = await composeController({
      specDir: dir,
      clients,
      metrics,
      logger,
      ownerId: "bench",
      intervalMs: options.intervalMs,
      bindAddress: "127.0.0.1:0",
      reads,
    });
    const started = performance.now();
    await controller.start();
    const firstSyncSeconds = (performance.now() - started) / 1000;
    const ready = controller;
    const firstSyncNotReady: Record<string, { count: number; first: string }> = {};
    for (const r of ready.status.list()) {
      const c = r.conditions.find((x) => x.type === "Ready");
      if (r.key.endsWith("/*") || c === undefined || c.status === "True") continue;
      const k = `${r.key.slice(0, r.key.indexOf("/"))}: ${c.reason}`;
      firstSyncNotReady[k] ??= { count: 0, first: c.message.slice(0, 300) };
      firstSyncNotReady[k].count++;
    }
    const converged = (): boolean => {
      const specs = ready.status.list().filter((r) => !r.key.endsWith("/*"));
      return specs.every((r) => r.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    };
    while (!converged()) await delay(10);
    const firstConvergedSeconds = (performance.now() - started) / 1000;
    const firstSyncCalls = Object.fromEntries(
      [...counter.byOperation()].sort(([a], [b]) => (a < b ? -1 : 1)),
    );

    // Converged: a whole interval (from one resync to the next) without a write.
    for (;;) {
      const at = logger.resyncs;
      const writes = counter.writes().length;
      while (logger.resyncs < at + 2) await delay(50);
      if (counter.writes().length === writes) break;
    }
    const waitBefore = await limiterWaits(registry);
    hooks.converged?.();
    counter.reset();
    let convergedPeakRss = process.memoryUsage.rss();
    sampler = setInterval(() => {
      convergedPeakRss = Math.max(convergedPeakRss, process.memoryUsage.rss());
    }, 100);
    const cpuBefore = process.cpuUsage();
    const from = logger.resyncs;
    const t0 = performance.now();
    while (logger.resyncs < from + options.intervals) await delay(20);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    const calls = counter.byOperation();
    const waitAfter = await limiterWaits(registry);
    const per = (n: number) => Math.round((n / options.intervals) * 10) / 10;
    const callsPerInterval = Object.fromEntries(
      [...calls].sort(([a], [b]) => (a < b ? -1 : 1)).map(([op, n]) => [op, per(n)]),
    );
    let readCalls = 0;
    let writeCalls = 0;
    for (const [op, n] of calls) {
      if (isReadOperation(op.slice(op.indexOf(":") + 1))) readCalls += n;
      else writeCalls += n;
    }
    const route53 = [...calls].filter(([op]) => op.startsWith("route53:")).reduce((n, [, c]) => n + c, 0);
    return {
      firstSyncSeconds,
      firstConvergedSeconds,
      firstSyncNotReady,
      firstSyncCalls,
      intervals: options.intervals,
      callsPerInterval,
      readsPerInterval: per(readCalls),
      writesPerInterval: per(writeCalls),
      route53PerSecond: route53 / seconds,
      route53PerInterval: per(route53),
      secondsPerInterval: seconds / options.intervals,
      convergedPeakRssMb: convergedPeakRss / 1e6,
      cpuSecondsPerInterval: (cpu.user + cpu.system) / 1e6 / options.intervals,
      ...(waitAfter === undefined
        ? {}
        : {
            limiterWaitSeconds: Object.fromEntries(
              Object.entries(waitAfter).map(([s, v]) => [s, v - (waitBefore?.[s] ?? 0)]),
            ),
          }),
    };
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await controller?.stop();
    clients.destroy();
  }
}

/**
 * The floor per interval, as the issue defines it, pages counted: per watched ECS service one ListTasks page and one
 * DescribeTasks per 100 tasks; per Cloud Map service one ListInstances page per 100 instances; the zone's one listing,
 * 300 record sets a page; per Auto Scaling group one DescribeAutoScalingGroups and one DescribeInstances page (1,000
 * instances); per pass ListNamespaces and ListServices (100 a page) and the namespace's ownership tags. The operator
 * also reads each Cloud Map service's ownership tags every interval (ownership is read back from AWS): the floor
 * with those is `floorWithServiceTags`.
 */
function floors(scene: {
  tasksPerService: readonly number[];
  zoneRecords: number;
  groups: readonly number[];
  /** How many of the services each cluster holds. */
  servicesPerCluster: readonly number[];
}): Pick<RunFigures, "floor" | "floorWithServiceTags" | "floorWithHealth" | "floorByOperation"> {
  const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));
  const perService = scene.tasksPerService.reduce((n, t) => n + pages(t, 100), 0);
  const floorByOperation: Record<string, number> = {
    "autoscaling:DescribeAutoScalingGroups": scene.groups.length,
    "ec2:DescribeInstances": scene.groups.reduce((n, size) => n + pages(size, 1000), 0),
    "ecs:DescribeTasks": perService,
    "ecs:ListTasks": perService,
    "route53:ListResourceRecordSets": pages(scene.zoneRecords, 300),
    "servicediscovery:ListInstances": perService,
    "servicediscovery:ListNamespaces": 1,
    "servicediscovery:ListServices": pages(scene.tasksPerService.length, 100),
    "servicediscovery:ListTagsForResource": 1,
  };
  const floor = Object.values(floorByOperation).reduce((a, b) => a + b, 0);
  const floorWithServiceTags = floor + scene.tasksPerService.length;
  const health = scene.servicesPerCluster.reduce((n, services) => n + Math.ceil(services / 10), 0);
  return { floor, floorWithServiceTags, floorWithHealth: floorWithServiceTags + health, floorByOperation };
}

/** `ecs_log_operator_aws_rate_limit_wait_seconds_sum` by service, when the operator exports it. */
async function limiterWaits(registry: Registry): Promise<Record<string, number> | undefined> {
  const metric = registry.getSingleMetric("ecs_log_operator_aws_rate_limit_wait_seconds");
  if (metric === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    if (!String((v as { metricName?: string }).metricName).endsWith("_sum")) continue;
    const service = String(v.labels.service ?? "");
    out[service] = (out[service] ?? 0) + v.value;
  }
  return out;
}
