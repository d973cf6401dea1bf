import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { Registry } from "prom-client";
import { allKinds, buildReconcilers, buildWatchLister, kindParts } from "../cmd/kinds.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import { createAwsClients } from "../controllers/aws/clients.ts";
import { Controller } from "../controllers/controller.ts";
import { HttpServer } from "../controllers/http-server.ts";
import { Informer } from "../controllers/informers.ts";
import { silentLogger } from "../controllers/logger.ts";
import { ControllerMetrics } from "../controllers/metrics.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import { SpecWatcher } from "../controllers/spec-watcher.ts";
import { seededRandom } from "../test/seeded-random.ts";

/**
 * The soak, alone in its process (started with --expose-gc, so heap figures are taken after a full collection):
 * `node --expose-gc bench/soak-child.ts ENDPOINT RECONCILES SEED`. The controller, built as `run` builds it with the
 * real SDK clients, runs against the emulator while specs are added, edited and removed and tasks start and stop,
 * until it has made RECONCILES reconciles after a warm-up; /metrics and /status are scraped meanwhile. Prints one
 * JSON line of `SoakFigures` (soak.ts).
 */
const [endpoint, reconcilesArg, seedArg] = process.argv.slice(2);
if (endpoint === undefined) throw new Error("usage: soak-child ENDPOINT RECONCILES SEED");
const TARGET = Number(reconcilesArg ?? 10_000);
const WARM_UP = 500;
const REGION = "us-east-1";
const SERVICES = 4;
const POOL = 6;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const random = seededRandom(Number(seedArg ?? 1));
const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(random() * xs.length)];

const setup = createAwsClients({ endpoint, region: REGION });
const scene = await new AwsScene(setup).network();
await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
await scene.cluster("logs", 1);
const tasks = new Map<string, string[]>();
for (let s = 0; s < SERVICES; s++) tasks.set(`s${s}`, await scene.runTasks("logs", "fluentd", 2, `s${s}`));
await setup.route53.send(
  new CreateHostedZoneCommand({
    Name: "soak.internal",
    CallerReference: `soak-${Date.now()}`,
    VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
    HostedZoneConfig: { PrivateZone: true },
  }),
);

const dir = await mkdtemp(join(tmpdir(), "soak-"));
const namespace = `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapNamespace
metadata: { name: soak-local }
spec: { name: soak.local, vpc: ${scene.vpcId} }
`;
const service = (i: number, ttl: number) => `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata: { name: svc-${i} }
spec:
  namespace: soak.local
  name: svc-${i}
  dns: { records: [{ type: A, ttl: ${ttl} }] }
  instances: { ecsTasks: { cluster: logs, service: s${i % SERVICES} }, port: 24224 }
  prune: true
`;
// Each addition of a WeightedRecordSet writes records at a name of its own: the emulator refuses to CREATE a record
// it has seen deleted while others of its name remain (a quirk; real Route 53 accepts it).
const generation = new Map<number, number>();
const records = (i: number, ttl: number) => `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: rec-${i} }
spec:
  hostedZone: soak.internal
  name: rec-${i}-g${generation.get(i) ?? 0}.soak.internal
  type: A
  ttl: ${ttl}
  weight: 10
  targets: { ecsTasks: { cluster: logs, service: s${i % SERVICES} } }
  prune: true
`;
await writeFile(join(dir, "namespace.yaml"), namespace);
const live = new Map<string, number>();
const write = async (name: string, ttl: number): Promise<void> => {
  const i = Number(name.slice(4));
  if (name.startsWith("rec") && !live.has(name)) generation.set(i, (generation.get(i) ?? -1) + 1);
  await writeFile(join(dir, `${name}.yaml`), name.startsWith("svc") ? service(i, ttl) : records(i, ttl));
  live.set(name, ttl);
};
for (let i = 0; i < 3; i++) {
  await write(`svc-${i}`, 10);
  await write(`rec-${i}`, 10);
}

/** Why reconciles failed, by message shape (ids and numbers blanked), for the figures. */
const failures = new Map<string, number>();
const logger = {
  ...silentLogger,
  warn(msg: string, fields?: Record<string, unknown>) {
    const error = fields?.error;
    if (error === undefined) return;
    const text = (error instanceof Error ? error.message : String(error))
      .replace(/[0-9a-f]{32}|[A-Z0-9]{20,}|\b[0-9a-z-]{36}\b/g, "ID")
      .replace(/\d+/g, "N")
      .slice(0, 160);
    failures.set(`${msg}: ${text}`, (failures.get(`${msg}: ${text}`) ?? 0) + 1);
  },
  child: () => logger,
};

const registry = new Registry();
const metrics = new ControllerMetrics(registry);
const clients = createAwsClients({ endpoint, region: REGION, observer: metrics });
const parts = kindParts(clients);
const reconcilers = await buildReconcilers(parts);
// Built as cmd/compose-controller.ts builds it for `run`, with the reconcilers kept to read their per-key state.
const controller = new Controller({
  specs: new SpecWatcher({ dir, kinds: allKinds(), logger, debounceMs: 50 }),
  reconcilers,
  metrics,
  logger,
  ownerId: "soak",
  // Informers list (and the directory is re-read) every second; every key is resynced four times a second.
  intervalMs: 1000,
  resyncIntervalMs: 250,
  informer: new Informer({ lister: await buildWatchLister(parts), logger }),
  server: (endpoints) => new HttpServer({ bindAddress: "127.0.0.1:0", registry, ...endpoints }),
});
await controller.start();

