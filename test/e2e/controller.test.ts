import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ListNamespacesCommand, ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { afterAll, describe, expect, it } from "vitest";
import { MotoEmulator } from "../moto-emulator.ts";
import {
  buildOperatorImage,
  docker,
  E2E_LABEL,
  E2E_OWNER,
  ensureDocker,
  removeLeftovers,
  setupOrFailEveryTest,
  specDirectory,
  waitForOk,
  type BuiltImage,
} from "./docker-harness.ts";
import { freePort } from "../free-port.ts";

// The image as users deploy it: `run /specs` in a container, against AWS (the emulator on the host), specs mounted
// read-only, /readyz, /metrics and /status served, and a clean exit on SIGTERM. The container shares the host's
// network (the engine runs without NAT), so it reaches the emulator and the tests reach it on 127.0.0.1 only.

let image: BuiltImage;
let emulator: MotoEmulator;
let specs: Awaited<ReturnType<typeof specDirectory>>;
let container: StartedTestContainer | undefined;
let base: string;
let vpcIds: string[];
let startupToReadyMs: number;
const aws = { region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };

function namespaceSpec(name: string, dnsName: string, vpcId: string | undefined): string {
  return [
    "apiVersion: ecs-log-operator/v1alpha1",
    "kind: CloudMapNamespace",
    `metadata: { name: ${name} }`,
    `spec: { name: ${dnsName}, vpc: ${vpcId}, description: e2e }`,
    "",
  ].join("\n");
}

async function namespaces(): Promise<string[]> {
  const client = new ServiceDiscoveryClient({ ...aws, endpoint: emulator.endpoint });
  try {
    const res = await client.send(new ListNamespacesCommand({}));
    return (res.Namespaces ?? []).map((n) => n.Name ?? "").sort();
  } finally {
    client.destroy();
  }
}

async function logs(): Promise<string> {
  if (container === undefined) return "(no container)";
  const { stdout, stderr } = await docker(["logs", "--tail", "60", container.getId()]);
  return stdout + stderr;
}

setupOrFailEveryTest(async () => {
  await ensureDocker();
  await removeLeftovers();
  [image, emulator] = await Promise.all([buildOperatorImage(), MotoEmulator.start()]);
  const ec2 = new EC2Client({ ...aws, endpoint: emulator.endpoint });
  // Two VPCs: the emulator refuses a second private namespace in one VPC (ConflictingDomainExists).
  vpcIds = [];
  for (const CidrBlock of ["10.0.0.0/16", "10.1.0.0/16"]) {
    vpcIds.push((await ec2.send(new CreateVpcCommand({ CidrBlock }))).Vpc?.VpcId ?? "");
  }
  ec2.destroy();
  specs = await specDirectory({
    "namespace.yaml": namespaceSpec("logs-namespace", "fluentd.local", vpcIds[0]),
  });

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The image's own HEALTHCHECK, pointed at this container's port and run every half second instead of every 30 s:
  // testcontainers waits for "healthy", so the start itself proves the health check passes.
  const inspect = await docker([
    "image",
    "inspect",
    "--format",
    "{{json .Config.Healthcheck.Test}}",
    image.tag,
  ]);
  const [form, ...command] = JSON.parse(inspect.stdout) as string[];
  if (form !== "CMD" || !command.join(" ").includes(":9464/healthz"))
    throw new Error(`unexpected HEALTHCHECK ${inspect.stdout}`);
  const healthCheck = command.map((c) => c.replace(":9464/", `:${port}/`));

  const started = performance.now();
  container = await new GenericContainer(image.tag)
    .withNetworkMode("host")
    .withHealthCheck({ test: ["CMD", ...healthCheck], interval: 500, timeout: 5_000, retries: 3 })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(60_000)
    .withLabels({ [E2E_LABEL]: E2E_OWNER })
    .withEnvironment({ ...emulator.env(), ECS_LOG_OPERATOR_OWNER_ID: "e2e" })
    .withBindMounts([{ source: specs.path, target: "/specs", mode: "ro" }])
    .withCommand(["run", "/specs", "--interval", "2s", "--metrics-bind-address", `127.0.0.1:${port}`])
    .start();
  await waitForOk(`${base}/readyz`, { timeoutMs: 60_000, logs });
  startupToReadyMs = performance.now() - started;
  console.log(`e2e: container start to /readyz 200 in ${(startupToReadyMs / 1000).toFixed(2)} s`);
});

