import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ListNamespacesCommand, UpdatePrivateDnsNamespaceCommand } from "@aws-sdk/client-servicediscovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Output } from "../../cmd/cli-support.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { OperatorProcess } from "./controller-child.ts";
import { GitHttpServer, TestRepository } from "./git-server.ts";
import { startEmulator } from "./harness.ts";

/*
 * `run --git-url` end to end: the operator as a child process, its specs in a repository served by `git http-backend`
 * on loopback behind a token check (the token in the emulator's Secrets Manager), AWS the emulator. Every wait is for
 * a condition (AWS state, /status, a metric, a log line), never a fixed sleep; "within one pull interval" is counted in
 * fetches, not measured in seconds.
 */

const REGION = "us-east-1";
const TOKEN = "ghp_run0123456789abcdefghijklmnopqrstuvw";
const WEBHOOK_SECRET = "webhook-secret-0123456789";
let moto: MotoEmulator;
let clients: AwsClients;
let server: GitHttpServer;
let scratch: string;
let tokenArn: string;
let vpc: string;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  server = await GitHttpServer.start({ token: TOKEN });
  scratch = mkdtempSync(join(tmpdir(), "git-run-"));
  await scene();
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh emulator: a VPC for the namespace and the token secret. */
async function scene(): Promise<void> {
  await moto.reset();
  vpc = (await new AwsScene(clients).network()).vpcId;
  const sm = new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint });
  const secret = await sm.send(
    new CreateSecretCommand({ Name: "ecs-specs-token", SecretString: JSON.stringify({ token: TOKEN }) }),
  );
  sm.destroy();
  tokenArn = secret.ARN ?? "";
}

