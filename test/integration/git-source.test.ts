import { createHmac } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  buildGitSource,
  gitSourceSettings,
  specRevisionCheck,
  type BuiltGitSource,
} from "../../cmd/git-source.ts";
import { allKinds } from "../../cmd/kinds.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { freePort } from "../free-port.ts";
import { GitSourceError } from "../../controllers/git-source/git-errors.ts";
import type { GitSnapshot } from "../../controllers/git-source/git-spec-source.ts";
import { GIT_WEBHOOK_PATH, serveWebhook } from "../../controllers/git-source/webhook.ts";
import { JsonLogger } from "../../controllers/logger.ts";
import { GitHttpServer, SshServer, TestRepository } from "./git-server.ts";

// The Git source against real Git servers on loopback: Debian's `git http-backend` behind a basic-auth shim (as a
// forge checks a personal access token) and OpenSSH's sshd. Time between pulls is a ManualClock: "within one pull
// interval" is one advance of the interval, and a fetch seen while the clock stands still was started by the webhook.

const TOKEN = "glpat-integration-0123456789abcdef";
const WEBHOOK_SECRET = "integration-webhook-secret";
const INTERVAL = "1m";

const namespace = (name: string, vpc = "vpc-0abc1234") =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: CloudMapNamespace\nmetadata: { name: ${name} }\nspec:\n  name: ${name}.local\n  vpc: ${vpc}\n`;

let server: GitHttpServer;
let repo: TestRepository;
/** The first commit of each test's repository: specs/logs.yaml and a README. */
let initial: string;
let repoName = "";
let repos = 0;
let secrets: string;
let tokenFile: string;
let webhookSecretFile: string;
let logLines: string[];

beforeAll(async () => {
  server = await GitHttpServer.start({ token: TOKEN });
  secrets = mkdtempSync(join(tmpdir(), "git-secrets-"));
  tokenFile = join(secrets, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  webhookSecretFile = join(secrets, "webhook");
  writeFileSync(webhookSecretFile, WEBHOOK_SECRET, { mode: 0o600 });
});

afterAll(async () => {
  await server?.close();
  rmSync(secrets, { recursive: true, force: true });
});

// A test that pushes gets a repository of its own (`fresh`), so that what it pushes is not what another fetches;
// the others read the shared one, which nobody pushes to after its first commit.
let shared: { repo: TestRepository; name: string; initial: string } | undefined;
async function fresh(): Promise<void> {
  repoName = `specs-${++repos}`;
  repo = await TestRepository.create(server.root, repoName);
  initial = await repo.commit(
    { "specs/logs.yaml": namespace("logs"), "README.md": "specs\n" },
    "logs namespace",
  );
}
beforeEach(async () => {
  if (shared === undefined) {
    await fresh();
    shared = { repo, name: repoName, initial };
  }
  ({ repo, name: repoName, initial } = shared);
});

const built: BuiltGitSource[] = [];
afterEach(async () => {
  for (const b of built.splice(0)) await b.close();
  await server.listen();
});

async function source(
  flags: Record<string, string>,
  options: { registry?: Registry; clock?: ManualClock } = {},
) {
  const settings = gitSourceSettings({ "git-interval": INTERVAL, ...flags }, []);
  if (settings === undefined) throw new Error("no --git-url");
  logLines = [];
  const b = await buildGitSource(settings, {
    logger: new JsonLogger({ write: (l) => logLines.push(l), level: "debug" }),
    clock: options.clock,
    registry: options.registry,
    check: specRevisionCheck(allKinds(), undefined),
  });
  built.push(b);
  return b;
}

const https = () => ({ "git-url": server.url(repoName), "git-token-file": tokenFile, "git-path": "specs" });

function nextRevision(b: BuiltGitSource): Promise<GitSnapshot> {
  return new Promise((resolve) => {
    const off = b.source.onRevision((s) => {
      off();
      resolve(s);
    });
  });
}

describe("a Git source over HTTPS-style basic auth (git http-backend)", () => {
  it("applies a push within one pull interval, and shows the new commit in status and metrics", async () => {
    await fresh();
    const c1 = initial;
    const clock = new ManualClock(Date.parse("2026-03-01T00:00:00Z"));
    const registry = new Registry();
    const b = await source({ ...https(), "git-webhook-secret-file": webhookSecretFile }, { clock, registry });
    const first = await b.source.start();
    expect(first).toMatchObject({ revision: c1, ref: "refs/heads/main" });
    expect(readFileSync(join(first.dir, "logs.yaml"), "utf8")).toBe(namespace("logs"));

    const loop = new AbortController();
    const running = b.source.run(loop.signal);
    const c2 = await repo.commit({ "specs/audit.yaml": namespace("audit") }, "audit namespace");
    const next = nextRevision(b);
    await clock.advance(60_000);
    const second = await next;
    expect(second.revision).toBe(c2);
    expect(readFileSync(join(second.dir, "audit.yaml"), "utf8")).toBe(namespace("audit"));
    // The first revision's directory was not touched: a reader of it saw one whole revision.
    expect(readFileSync(join(first.dir, "logs.yaml"), "utf8")).toBe(namespace("logs"));
    expect(b.source.status()).toMatchObject({
      revision: c2,
      resolvedRef: "refs/heads/main",
      conditions: [
        { type: "Ready", status: "True", reason: "Synced", message: `synced to ${c2} (refs/heads/main)` },
      ],
    });
    const text = await registry.metrics();
    expect(text).toContain(
      `ecs_log_operator_git_source_info{url="${server.url(repoName)}",ref="refs/heads/main",revision="${c2}"} 1`,
    );
    expect(text).toContain("ecs_log_operator_git_seconds_since_last_fetch 0");
    loop.abort();
    await running;
  });

  it("applies a push at once when the webhook is called, with the interval's clock standing still", async () => {
    await fresh();
    const clock = new ManualClock(Date.parse("2026-03-01T00:00:00Z"));
    const b = await source({ ...https(), "git-webhook-secret-file": webhookSecretFile }, { clock });
    await b.source.start();
    const webhook = b.webhook;
    if (webhook === undefined) throw new Error("no webhook");
    const http: Server = createServer((req, res) => {
      if (req.url === GIT_WEBHOOK_PATH) void serveWebhook(webhook, req, res);
      else res.writeHead(404).end();
    });
    const port = await freePort();
    await new Promise<void>((r) => http.listen(port, "127.0.0.1", () => r()));
    try {
      const pushed = await repo.commit({ "specs/metrics.yaml": namespace("metrics") }, "metrics namespace");
      const body = JSON.stringify({ ref: "refs/heads/main", after: pushed });
      const next = nextRevision(b);
      const unsigned = await fetch(`http://127.0.0.1:${port}${GIT_WEBHOOK_PATH}`, { method: "POST", body });
      expect(unsigned.status).toBe(401);
      const huge = await fetch(`http://127.0.0.1:${port}${GIT_WEBHOOK_PATH}`, {
        method: "POST",
        body: Buffer.alloc(2 * 1024 * 1024, 32),
      }).catch((e: unknown) => e);
      // The server answers 413 and closes; the client may see the answer or the closed connection.
      if (huge instanceof Response) expect(huge.status).toBe(413);
      expect((await fetch(`http://127.0.0.1:${port}${GIT_WEBHOOK_PATH}`)).status).toBe(405);
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}${GIT_WEBHOOK_PATH}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-hub-signature-256": `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`,
        },
        body,
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: true, fetch: "started" });
      expect((await next).revision).toBe(pushed);
      console.log(`git-source: webhook to new snapshot in ${Math.round(performance.now() - started)} ms`);
      expect(clock.now()).toBe(Date.parse("2026-03-01T00:00:00Z"));
    } finally {
      await new Promise<void>((r) => http.close(() => r()));
    }
  });

  it("keeps the previous revision when a push breaks a spec, and says which file and line", async () => {
    await fresh();
    const registry = new Registry();
    const b = await source(https(), { registry });
    const good = await b.source.start();
    const broken = await repo.commit({ "specs/broken.yaml": namespace("broken", "not-a-vpc") }, "a typo");
    const outcome = await b.source.refresh("manual");
    expect(outcome).toMatchObject({ result: "rejected", revision: broken, reason: "InvalidSpecs" });
    expect(b.source.current()?.revision).toBe(good.revision);
    const status = b.source.status();
    expect(status.revision).toBe(good.revision);
    expect(status.rejected?.message).toMatch(/^1 problem\(s\): specs\/broken\.yaml:6:\d+: /);
    expect(status.conditions[0]?.message).toContain(
      `commit ${broken} is refused: 1 problem(s): specs/broken.yaml:6:`,
    );
    expect(status.conditions[0]?.message).toContain(`; keeping ${good.revision}`);
    expect(await registry.metrics()).toContain("ecs_log_operator_git_revision_rejected 1");
    expect(logLines.some((l) => l.includes('"msg":"Git revision refused; the applied revision stays"'))).toBe(
      true,
    );
    // The fix is applied.
    const fixed = await repo.commit({ "specs/broken.yaml": namespace("broken") }, "fix the typo");
    expect(await b.source.refresh("manual")).toMatchObject({
      result: "applied",
      snapshot: { revision: fixed },
    });
  });

  it("keeps the previous revision when the push empties the spec path", async () => {
    await fresh();
    const b = await source(https());
    const good = await b.source.start();
    const emptied = await repo.commit(
      { "specs/logs.yaml": null, "specs/README.md": "moved\n" },
      "move the specs away",
    );
    expect(await b.source.refresh("manual")).toMatchObject({
      result: "rejected",
      revision: emptied,
      reason: "NoSpecs",
    });
    expect(b.source.current()?.revision).toBe(good.revision);
    const removed = await repo.commit({ "specs/README.md": null }, "remove the directory");
    expect(await b.source.refresh("manual")).toMatchObject({
      result: "rejected",
      revision: removed,
      reason: "PathNotFound",
    });
    expect(b.source.current()?.revision).toBe(good.revision);
  });

  it("changes nothing while the server is stopped, and picks up again when it is back", async () => {
    const registry = new Registry();
    const b = await source(https(), { registry });
    const good = await b.source.start();
    await server.stop();
    const outcome = await b.source.refresh("interval");
    expect(outcome).toMatchObject({ result: "failed", reason: "Unreachable" });
    expect(b.source.current()).toEqual(good);
    expect(readFileSync(join(good.dir, "logs.yaml"), "utf8")).toBe(namespace("logs"));
    expect(b.source.status()).toMatchObject({
      revision: good.revision,
      lastError: { reason: "Unreachable" },
    });
    expect(await registry.metrics()).toContain(
      'ecs_log_operator_git_fetch_failures_total{reason="Unreachable"} 1',
    );
    await server.listen();
    expect((await b.source.refresh("interval")).result).toBe("unchanged");
    expect(b.source.status().lastError).toBeUndefined();
  });

  it("follows a force-push to an older commit and applies that commit's specs", async () => {
    await fresh();
    const b = await source(https());
    const older = await b.source.start();
    const newer = await repo.commit({ "specs/tracing.yaml": namespace("tracing") }, "tracing namespace");
    expect(await b.source.refresh("manual")).toMatchObject({
      result: "applied",
      snapshot: { revision: newer },
    });
    await repo.forcePush(older.revision);
    const back = await b.source.refresh("manual");
    expect(back).toMatchObject({ result: "applied", snapshot: { revision: older.revision } });
    if (back.result !== "applied") throw new Error("not applied");
    expect(() => readFileSync(join(back.snapshot.dir, "tracing.yaml"))).toThrow(/ENOENT/);
  });

  it("fetches a tag and a pinned commit", async () => {
    await fresh();
    const head = (await source(https())).source;
    const at = await head.start();
    await repo.tag("v1.0.0", at.revision, true);
    const tagged = await (await source({ ...https(), "git-ref": "v1.0.0" })).source.start();
    expect(tagged).toMatchObject({ revision: at.revision, ref: "refs/tags/v1.0.0" });
    const pinned = await (await source({ ...https(), "git-ref": at.revision })).source.start();
    expect(pinned).toMatchObject({ revision: at.revision, ref: at.revision });
  });

  // Each row: flags, and the one sentence start() fails with. Never a stack trace, never the token.
  const unreachable = { "git-url": "http://127.0.0.1:9/specs.git" };
  it.each([
    [
      "an unreachable URL",
      () => unreachable,
      "Unreachable",
      /^cannot reach http:\/\/127\.0\.0\.1:9\/specs\.git: .*Couldn't connect to server$/,
    ],
    [
      "a repository that does not exist",
      () => ({ ...https(), "git-url": server.url("nope") }),
      "RepositoryNotFound",
      /^no repository at http:\/\/127\.0\.0\.1:\d+\/nope\.git: repository '.*' not found$/,
    ],
    [
      "a ref that does not exist",
      () => ({ ...https(), "git-ref": "release-9" }),
      "RefNotFound",
      /: no branch or tag "release-9" in the repository$/,
    ],
    [
      "a path missing in the repository",
      () => ({ ...https(), "git-path": "prod" }),
      "PathNotFound",
      /main|default branch.* at [0-9a-f]{40}: the path "prod" does not exist in this commit$/,
    ],
    [
      "a token file that cannot be read",
      () => ({ ...https(), "git-token-file": join(secrets, "missing") }),
      "CredentialsUnreadable",
      /^cannot read the token file .*missing: no such file$/,
    ],
    [
      "a wrong token",
      () => ({ ...https(), "git-token-file": webhookSecretFile }),
      "AuthenticationFailed",
      /refused the credentials: Authentication failed for/,
    ],
    [
      "no token at all",
      () => ({ "git-url": server.url(repoName) }),
      "AuthenticationFailed",
      /asks for credentials and none were given/,
    ],
  ])("%s: a clear error at start", async (_label, flags, reason, message) => {
    const b = await source(flags());
    const error = await b.source.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitSourceError);
    expect((error as GitSourceError).reason).toBe(reason);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/\n\s+at /);
    expect((error as Error).message).not.toContain(TOKEN);
    expect(JSON.stringify(b.source.status())).not.toContain(TOKEN);
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });

  it("hands the token to git by its environment only: in no argument, no URL, no log, no status", async () => {
    const trace = mkdtempSync(join(tmpdir(), "git-trace-"));
    // A git that records its arguments, and (GIT_TRACE) every command it starts with theirs: the remote helper,
    // the credential helper, upload-pack's client.
    const wrapper = join(trace, "git");
    writeFileSync(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "$*" >> ${join(trace, "argv")}\nGIT_TRACE=${join(trace, "trace")} exec git "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const settings = gitSourceSettings({ ...https(), "git-interval": INTERVAL }, []);
    if (settings === undefined) throw new Error("no settings");
    const before = server.authorizations.length;
    logLines = [];
    const b = await buildGitSource(settings, {
      logger: new JsonLogger({ write: (l) => logLines.push(l), level: "debug" }),
      check: specRevisionCheck(allKinds(), undefined),
      git: wrapper,
    });
    built.push(b);
    await b.source.start();
    const argv = readFileSync(join(trace, "argv"), "utf8");
    const traced = readFileSync(join(trace, "trace"), "utf8");
    expect(argv).toContain("ls-remote");
    expect(argv).toContain("fetch --depth=1");
    expect(traced).toMatch(/run_command: .*ECS_LOG_OPERATOR_GIT_TOKEN.* get/);
    expect(argv + traced).not.toContain(TOKEN);
    expect(argv + traced).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString("base64"));
    expect(logLines.join("\n") + JSON.stringify(b.source.status())).not.toContain(TOKEN);
    // It did reach the server, as basic auth.
    expect(server.authorizations.slice(before)).toContain(
      `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`,
    );
    rmSync(trace, { recursive: true, force: true });
  });
});