async function counter(name: string, label?: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? [])
    .filter((v) => label === undefined || Object.entries(label).every(([k, x]) => v.labels[k] === x))
    .reduce((n, v) => n + v.value, 0);
}
const reconciles = () => counter("ecs_log_operator_reconcile_total");

/** Heap after a full collection, listeners on the long-lived signals and emitters, and open handles by type. */
function sample(label: string) {
  gc();
  gc();
  const memory = process.memoryUsage();
  const external = memory.external / 1e6;
  const arrayBuffers = memory.arrayBuffers / 1e6;
  const handles: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) handles[r] = (handles[r] ?? 0) + 1;
  const held = controller.keysHeld();
  const wrs = reconcilers.find((r) => r.kind === "WeightedRecordSet") as Reconciler & {
    keysHeld(): unknown;
  };
  const service = reconcilers.find((r) => r.kind === "CloudMapService") as Reconciler & {
    tokensHeld(): string[];
    foreignIds(): string[];
  };
  return {
    label,
    heapUsedMb: memory.heapUsed / 1e6,
    rssMb: memory.rss / 1e6,
    externalMb: external,
    arrayBuffersMb: arrayBuffers,
    listeners: {
      ...held.signalListeners,
      process: process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0),
    },
    sockets: handles.TCPSocketWrap ?? 0,
    handles,
    keys: {
      status: held.status.length,
      pending: held.pending.length,
      queueFailures: held.queue.failures.length,
      detached: held.detached,
      cloudMapTokens: service.tokensHeld().length,
      cloudMapForeign: service.foreignIds().length,
      weightedRecords: wrs.keysHeld(),
    },
  };
}

// Scrapes, as Prometheus and a status page would: keep-alive connections to the controller's server.
let stopScraping = false;
const scraping = (async () => {
  while (!stopScraping) {
    await fetch(`http://127.0.0.1:${controller.port}/metrics`).then((r) => r.text());
    await fetch(`http://127.0.0.1:${controller.port}/status`).then((r) => r.text());
    await delay(1000);
  }
})();

async function churn(): Promise<string> {
  const r = random();
  const names = [...live.keys()];
  const ofKind = (k: string) => names.filter((n) => n.startsWith(k));
  if (r < 0.2) {
    const absent = Array.from({ length: POOL }, (_, i) => [`svc-${i}`, `rec-${i}`])
      .flat()
      .filter((n) => !live.has(n));
    const name = pick(absent);
    if (name === undefined) return "none";
    await write(name, 10);
    return "add";
  }
  if (r < 0.4) {
    // Keep two of each kind: one removal at a time is under the prune guard, and is deleted.
    const kind = random() < 0.5 ? "svc" : "rec";
    if (ofKind(kind).length <= 2) return "none";
    const name = pick(ofKind(kind))!;
    await unlink(join(dir, `${name}.yaml`));
    live.delete(name);
    return "remove";
  }
  if (r < 0.6) {
    const name = pick(names)!;
    await write(name, live.get(name) === 10 ? 20 : 10);
    return "edit";
  }
  const s = `s${Math.floor(random() * SERVICES)}`;
  const running = tasks.get(s) ?? [];
  if (r < 0.8 || running.length <= 1) {
    running.push(...(await scene.runTasks("logs", "fluentd", 1, s)));
    tasks.set(s, running);
    return "start";
  }
  const victim = running.splice(Math.floor(random() * running.length), 1)[0]!;
  await scene.stopTasks("logs", [victim]);
  return "stop";
}

const started = performance.now();
const actions: Record<string, number> = {};
while ((await reconciles()) < WARM_UP) {
  await delay(200);
}
const start = sample("start");
const first = await reconciles();
const cpu = process.cpuUsage();
while ((await reconciles()) - first < TARGET) {
  const a = await churn();
  actions[a] = (actions[a] ?? 0) + 1;
  await delay(400);
}
const churnSeconds = (performance.now() - started) / 1000;
// Let the last changes converge, then look.
const settleUntil = Date.now() + 30_000;
while (Date.now() < settleUntil) {
  const q = controller.keysHeld().queue;
  if (q.waiting.length === 0 && q.processing.length === 0 && controller.keysHeld().pending.length === 0)
    break;
  await delay(250);
}
stopScraping = true;
await scraping;
const end = sample("end");
const used = process.cpuUsage(cpu);
const errors = await counter("ecs_log_operator_reconcile_total", { result: "error" });
const figures = {
  reconciles: (await reconciles()) - first,
  warmUp: first,
  seconds: churnSeconds,
  cpuSeconds: (used.user + used.system) / 1e6,
  awsRequests: await counter("ecs_log_operator_aws_requests_total"),
  reconcileErrors: errors,
  actions,
  failures: Object.fromEntries([...failures].sort((a, b) => b[1] - a[1]).slice(0, 12)),
  liveSpecs: live.size + 1,
  liveKeys: controller.keysHeld().status.length,
  start,
  end,
};
await controller.stop();
clients.destroy();
setup.destroy();
await rm(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify(figures) + "\n");