const namespace = (description: string, inVpc = vpc) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: CloudMapNamespace\nmetadata: { name: logs }\nspec:\n  name: logs.local\n  vpc: ${inVpc}\n  description: ${description}\n`;

async function description(): Promise<string | undefined> {
  const out = await clients.serviceDiscovery.send(new ListNamespacesCommand({}));
  return out.Namespaces?.find((n) => n.Name === "logs.local")?.Description;
}

async function namespaceCount(): Promise<number> {
  return (await clients.serviceDiscovery.send(new ListNamespacesCommand({}))).Namespaces?.length ?? 0;
}

async function waitUntil(what: string, test: () => Promise<boolean> | boolean, ms = 60_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await test()) return (performance.now() - started) / 1000;
    await delay(100);
  }
  throw new Error(`not reached within ${ms} ms: ${what}`);
}

interface SourceSection {
  type: string;
  location: string;
  revision: string | undefined;
  resolvedRef: string | undefined;
  fetchedAt: string | undefined;
  conditions: { type: string; status: string; reason: string; message: string }[];
  lastError?: { reason: string; message: string };
  rejected?: { revision: string; reason: string; message: string };
}

interface Status {
  phase: string;
  resources: { key: string; conditions: { type: string; status: string }[] }[];
  source?: SourceSection;
}

/** The operator's HTTP side. */
function endpoints(port: number) {
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  return {
    url,
    status: async () => (await (await fetch(url("/status"))).json()) as Status,
    metrics: async () => (await fetch(url("/metrics"))).text(),
  };
}

/** A counter's value in an exposition, 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const FETCH_DONE = new Set(["Git revision applied", "Git ref unchanged"]);

describe("run --git-url, pulling each interval", () => {
  let repo: TestRepository;
  let operator: OperatorProcess;
  let http: ReturnType<typeof endpoints>;
  let tmp: string;
  const commits: Record<string, string> = {};

  beforeAll(async () => {
    repo = await TestRepository.create(server.root, "pulled");
    commits.v1 = await repo.commit({ "specs/logs.yaml": namespace("v1") }, "logs namespace");
    // Its own TMPDIR, to see that nothing of the checkouts is left behind.
    tmp = mkdtempSync(join(scratch, "tmp-"));
    operator = new OperatorProcess(
      [
        "--git-url",
        server.url("pulled"),
        "--git-path",
        "specs",
        "--git-token-secret-arn",
        tokenArn,
        "--git-interval",
        "1s",
        "--interval",
        "2s",
        "--metrics-bind-address",
        "127.0.0.1:0",
        "--owner-id",
        "it",
        "--log-level",
        "debug",
      ],
      { ...moto.env(REGION), TMPDIR: tmp },
    );
    http = endpoints(await operator.port());
    await waitUntil("ready", async () => (await fetch(http.url("/readyz"))).status === 200);
  });

  afterAll(async () => {
    await operator?.terminate();
  });

  it("applies the first commit and shows it in /status", async () => {
    expect(await description()).toBe("v1");
    const status = await http.status();
    expect(status.phase).toBe("ready");
    expect(status.source).toMatchObject({
      type: "git",
      location: `${server.url("pulled")} (default branch) path specs`,
      revision: commits.v1,
      resolvedRef: "refs/heads/main",
      conditions: [{ type: "Ready", status: "True", reason: "Synced" }],
    });
    expect(JSON.stringify(status) + operator.stderr).not.toContain(TOKEN);
  });

  it("applies a push within one pull interval, and /status and the metric show the new commit", async () => {
    const pushed = await repo.commit({ "specs/logs.yaml": namespace("v2") }, "describe v2");
    commits.v2 = pushed;
    // The push is complete: every fetch that ends from now on but one (in flight meanwhile) starts after it.
    const pushedAt = Date.now();
    const seconds = await waitUntil(
      "the pushed description in AWS",
      async () => (await description()) === "v2",
    );
    const after = operator.lines.filter((l) => Date.parse(String(l.time)) >= pushedAt);
    const applied = after.findIndex((l) => l.msg === "Git revision applied" && l.revision === pushed);
    expect(applied, "the push was applied by a fetch of the source").toBeGreaterThanOrEqual(0);
    expect(after[applied]?.trigger).toBe("interval");
    const missed = after.slice(0, applied).filter((l) => FETCH_DONE.has(String(l.msg)));
    expect(missed.length, "fetches that ended after the push without it").toBeLessThanOrEqual(1);
    // The change reached the controller as a spec change, not at a later resync.
    expect(
      after.slice(applied).some((l) => l.msg === "spec changed" && l.resource === "CloudMapNamespace/logs"),
    ).toBe(true);

    const status = await http.status();
    expect(status.source?.revision).toBe(pushed);
    expect(status.source?.conditions[0]).toMatchObject({
      status: "True",
      message: `synced to ${pushed} (refs/heads/main)`,
    });
    const metrics = await http.metrics();
    expect(metrics).toContain(
      `ecs_log_operator_git_source_info{url="${server.url("pulled")}",ref="refs/heads/main",revision="${pushed}"} 1`,
    );
    expect(metrics).not.toContain(`revision="${commits.v1}"`);
    expect(metrics).toMatch(/^ecs_log_operator_git_seconds_since_last_fetch \d/m);
    console.log(`run --git-url, --git-interval 1s: a push converged AWS in ${seconds.toFixed(2)}s`);
  });

  it("keeps the previous revision applied when a push breaks a spec, and says why", async () => {
    const broken = await repo.commit(
      {
        "specs/logs.yaml": namespace("v3"),
        // A second namespace in a VPC id that is no VPC id: line 6 of its file.
        "specs/broken.yaml": namespace("broken", "not-a-vpc").replace("name: logs", "name: broken"),
      },
      "describe v3, and a typo",
    );
    await waitUntil(
      "the commit refused",
      async () => (await http.status()).source?.rejected?.revision === broken,
    );
    // Two more fetches find the same broken commit, and still nothing of it is applied.
    const rejectedSoFar = sample(
      await http.metrics(),
      'ecs_log_operator_git_fetches_total{result="rejected"}',
    );
    await waitUntil(
      "two more fetches",
      async () =>
        sample(await http.metrics(), 'ecs_log_operator_git_fetches_total{result="rejected"}') >=
        rejectedSoFar + 2,
    );
    expect(await description()).toBe("v2");
    expect(await namespaceCount()).toBe(1);
    const status = await http.status();
    expect(status.phase).toBe("ready");
    expect(status.source?.revision).toBe(commits.v2);
    expect(status.source?.rejected).toMatchObject({ revision: broken, reason: "InvalidSpecs" });
    expect(status.source?.rejected?.message).toMatch(/^1 problem\(s\): specs\/broken\.yaml:6:\d+: /);
    expect(status.source?.conditions[0]).toMatchObject({ status: "False", reason: "RevisionInvalidSpecs" });
    expect(status.source?.conditions[0]?.message).toContain(
      `commit ${broken} is refused: 1 problem(s): specs/broken.yaml:6:`,
    );
    expect(status.source?.conditions[0]?.message).toContain(`keeping ${commits.v2}`);
    expect(await http.metrics()).toContain("ecs_log_operator_git_revision_rejected 1");
    const logged = operator.lines.filter((l) => l.msg === "Git revision refused; the applied revision stays");
    expect(logged.map((l) => l.revision)).toEqual([broken]);
    expect(String(logged[0]?.problems)).toContain("specs/broken.yaml:6:");

    // The fix is applied at once, and the refusal is lifted.
    commits.v4 = await repo.commit({ "specs/logs.yaml": namespace("v4"), "specs/broken.yaml": null }, "fix");
    await waitUntil("the fix in AWS", async () => (await description()) === "v4");
    const fixed = await http.status();
    expect(fixed.source?.revision).toBe(commits.v4);
    expect(fixed.source?.rejected).toBeUndefined();
    expect(await http.metrics()).toContain("ecs_log_operator_git_revision_rejected 0");
  });

  it("changes nothing in AWS while the Git server is stopped, keeps the last good revision converged, and catches up", async () => {
    await server.stop();
    const failures = 'ecs_log_operator_git_fetch_failures_total{reason="Unreachable"}';
    await waitUntil("two failed fetches", async () => sample(await http.metrics(), failures) >= 2);
    expect(await description()).toBe("v4");
    expect(await namespaceCount()).toBe(1);
    const down = await http.status();
    expect(down.source).toMatchObject({ revision: commits.v4, lastError: { reason: "Unreachable" } });
    expect(down.source?.conditions[0]).toMatchObject({ status: "False", reason: "Unreachable" });
    expect(down.source?.conditions[0]?.message).toContain(`keeping ${commits.v4}`);
    expect((await fetch(http.url("/readyz"))).status).toBe(200);

    // The last good revision stays applied: a hand edit is put back while the remote is away.
    const list = await clients.serviceDiscovery.send(new ListNamespacesCommand({}));
    const id = list.Namespaces?.find((n) => n.Name === "logs.local")?.Id ?? "";
    await clients.serviceDiscovery.send(
      new UpdatePrivateDnsNamespaceCommand({ Id: id, Namespace: { Description: "by hand" } }),
    );
    await waitUntil("the hand edit put back", async () => (await description()) === "v4");
    expect((await http.status()).source?.revision).toBe(commits.v4);

    // A push while the server is away is applied once it is back.
    commits.v5 = await repo.commit({ "specs/logs.yaml": namespace("v5") }, "describe v5");
    await server.listen();
    await waitUntil("the push made during the outage in AWS", async () => (await description()) === "v5");
    const up = await http.status();
    expect(up.source?.revision).toBe(commits.v5);
    expect(up.source?.lastError).toBeUndefined();
    expect(up.source?.conditions[0]).toMatchObject({ status: "True", reason: "Synced" });
  });

  it("follows a force-push to an older commit and applies that commit's specs", async () => {
    const older = commits.v2 ?? "";
    await repo.forcePush(older);
    await waitUntil("the older commit's description in AWS", async () => (await description()) === "v2");
    expect((await http.status()).source?.revision).toBe(older);
    expect(await http.metrics()).toContain(`revision="${older}"} 1`);
  });

  it("exits 0 on SIGTERM and leaves no checkout behind", async () => {
    expect(await operator.terminate()).toEqual({ code: 0, signal: null });
    expect(operator.lines.at(-1)?.msg).toBe("stopped");
    expect(readdirSync(tmp)).toEqual([]);
    expect(JSON.stringify(operator.lines) + operator.stderr).not.toContain(TOKEN);
  });
});

describe("run --git-url with the webhook", () => {
  let repo: TestRepository;
  let operator: OperatorProcess;
  let http: ReturnType<typeof endpoints>;
  let secretFile: string;

  beforeAll(async () => {
    await scene();
    repo = await TestRepository.create(server.root, "hooked");
    await repo.commit({ "specs/logs.yaml": namespace("w1") }, "logs namespace");
    secretFile = join(scratch, "webhook-secret");
    writeFileSync(secretFile, WEBHOOK_SECRET + "\n");
    // An hour between pulls: within the test, only the webhook can fetch a new commit.
    operator = new OperatorProcess(
      [
        "--git-url",
        server.url("hooked"),
        "--git-path",
        "specs",
        "--git-token-secret-arn",
        tokenArn,
        "--git-interval",
        "1h",
        "--git-webhook-secret-file",
        secretFile,
        "--metrics-bind-address",
        "127.0.0.1:0",
        "--owner-id",
        "it",
      ],
      moto.env(REGION),
    );
    http = endpoints(await operator.port());
    await waitUntil("ready", async () => (await fetch(http.url("/readyz"))).status === 200);
    expect(await description()).toBe("w1");
  });

  afterAll(async () => {
    await operator?.terminate();
  });

  it("applies a push within seconds of POST /hooks/git, the interval an hour away", async () => {
    const pushed = await repo.commit({ "specs/logs.yaml": namespace("w2") }, "describe w2");
    const started = performance.now();
    const hook = await fetch(http.url("/hooks/git"), {
      method: "POST",
      headers: { authorization: `Bearer ${WEBHOOK_SECRET}`, "x-github-event": "push" },
      body: JSON.stringify({ ref: "refs/heads/main", after: "0".repeat(40) }),
    });
    expect(hook.status).toBe(202);
    expect(await hook.json()).toEqual({ accepted: true, fetch: "started" });
    await waitUntil("the pushed description in AWS", async () => (await description()) === "w2");
    const seconds = (performance.now() - started) / 1000;
    const applied = operator.lines.find((l) => l.msg === "Git revision applied" && l.revision === pushed);
    expect(applied?.trigger).toBe("webhook");
    expect((await http.status()).source?.revision).toBe(pushed);
    expect(await http.metrics()).toContain(`revision="${pushed}"} 1`);
    console.log(`run --git-url: a push converged AWS ${seconds.toFixed(2)}s after the webhook call`);
  });

  it("serves the webhook on POST /hooks/git only, proven by the secret, and leaves the other routes as they were", async () => {
    const get = await fetch(http.url("/hooks/git"));
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
    const forged = await fetch(http.url("/hooks/git"), {
      method: "POST",
      headers: { authorization: "Bearer not-the-secret" },
      body: "{}",
    });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(http.url("/hooks/git"), { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(401);
    expect((await fetch(http.url("/status"), { method: "POST" })).status).toBe(405);
    expect((await fetch(http.url("/hooks/other"), { method: "POST" })).status).toBe(405);
    expect((await fetch(http.url("/hooks/other"))).status).toBe(404);
    const metrics = await http.metrics();
    expect(sample(metrics, 'ecs_log_operator_git_webhook_requests_total{result="accepted"}')).toBe(1);
    expect(sample(metrics, 'ecs_log_operator_git_webhook_requests_total{result="unauthorized"}')).toBe(2);
    expect(JSON.stringify(operator.lines)).not.toContain(WEBHOOK_SECRET);
  });
});

describe("run --git-url with bad input", () => {
  let repo: TestRepository;

  beforeAll(async () => {
    await scene();
    repo = await TestRepository.create(server.root, "bad-input");
    await repo.commit({ "specs/logs.yaml": namespace("never applied") }, "logs namespace");
    Object.assign(process.env, moto.env(REGION));
  });

  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
    const code = await main(
      ["run", ...argv, "--metrics-bind-address", "127.0.0.1:0", "--owner-id", "it"],
      io,
    );
    return { code, out, err };
  }

  const good = () => [
    "--git-url",
    server.url("bad-input"),
    "--git-path",
    "specs",
    "--git-token-secret-arn",
    tokenArn,
  ];
  it.each([
    [
      "an unreachable URL",
      () => ["--git-url", "http://127.0.0.1:9/specs.git"],
      /^ecs-log-operator run: cannot reach http:\/\/127\.0\.0\.1:9\/specs\.git: .*$/,
    ],
    [
      "a ref that does not exist",
      () => [...good(), "--git-ref", "release-9"],
      /^ecs-log-operator run: .*no branch or tag "release-9" in the repository$/,
    ],
    [
      "a path missing in the repository",
      () => [...good(), "--git-path", "prod"],
      /^ecs-log-operator run: .* at [0-9a-f]{40}: the path "prod" does not exist in this commit$/,
    ],
    [
      "a token file that cannot be read",
      () => [
        "--git-url",
        server.url("bad-input"),
        "--git-path",
        "specs",
        "--git-token-file",
        join(scratch, "nope"),
      ],
      /^ecs-log-operator run: cannot read the token file .*nope: no such file$/,
    ],
    [
      "a spec directory and --git-url at once",
      () => ["specs/", ...good()],
      /^ecs-log-operator run: give a spec directory or --git-url, not both .*See `ecs-log-operator run --help`\.$/,
    ],
  ])("%s: one sentence at start, exit 1, nothing in AWS", async (_label, argv, message) => {
    const result = await run(...argv());
    expect(result.code).toBe(1);
    expect(result.err.trim().split("\n")).toHaveLength(1);
    expect(result.err.trim()).toMatch(message);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(result.out + result.err).not.toContain(TOKEN);
    expect(await namespaceCount()).toBe(0);
  });
});