describe("a Git source over SSH (OpenSSH's sshd on loopback)", () => {
  let sshd: SshServer;
  beforeAll(async () => {
    sshd = await SshServer.start();
  });
  afterAll(async () => {
    await sshd?.close();
  });
  const ssh = () => ({
    "git-url": sshd.url(repo.bare),
    "git-path": "specs",
    "git-ssh-key-file": sshd.clientKeyFile,
    "git-known-hosts-file": sshd.knownHostsFile,
  });

  it("fetches with the key file, checking the host key against the known-hosts file", async () => {
    const snapshot = await (await source(ssh())).source.start();
    expect(snapshot).toMatchObject({ revision: initial, ref: "refs/heads/main" });
    expect(readFileSync(join(snapshot.dir, "logs.yaml"), "utf8")).toBe(namespace("logs"));
  });

  it.each([
    [
      "a host key not in the known-hosts file",
      "other_host",
      "HostKeyVerificationFailed",
      /^the SSH host key of ssh:\/\/.* is not the one in the known-hosts file: Host key verification failed\.$/,
    ],
    [
      "a key the server does not accept",
      "other_key",
      "AuthenticationFailed",
      /refused the credentials: .*Permission denied \(publickey\)/,
    ],
    [
      "a key file that cannot be read",
      "missing_key",
      "CredentialsUnreadable",
      /^cannot read the SSH key file .*missing_key: no such file$/,
    ],
  ])("%s: a clear error", async (_label, which, reason, message) => {
    const dir = mkdtempSync(join(tmpdir(), "ssh-bad-"));
    const flags = ssh();
    if (which === "other_host") {
      writeFileSync(
        join(dir, "known_hosts"),
        readFileSync(sshd.knownHostsFile, "utf8").replace(
          /ssh-ed25519 \S+/,
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        ),
      );
      flags["git-known-hosts-file"] = join(dir, "known_hosts");
    } else if (which === "other_key") {
      writeFileSync(join(dir, "other_key"), readFileSync(join(sshd.dir, "host_key")));
      flags["git-ssh-key-file"] = join(dir, "other_key");
    } else {
      flags["git-ssh-key-file"] = join(dir, "missing_key");
    }
    const error = await (await source(flags)).source.start().catch((e: unknown) => e);
    rmSync(dir, { recursive: true, force: true });
    expect((error as GitSourceError).reason).toBe(reason);
    expect((error as Error).message).toMatch(message);
  });
});
