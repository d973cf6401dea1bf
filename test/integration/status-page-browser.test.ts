import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from "playwright-core";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { composeController } from "../../cmd/compose-controller.ts";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import type { Controller } from "../../controllers/controller.ts";
import { bearerTokenAuthorizer } from "../../controllers/http-auth.ts";
import { HttpServer } from "../../controllers/http-server.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { ControllerMetrics } from "../../controllers/metrics.ts";
import { renderStatusPage } from "../../controllers/status-page.ts";
import { logClusterStatus } from "../fixtures/status/log-cluster-status.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";
import { selfSignedCertificate } from "./tls-files.ts";

// The status page in a real browser: Debian's chromium, driven by npm's playwright-core (test/ensure-tools.sh
// installs chromium). First from today's controller, started in process against the emulator; then from an HTTP
// server over TLS with a bearer token serving the seeds' log cluster (a fixture status made by the same stores the
// controller feeds), whose screenshot is the README's.

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
const temp = mkdtempSync(join(tmpdir(), "status-page-browser-"));
const contexts: BrowserContext[] = [];

let chromiumBrowser: Browser | undefined;

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

beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await chromiumBrowser?.close();
  rmSync(temp, { recursive: true, force: true });
});

describe("the status page of today's controller, in Chromium", () => {
  let moto: MotoEmulator;
  let clients: AwsClients;
  let controller: Controller | undefined;

  beforeAll(async () => {
    ({ moto, clients } = await startEmulator({ region: REGION }));
    const scene = new AwsScene(clients);
    await scene.network();
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 2, "fluentd");
    const specs = join(temp, "specs");
    mkdirSync(specs);
    writeFileSync(join(specs, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId));
    const metrics = new ControllerMetrics(new Registry());
    const observed = createAwsClients({ endpoint: moto.endpoint, region: REGION, observer: metrics });
    controller = composeController({
      specDir: specs,
      clients: observed,
      metrics,
      logger: silentLogger,
      ownerId: "browser-test",
      intervalMs: 1000,
      bindAddress: "127.0.0.1:0",
    });
    await controller.start();
  });

  afterAll(async () => {
    await controller?.stop();
    clients?.destroy();
    await moto?.stop();
  });

  it("shows each resource's Ready condition as the controller reports it", async () => {
    const context = await browser();
    const page = await context.newPage();
    const res = await page.goto(`http://127.0.0.1:${controller?.port ?? 0}/`);
    expect(res?.status()).toBe(200);
    const ready = page.locator('tr[data-resource="CloudMapService/fluentd"] [data-condition="Ready"]');
    expect(await ready.getAttribute("data-status")).toBe("True");
    expect(
      await page.locator('tr[data-resource="CloudMapNamespace/logs-namespace"] td.reason').textContent(),
    ).toBe("Converged");
    expect(await page.locator("#phase").getAttribute("data-phase")).toBe("ready");
    await page.screenshot({ path: join(SHOTS, "status-page-controller.png"), fullPage: true });
  });
});

describe("the status page over TLS with a bearer token, in Chromium", () => {
  let server: HttpServer;
  let base = "";
  const token = "page-token-8c1f";
  let phase = "syncing";

  beforeAll(async () => {
    const certs = selfSignedCertificate(temp, "page");
    const doc = await logClusterStatus();
    server = new HttpServer({
      bindAddress: "127.0.0.1:0",
      registry: new Registry(),
      alive: () => true,
      ready: () => ({ ready: true, phase: "ready" }),
      status: () => doc,
      // Reloads every second while syncing; once ready, seldom enough that the screenshot is of one document.
      page: () => renderStatusPage({ ...doc, phase }, { refreshSeconds: phase === "ready" ? 3600 : 1 }),
      tls: { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
      authorize: bearerTokenAuthorizer(() => token),
    });
    await server.listen();
    base = `https://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
  });

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

  it("shows the log cluster's failures to a visitor who gives it, and reloads while open", async () => {
    // The token typed as the password of the browser's prompt (Basic); Prometheus and get send it as Bearer.
    const context = await browser({
      ignoreHTTPSErrors: true,
      httpCredentials: { username: "operator", password: token },
    });
    const page = await context.newPage();
    expect((await page.goto(`${base}/`))?.status()).toBe(200);
    const row = page.locator('tr[data-resource="CloudMapService/fluentd"]');
    expect(await row.locator('[data-condition="Degraded"]').getAttribute("data-status")).toBe("True");
    expect(await row.locator("td.reason").textContent()).toBe("NoFreeEni");
    expect(
      await page.locator('[data-service="ecs:app/service:gaze-heatmap"] .stopped').textContent(),
    ).toContain("CannotPullContainerError");
    // The page has no script: nothing in it may run.
    expect(await page.locator("script").count()).toBe(0);
    phase = "ready";
    await page.waitForSelector('#phase[data-phase="ready"]', { timeout: 15_000 });
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("3600");
    await page.screenshot({ path: join(SHOTS, "status-page.png"), fullPage: true });
  });
});
