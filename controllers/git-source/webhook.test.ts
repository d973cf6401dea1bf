import { createHmac } from "node:crypto";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import type { SecretSource } from "./credentials.ts";
import { GitSourceError } from "./git-errors.ts";
import { GitSourceMetrics } from "./git-source-metrics.ts";
import { GitWebhook, type WebhookRequest } from "./webhook.ts";

const SECRET = "a-shared-webhook-secret";
const secret = (value: string | Error = SECRET): SecretSource => ({
  description: "the webhook secret file /run/secrets/hook",
  read: async () => {
    if (value instanceof Error) throw value;
    return value;
  },
  invalidate: () => undefined,
});

// A real GitHub push delivery's shape; the handler reads nothing of it but its signature.
const body = Buffer.from(
  JSON.stringify({ ref: "refs/heads/main", after: "0".repeat(40), repository: { full_name: "acme/specs" } }),
);
const sign = (b: Buffer, key = SECRET): string =>
  `sha256=${createHmac("sha256", key).update(b).digest("hex")}`;

function setup(
  options: {
    minFetchIntervalMs?: number;
    requestsPerSecond?: number;
    burst?: number;
    secret?: SecretSource;
  } = {},
) {
  const clock = new ManualClock(0);
  const registry = new Registry();
  let fetches = 0;
  const webhook = new GitWebhook({
    secret: options.secret ?? secret(),
    fetch: () => void fetches++,
    clock,
    minFetchIntervalMs: options.minFetchIntervalMs,
    requestsPerSecond: options.requestsPerSecond,
    burst: options.burst,
    metrics: new GitSourceMetrics(registry, { clock }),
  });
  return { clock, webhook, registry, fetches: () => fetches };
}

const push = (headers: Record<string, string>, b: Buffer = body): WebhookRequest => ({
  method: "POST",
  headers: { "content-type": "application/json", "x-github-event": "push", ...headers },
  body: b,
});

describe("GitWebhook", () => {
  it.each([
    ["GitHub's X-Hub-Signature-256", { "x-hub-signature-256": sign(body) }],
    [
      "the same signature in upper case",
      { "x-hub-signature-256": sign(body).toUpperCase().replace("SHA256=", "sha256=") },
    ],
    ["a bearer secret", { authorization: `Bearer ${SECRET}` }],
    ["GitLab's X-Gitlab-Token", { "x-gitlab-token": SECRET }],
  ])("starts a fetch for a request proven by %s", async (_label, headers) => {
    const { webhook, fetches } = setup();
    const res = await webhook.handle(push(headers));
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ accepted: true, fetch: "started" });
    expect(fetches()).toBe(1);
  });

  it.each([
    ["no proof", {}],
    ["a signature with another key", { "x-hub-signature-256": sign(body, "guess") }],
    ["a signature of another body", { "x-hub-signature-256": sign(Buffer.from("{}")) }],
    ["a signature without its sha256= prefix", { "x-hub-signature-256": sign(body).slice(7) }],
    ["a wrong bearer secret", { authorization: "Bearer a-shared-webhook-secreT" }],
    ["a bearer secret that is a prefix", { authorization: "Bearer a-shared" }],
    ["an empty GitLab token", { "x-gitlab-token": "" }],
    ["basic auth", { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString("base64")}` }],
  ])("refuses %s with 401 and starts nothing", async (_label, headers) => {
    const { webhook, fetches } = setup();
    const res = await webhook.handle(push(headers));
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(res.body).not.toContain(SECRET);
    expect(fetches()).toBe(0);
  });

  it("a valid signature over a body that changed on the way is refused", async () => {
    const { webhook, fetches } = setup();
    const tampered = Buffer.from(body.toString().replace("main", "evil"));
    expect((await webhook.handle(push({ "x-hub-signature-256": sign(body) }, tampered))).status).toBe(401);
    expect(fetches()).toBe(0);
  });

  it("answers GitHub's ping without fetching, and anything but POST with 405", async () => {
    const { webhook, fetches } = setup();
    const ping = await webhook.handle(push({ "x-github-event": "ping", "x-hub-signature-256": sign(body) }));
    expect(ping.status).toBe(200);
    const get = await webhook.handle({ method: "GET", headers: {}, body: Buffer.alloc(0) });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    expect(fetches()).toBe(0);
  });

  it("coalesces fetches to one a window, and always follows the last request of a burst with one", async () => {
    const { clock, webhook, fetches } = setup({ minFetchIntervalMs: 5000 });
    const auth = { authorization: `Bearer ${SECRET}` };
    expect(JSON.parse((await webhook.handle(push(auth))).body).fetch).toBe("started");
    await clock.advance(1000);
    expect(JSON.parse((await webhook.handle(push(auth))).body).fetch).toBe("queued");
    expect(JSON.parse((await webhook.handle(push(auth))).body).fetch).toBe("queued");
    expect(fetches()).toBe(1);
    await clock.advance(3999);
    expect(fetches()).toBe(1);
    await clock.advance(1);
    expect(fetches()).toBe(2);
    await clock.advance(60_000);
    expect(fetches()).toBe(2);
    expect(JSON.parse((await webhook.handle(push(auth))).body).fetch).toBe("started");
    expect(fetches()).toBe(3);
  });

  it("rate-limits requests before checking them: 429 with Retry-After, then recovers", async () => {
    const { clock, webhook, registry } = setup({ requestsPerSecond: 1, burst: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await webhook.handle(push({}))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await webhook.handle(push({ authorization: `Bearer ${SECRET}` }));
    expect(limited.headers["retry-after"]).toBe("1");
    await clock.advance(1000);
    expect((await webhook.handle(push({ authorization: `Bearer ${SECRET}` }))).status).toBe(202);
    const text = await registry.metrics();
    expect(text).toContain('ecs_log_operator_git_webhook_requests_total{result="unauthorized"} 3');
    expect(text).toContain('ecs_log_operator_git_webhook_requests_total{result="rate_limited"} 3');
    expect(text).toContain('ecs_log_operator_git_webhook_requests_total{result="accepted"} 1');
  });

  it("answers 503 without detail when its secret cannot be read", async () => {
    const { webhook, fetches } = setup({
      secret: secret(
        new GitSourceError(
          "CredentialsUnreadable",
          "cannot read the webhook secret file /run/secrets/hook: no such file",
        ),
      ),
    });
    const res = await webhook.handle(push({ authorization: `Bearer ${SECRET}` }));
    expect(res.status).toBe(503);
    expect(res.body).not.toContain("/run/secrets");
    expect(fetches()).toBe(0);
  });

  it("close cancels a queued fetch", async () => {
    const { clock, webhook, fetches } = setup({ minFetchIntervalMs: 5000 });
    const auth = { authorization: `Bearer ${SECRET}` };
    await webhook.handle(push(auth));
    await webhook.handle(push(auth));
    webhook.close();
    await clock.advance(10_000);
    expect(fetches()).toBe(1);
  });
});
