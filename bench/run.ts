import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { Registry } from "prom-client";
import {
  AwsCallCounter,
  createAwsClients,
  isReadOperation,
  observeAll,
  type AwsClients,
} from "../controllers/aws/clients.ts";
import { TickReadCache } from "../controllers/aws/read-cache.ts";
import type { Controller } from "../controllers/controller.ts";
import type { Logger } from "../controllers/logger.ts";
import { ControllerMetrics } from "../controllers/metrics.ts";
import { composeController } from "../cmd/compose-controller.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { cloudMapSpecs, weightedSpec } from "./specs.ts";

export interface RunFigures {
  readonly backend: "moto";
  readonly cloudMapServices: number;
  readonly weightedRecordSets: number;
  readonly intervalMs: number;
  /** From `start()` to every key reconciled once (what `/readyz` waits for). */
  readonly firstSyncSeconds: number;
  /** The calls of the first sync, by `service:Operation`. */
  readonly firstSyncCalls: Record<string, number>;
  /** Intervals (resyncs) counted once converged. */
  readonly intervals: number;
  /** AWS calls per interval once converged, by `service:Operation`. */
  readonly callsPerInterval: Record<string, number>;
  readonly readsPerInterval: number;
  readonly writesPerInterval: number;
  /** The floor by the formula, and the same with one ownership-tag read per Cloud Map service. */
  readonly floor: number;
  readonly floorWithServiceTags: number;
  /** Route 53 requests a second over the converged intervals. */
  readonly route53PerSecond: number;
  /** Seconds spent waiting on each client-side rate limiter over the converged intervals, when the metric exists. */
  readonly limiterWaitSeconds?: Record<string, number>;
}

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
  warn(): void {}
  error(): void {}
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
  let controller: Controller | undefined;
  let operatorClients: AwsClients | undefined;
  try {
    const scene = await new AwsScene(clients).network();
    await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
    for (let s = 0; s < options.services; s++) {
      await scene.cluster(`logs-${s}`, 1);
      await scene.runTasks(`logs-${s}`, "fluentd", 2, `fluentd-${s}`);
    }
    await clients.route53.send(
      new CreateHostedZoneCommand({
        Name: ZONE,
        CallerReference: `bench-run-${Date.now()}`,
        HostedZoneConfig: { PrivateZone: true, Comment: "bench" },
        VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
      }),
    );
    await scene.autoScalingGroup(GROUP, 3);
    const specs = [
      cloudMapSpecs(scene.vpcId, options.services, (s) => `logs-${s}`),
      ...Array.from({ length: options.recordSets }, (_, i) =>
        weightedSpec(`records-${i}`, ZONE, `r${i}.${ZONE}`, GROUP),
      ),
    ].join("---\n");
    await writeFile(join(dir, "specs.yaml"), specs);

    const registry = new Registry();
    const metrics = new ControllerMetrics(registry);
    const counter = new AwsCallCounter();
    const logger = new ResyncCounter();
    // As `run` builds it: the operator's defaults (its Route 53 limit of 5/s is part of what the first sync costs)
    // and the tick's shared read cache.
    const reads = new TickReadCache({ maxAgeMs: options.intervalMs });
    operatorClients = createAwsClients({
      endpoint: emulator.endpoint,
      region: REGION,
      observer: observeAll(metrics, counter),
      readCache: reads,
    });
    controller = await composeController({
      specDir: dir,
      clients: operatorClients,
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
    counter.reset();
    const from = logger.resyncs;
    const t0 = performance.now();
    while (logger.resyncs < from + options.intervals) await delay(20);
    const seconds = (performance.now() - t0) / 1000;
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
    // Per interval: per ECS service one ListTasks page and one DescribeTasks; per Cloud Map service one ListInstances
    // page; the zone's one listing; the group's DescribeAutoScalingGroups and one DescribeInstances page; one
    // ListNamespaces and one ListServices page; the namespace's ownership tags.
    const floor = options.services * 3 + 1 + 2 + 2 + 1;
    const route53 = [...calls].filter(([op]) => op.startsWith("route53:")).reduce((n, [, c]) => n + c, 0);
    return {
      backend: "moto",
      cloudMapServices: options.services,
      weightedRecordSets: options.recordSets,
      intervalMs: options.intervalMs,
      firstSyncSeconds,
      firstSyncCalls,
      intervals: options.intervals,
      callsPerInterval,
      readsPerInterval: per(readCalls),
      writesPerInterval: per(writeCalls),
      floor,
      floorWithServiceTags: floor + options.services,
      route53PerSecond: route53 / seconds,
      ...(waitAfter === undefined
        ? {}
        : {
            limiterWaitSeconds: Object.fromEntries(
              Object.entries(waitAfter).map(([s, v]) => [s, v - (waitBefore?.[s] ?? 0)]),
            ),
          }),
    };
  } finally {
    await controller?.stop();
    operatorClients?.destroy();
    clients.destroy();
    await rm(dir, { recursive: true, force: true });
  }
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
