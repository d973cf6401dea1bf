import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogClusterScene } from "../../cmd/demo/log-cluster-scene.ts";
import { buildLogClusterScene, copySpecs, EXAMPLES } from "../../cmd/demo/log-cluster-scene.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import { fetchStatus } from "../../cmd/status-client.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { StatusDocument } from "../../controllers/status-model.ts";
import { captureOutput } from "../captured-output.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { OperatorProcess } from "./controller-child.ts";
import { startEmulator } from "./harness.ts";
import { selfSignedCertificate } from "./tls-files.ts";

// The status page of a running controller in a real browser: `ecs-log-operator run` as a child process over the seeds'
// log cluster on the emulator (the demo's scene and the examples), serving over TLS behind a bearer token, and
// Debian's chromium driven by npm's playwright-core (test/ensure-tools.sh installs chromium). Its screenshot, of the
// log cluster short of a fluentd task, is the README's (docs/status-page.png is copied from .tmp/status-page.png).

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
];
const SHOTS = join(import.meta.dirname, "../../.tmp");
const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const TOKEN = "page-token-8c1f";
const REASON = "Essential container in task exited";
const temp = mkdtempSync(join(tmpdir(), "status-page-browser-"));
const tokenFile = join(temp, "token");
const contexts: BrowserContext[] = [];

let chromiumBrowser: Browser | undefined;
let moto: MotoEmulator;
let clients: AwsClients;
let cluster: LogClusterScene;
let queueUrl = "";
let certs: { cert: string; key: string };
let operator: OperatorProcess | undefined;
let base = "";

/**
 * A context of the one Chromium this file starts: `chromium.launch` gives the browser a fresh profile
 * (user-data-dir) of its own, and each context starts with no cookies, cache or credentials.
 */
async function browser(options: BrowserContextOptions = {}): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: test/ensure-tools.sh installs Debian's chromium`);
  chromiumBrowser ??= await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const context = await chromiumBrowser.newContext({ viewport: { width: 1400, height: 900 }, ...options });
  contexts.push(context);
  return context;
}

/** GET over HTTPS, trusting the test's certificate; with the token when given. */
function get(path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        ca: readFileSync(certs.cert),
        headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** The controller's /status as `get` and `describe` read it (its CA, its token file). */
function status(): Promise<StatusDocument> {
  return fetchStatus({ server: base, caFile: certs.cert, tokenFile });
}

async function until<T>(what: string, read: () => Promise<T>, test: (v: T) => boolean): Promise<T> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const v = await read();
    if (test(v)) return v;
    if (performance.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const degraded = (doc: StatusDocument, key: string) =>
  doc.resources.find((r) => r.key === key)?.conditions.find((c) => c.type === "Degraded");

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ({ moto, clients } = await startEmulator({ region: REGION }));
  cluster = await buildLogClusterScene(clients, REGION);
  const specs = join(temp, "specs");
  await copySpecs(EXAMPLES, specs, { "vpc-0abc1234": cluster.scene.vpcId });
  queueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: "ecs-events" }))).QueueUrl ?? "";
  certs = selfSignedCertificate(temp, "page");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  operator = new OperatorProcess(
    [
      specs,
      "--interval",
      "2s",
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--owner-id",
      "browser",
      "--events-queue-url",
      queueUrl,
      "--metrics-tls-cert-file",
      certs.cert,
      "--metrics-tls-key-file",
      certs.key,
      "--metrics-bearer-token-file",
      tokenFile,
    ],
    moto.env(REGION),
  );
  base = `https://127.0.0.1:${await operator.port()}`;
  await operator.waitForLine((l) => l.msg === "ready", 90_000);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await chromiumBrowser?.close();
  await operator?.terminate();
  clients?.destroy();
  await moto?.stop();
  rmSync(temp, { recursive: true, force: true });
});

