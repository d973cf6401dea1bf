import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { OperatorProcess } from "./controller-child.ts";
import { freePort } from "../free-port.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";

const REGION = "us-east-1";
const INSTALL = "apt-get install -y prometheus";
let moto: MotoEmulator;
let clients: AwsClients;
let operator: OperatorProcess | undefined;
let prometheus: ChildProcess | undefined;
let operatorPort = 0;
const temp = mkdtempSync(join(tmpdir(), "prometheus-it-"));

function requireCommand(name: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
  if (!found) {
    throw new Error(
      `\`${name}\` is not installed: it comes with Debian's prometheus package (\`${INSTALL}\`)`,
    );
  }
}

beforeAll(async () => {
  requireCommand("promtool");
  requireCommand("prometheus");
  ({ moto, clients } = await startEmulator({ region: REGION }));
  const scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await scene.runTasks("logs", "fluentd", 1, "fluentd");
  const specs = join(temp, "specs");
  mkdirSync(specs);
  writeFileSync(join(specs, "cloud-map.yaml"), fluentdCloudMapSpecs(scene.vpcId));
  operator = new OperatorProcess(
    [specs, "--interval", "1s", "--metrics-bind-address", "127.0.0.1:0"],
    moto.env(REGION),
  );
  operatorPort = await operator.port();
  await until(async () => (await fetch(`http://127.0.0.1:${operatorPort}/readyz`)).status === 200, 30_000);
});

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  await operator?.terminate();
  clients?.destroy();
  await moto?.stop();
  rmSync(temp, { recursive: true, force: true });
});

async function until(test: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await test()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms`);
    await delay(200);
  }
}

describe("the operator's /metrics", () => {
  it("passes `promtool check metrics`", async () => {
    // A few resyncs, so that every family has samples.
    await delay(1500);
    const res = await fetch(`http://127.0.0.1:${operatorPort}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const family of [
      "ecs_log_operator_reconcile_total",
      "ecs_log_operator_reconcile_duration_seconds_bucket",
      "ecs_log_operator_workqueue_depth",
      "ecs_log_operator_workqueue_adds_total",
      "ecs_log_operator_workqueue_retries_total",
      "ecs_log_operator_workqueue_longest_running_processor_seconds",
      "ecs_log_operator_aws_requests_total",
      "ecs_log_operator_aws_request_duration_seconds_bucket",
      "ecs_log_operator_drift_corrected_total",
      "ecs_log_operator_managed_objects",
      "ecs_log_operator_spec_load_errors_total",
      "ecs_log_operator_spec_problems",
      "ecs_log_operator_convergence_latency_seconds",
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(text, family).toContain(family);
    }
    expect(text).toMatch(/ecs_log_operator_managed_objects\{kind="CloudMapService"\} 1/);
    let output: string;
    try {
      output = execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`promtool check metrics failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`, { cause: error });
    }
    expect(output.trim()).toBe("");
  });

  it("is scraped by a real Prometheus (up == 1)", async () => {
    const port = await freePort();
    const config = join(temp, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        "scrape_configs:",
        "  - job_name: ecs-log-operator",
        `    static_configs: [{ targets: ["127.0.0.1:${operatorPort}"] }]`,
        "",
      ].join("\n"),
    );
    let log = "";
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(temp, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-3000)));
    const api = `http://127.0.0.1:${port}/api/v1/query?query=`;
    const value = async (query: string): Promise<string | undefined> => {
      const body = (await (await fetch(api + encodeURIComponent(query))).json()) as {
        data?: { result?: { value?: [number, string] }[] };
      };
      return body.data?.result?.[0]?.value?.[1];
    };
    try {
      await until(async () => (await value('up{job="ecs-log-operator"}')) === "1", 30_000);
      await until(async () => Number(await value("sum(ecs_log_operator_reconcile_total)")) > 0, 10_000);
    } catch (error) {
      throw new Error(`Prometheus did not scrape the operator: ${(error as Error).message}\n${log}`, {
        cause: error,
      });
    }
    const exited = new Promise((r) => prometheus?.once("exit", r));
    prometheus.kill("SIGTERM");
    await exited;
    prometheus = undefined;
  });
});
