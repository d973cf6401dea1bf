import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { composeController } from "../../cmd/compose-controller.ts";
import { createAwsClients, observeAll, type AwsClients } from "../../controllers/aws/clients.ts";
import { AwsReachability } from "../../controllers/aws/reachability.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import { runCli } from "../cli.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

// Ready means ready: ECS health checks, a load balancer and leader election trust /readyz. Before, `run` on a
// directory that does not exist and `run` whose AWS did not answer both logged "ready" and answered 200.

let moto: MotoEmulator;
let clients: AwsClients;
let dir = "";
const saved = { ...process.env };

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: "us-east-1" }));
  const scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await scene.runTasks("logs", "fluentd", 1, "fluentd");
  dir = mkdtempSync(join(tmpdir(), "readiness-"));
  writeFileSync(join(dir, "fluentd.yaml"), fluentdCloudMapSpecs(scene.vpcId));
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" });
});

afterAll(async () => {
  process.env = { ...saved };
  clients?.destroy();
  await moto?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("run at start", () => {
  it("exits 1 on a directory that does not exist, saying what to give, and is never ready", async () => {
    const missing = join(dir, "no-such-dir");
    const r = await runCli("run", missing, "--metrics-bind-address", "127.0.0.1:0");
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `ecs-log-operator run: cannot read the specs: ${missing}: no such file or directory; nothing was ` +
        "reconciled. Give the directory of spec files (*.yaml, *.yml) to watch, e.g. manifests/examples/kinds\n",
    );
    expect(r.out).not.toContain('"msg":"ready"');
  });

  it("refuses an --environment no spec declares, as the other commands do", async () => {
    const seed = "manifests/examples/seeds/003-firelens-datadog";
    const plan = await runCli("plan", seed, "--environment", "developmnt");
    const run = await runCli(
      "run",
      seed,
      "--environment",
      "developmnt",
      "--metrics-bind-address",
      "127.0.0.1:0",
    );
    expect(run.code).toBe(1);
    expect(plan.code).toBe(1);
    const sentence = `--environment developmnt: no spec under ${seed} declares it (did you mean development?)`;
    expect(plan.err).toBe(`ecs-log-operator plan: ${sentence}. See \`ecs-log-operator plan --help\`.\n`);
    expect(run.err).toBe(`ecs-log-operator run: ${sentence}. See \`ecs-log-operator run --help\`.\n`);
    expect(run.out).not.toContain('"msg":"ready"');
  });
});

/** A TCP proxy in front of the emulator that a test can cut (refusing every connection) and restore. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  private readonly targetPort: number;

  constructor(targetPort: number) {
    this.targetPort = targetPort;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const started = performance.now();
  let last: T | undefined;
  while (performance.now() - started < ms) {
    last = await get();
    if (ok(last)) return last;
    await delay(100);
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
}

describe("run's readiness while it runs", () => {
  it("reports not ready, with the reason in /status, once AWS stops answering, and ready again when it answers", async () => {
    const proxy = new CuttableProxy(moto.port);
    await proxy.open();
    const metrics = new ControllerMetrics(new Registry());
    // The loss is shortened for the test; AWS_LOSS_MS is its production value (unit-tested on the manual clock).
    const reachability = new AwsReachability({ lossMs: 1000 });
    const operatorClients = createAwsClients({
      endpoint: proxy.endpoint,
      region: "us-east-1",
      maxAttempts: 1,
      observer: observeAll(metrics, reachability),
    });
    const controller = await composeController({
      specDir: dir,
      clients: operatorClients,
      metrics,
      logger: silentLogger,
      ownerId: "readiness",
      intervalMs: 200,
      bindAddress: "127.0.0.1:0",
      readiness: [reachability],
    });
    try {
      await controller.start();
      const base = `http://127.0.0.1:${controller.port}`;
      const readyz = async () => {
        const res = await fetch(`${base}/readyz`);
        return { status: res.status, body: await res.text() };
      };
      const status = async () =>
        (await (await fetch(`${base}/status`)).json()) as { ready: boolean; notReadyReason?: string };
      expect((await readyz()).status).toBe(200);

      await proxy.cut();
      const lost = await until("not ready", readyz, (r) => r.status === 503);
      expect(lost.body).toMatch(/^not ready: AWS has not answered for \d+s, since /);
      const s = await status();
      expect(s.ready).toBe(false);
      expect(s.notReadyReason).toMatch(/AWS has not answered for \d+s/);

      await proxy.open();
      await until("ready again", readyz, (r) => r.status === 200);
    } finally {
      await controller.stop();
      operatorClients.destroy();
      await proxy.cut();
    }
  });
});