describe("run over TLS with a bearer token", () => {
  it("keeps /healthz and /readyz open, and asks for the token on /status and /metrics", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(200);
    expect((await get("/status")).status).toBe(401);
    expect((await get("/metrics")).status).toBe(401);
    expect((await get("/metrics", "wrong")).status).toBe(401);
    const metrics = await get("/metrics", TOKEN);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(
      'ecs_log_operator_watched_service_desired_tasks{cluster="logs",service="fluentd"} 3',
    );
  });
});

describe("the status page of a running controller, in Chromium", () => {
  it("asks a visitor without the token for it", async () => {
    const context = await browser({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const answered = page.waitForResponse(`${base}/`);
    // Headless, nobody can type into the browser's prompt: it gives up on the Basic challenge.
    await expect(page.goto(`${base}/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    const res = await answered;
    expect(res.status()).toBe(401);
    expect(res.headers()["www-authenticate"]).toContain('Basic realm="ecs-log-operator"');
  });

  it("shows each resource's condition, and, reloading while open, the log cluster's failures as they happen", async () => {
    // The token typed as the password of the browser's prompt (Basic); Prometheus and get send it as Bearer.
    const context = await browser({
      ignoreHTTPSErrors: true,
      httpCredentials: { username: "operator", password: TOKEN },
    });
    const page = await context.newPage();
    expect((await page.goto(`${base}/`))?.status()).toBe(200);
    const row = page.locator('tr[data-resource="CloudMapService/fluentd"]');
    expect(await row.locator('[data-condition="Ready"]').getAttribute("data-status")).toBe("True");
    expect(await row.locator('[data-condition="Degraded"]').getAttribute("data-status")).toBe("False");
    expect(await page.locator("#phase").getAttribute("data-phase")).toBe("ready");
    // The page has no script: nothing in it may run.
    expect(await page.locator("script").count()).toBe(0);

    // A fluentd task's essential container exits, and ECS cannot place its replacement: the instance that would
    // take it has no free ENI (seed 000). EventBridge puts the ECS Service Action event on the queue.
    await cluster.scene.stopTask("logs", cluster.fluentdTasks[0] ?? "", REASON);
    const event = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../fixtures/eventbridge/service-action-placement-failure.json"),
        "utf8",
      ),
    ) as { detail: Record<string, unknown> } & Record<string, unknown>;
    const now = new Date().toISOString();
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          ...event,
          time: now,
          region: REGION,
          account: ACCOUNT,
          resources: [`arn:aws:ecs:${REGION}:${ACCOUNT}:service/logs/fluentd`],
          detail: {
            ...event.detail,
            clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/logs`,
            createdAt: now,
          },
        }),
      }),
    );
    const doc = await until(
      "/status shows the stop and the placement failure",
      status,
      (d) =>
        degraded(d, "CloudMapService/fluentd")?.reason === "NoFreeEni" &&
        d.services.some((s) => s.stoppedTasks.some((t) => t.stoppedReason === REASON)),
    );
    expect(degraded(doc, "CloudMapService/fluentd")?.message).toMatch(
      /runs 2 of 3 tasks\. ECS: .*RESOURCE:ENI/,
    );

    // Nobody reloads: the page does, and shows what /status shows.
    await page.waitForSelector(
      'tr[data-resource="CloudMapService/fluentd"] [data-condition="Degraded"][data-status="True"]',
      { timeout: 60_000 },
    );
    expect(await row.locator("td.reason").textContent()).toBe("NoFreeEni");
    expect(await page.locator('[data-service="ecs:logs/service:fluentd"] .stopped').textContent()).toContain(
      REASON,
    );
    await page.screenshot({ path: join(SHOTS, "status-page.png"), fullPage: true });

    // describe, over the same TLS and token, explains it too.
    const io = captureOutput();
    expect(
      await main(
        [
          "describe",
          "CloudMapService/fluentd",
          "--server",
          base,
          "--ca-file",
          certs.cert,
          "--token-file",
          tokenFile,
        ],
        io,
      ),
    ).toBe(0);
    expect(io.stdout).toMatch(/^ {2}Degraded\s+True\s+NoFreeEni\s/m);
    expect(io.stdout).toContain(REASON);
  });
});