afterAll(async () => {
  if (container !== undefined) await docker(["rm", "--force", container.getId()]);
  await image?.remove();
  await specs?.remove();
  await emulator?.stop();
});

describe("the operator's image running `run /specs`", () => {
  it("is ready within 30 s of the container starting, and has created the namespace in AWS", async () => {
    expect(startupToReadyMs).toBeLessThan(30_000);
    await expect.poll(namespaces, { timeout: 20_000, interval: 250 }).toEqual(["fluentd.local"]);
  });

  it("serves /metrics with the controller's series", async () => {
    await expect
      .poll(async () => (await fetch(`${base}/metrics`)).text(), { timeout: 20_000, interval: 500 })
      .toMatch(/^ecs_log_operator_reconcile_total\{kind="CloudMapNamespace",result="success"\} [1-9]/m);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /^ecs_log_operator_aws_requests_total\{service="servicediscovery",[^}]*outcome="success"\} [1-9]/m,
    );
    expect(text).toMatch(/^ecs_log_operator_managed_objects\{kind="CloudMapNamespace"\} 1$/m);
    expect(text).toContain("# TYPE ecs_log_operator_convergence_latency_seconds histogram");
    expect(text).not.toMatch(/^ecs_log_operator_reconcile_total\{[^}]*result="error"\} [1-9]/m);
  });

  it("is healthy by the image's own HEALTHCHECK command", async () => {
    const health = await docker(["inspect", "--format", "{{.State.Health.Status}}", container!.getId()]);
    expect(health.stdout.trim()).toBe("healthy");
  });

  it("picks up a spec added to the mounted directory", async () => {
    await writeFile(
      join(specs.path, "second.yaml"),
      namespaceSpec("apps-namespace", "apps.local", vpcIds[1]),
      { mode: 0o644 },
    );
    await expect
      .poll(namespaces, { timeout: 30_000, interval: 500 })
      .toEqual(["apps.local", "fluentd.local"]);
    const status = await (await fetch(`${base}/status`)).text();
    expect(status).toContain("apps-namespace");
  });

  it("calls AWS only for actions that `iam-policy` grants for the same specs (run in the image)", async () => {
    const result = await container!.exec(["node", "cmd/ecs-log-operator.ts", "iam-policy", "/specs"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const policy = JSON.parse(result.stdout) as { Statement: { Action: string[] }[] };
    const granted = new Set(policy.Statement.flatMap((s) => s.Action));
    // Every operation the operator has sent so far, as its own metric counts them (SDK retries included).
    const called = new Set<string>();
    for (const line of (await (await fetch(`${base}/metrics`)).text()).split("\n")) {
      if (!line.startsWith("ecs_log_operator_aws_requests_total{")) continue;
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      // SQS authorizes a batch delete as sqs:DeleteMessage.
      const operation = labels.operation === "DeleteMessageBatch" ? "DeleteMessage" : labels.operation;
      called.add(`${labels.service}:${operation}`);
    }
    expect([...called]).toContain("servicediscovery:CreatePrivateDnsNamespace");
    expect([...called].filter((action) => !granted.has(action))).toEqual([]);
  });

  it("exits 0 on SIGTERM, promptly (node as PID 1 handles it)", async () => {
    const started = performance.now();
    // docker stop sends SIGTERM, then SIGKILL after the timeout: a kill would show as exit code 137.
    await container!.stop({ timeout: 20_000, remove: false });
    const seconds = (performance.now() - started) / 1000;
    const state = await docker([
      "inspect",
      "--format",
      "{{.State.ExitCode}} {{.State.OOMKilled}}",
      container!.getId(),
    ]);
    expect(state.stdout.trim(), await logs()).toBe("0 false");
    expect(seconds).toBeLessThan(10);
    expect(await logs()).toMatch(/"msg":"stopped"|stopped/);
    console.log(`e2e: SIGTERM to exit in ${seconds.toFixed(2)} s`);
  });
});
