import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { systemClock, type Clock } from "../clock.ts";
import type { HttpRoute } from "../http-server.ts";
import { silentLogger, type Logger } from "../logger.ts";
import type { SecretSource } from "./credentials.ts";
import type { GitSourceMetrics } from "./git-source-metrics.ts";

/** Where the HTTP server mounts the webhook (on the metrics port). */
export const GIT_WEBHOOK_PATH = "/hooks/git";

/** A request as the handler needs it: the body is read by the server (at most `WEBHOOK_MAX_BODY_BYTES`). */
export interface WebhookRequest {
  readonly method: string;
  /** Lowercase names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

export interface WebhookResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** GitHub caps a delivery at 25 MB; a push's payload is far smaller, and nothing of it is used but its signature. */
export const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

export interface GitWebhookOptions {
  /** The shared secret: the HMAC key of `X-Hub-Signature-256`, or the bearer secret. Read at each request. */
  readonly secret: SecretSource;
  /** Starts a fetch (the source's `refresh("webhook")`). */
  readonly fetch: () => void;
  readonly clock?: Clock;
  /** At most one fetch this often; a request in between queues one fetch at the end of the window. Default 5 s. */
  readonly minFetchIntervalMs?: number;
  /** Requests answered a second on average, and in a burst, before 429 (checked before the secret). Default 2 and 20. */
  readonly requestsPerSecond?: number;
  readonly burst?: number;
  readonly logger?: Logger;
  readonly metrics?: GitSourceMetrics | undefined;
}

/**
 * Refresh on demand: an authenticated POST starts a fetch of the Git source, so a push applies in seconds rather than
 * at the next interval. Nothing in the request is trusted or used but its proof of the shared secret: the fetch asks
 * the remote itself which commit the ref names, so a forged or replayed body can at most cause one more fetch.
 *
 * Accepted proofs: `X-Hub-Signature-256: sha256=HMAC` over the raw body (GitHub, Gitea, Forgejo, Bitbucket), or the
 * secret itself in `Authorization: Bearer SECRET` or `X-Gitlab-Token: SECRET` (GitLab, curl from a CI job). Secrets are
 * compared in constant time. Requests beyond the rate limit get 429 before the secret is checked; fetches are
 * coalesced to one per `minFetchIntervalMs`, the last request in a burst always followed by one.
 */
export class GitWebhook {
  private readonly options: GitWebhookOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly minFetchIntervalMs: number;
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private tokensAt: number;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private pending: AbortController | undefined;
  private readonly closed = new AbortController();

  constructor(options: GitWebhookOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.minFetchIntervalMs = options.minFetchIntervalMs ?? 5000;
    this.rate = options.requestsPerSecond ?? 2;
    this.burst = options.burst ?? 20;
    this.tokens = this.burst;
    this.tokensAt = this.clock.now();
  }

  async handle(req: WebhookRequest): Promise<WebhookResponse> {
    if (req.method !== "POST") {
      this.options.metrics?.webhook("invalid");
      return reply(405, { error: "POST only" }, { allow: "POST" });
    }
    if (!this.takeToken()) {
      this.options.metrics?.webhook("rate_limited");
      const retry = Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
      return reply(429, { error: "too many requests" }, { "retry-after": String(retry) });
    }
    let secret: string;
    try {
      secret = await this.options.secret.read();
    } catch (error) {
      this.logger.error("webhook secret unreadable; webhook requests are refused", { error });
      return reply(503, { error: "the webhook secret cannot be read" });
    }
    if (!authentic(req, secret)) {
      this.options.metrics?.webhook("unauthorized");
      this.logger.info("webhook request refused: no valid signature or secret");
      return reply(
        401,
        { error: "a valid X-Hub-Signature-256 or bearer secret is required" },
        {
          "www-authenticate": 'Bearer realm="ecs-log-operator"',
        },
      );
    }
    const event =
      header(req, "x-github-event") ?? header(req, "x-gitea-event") ?? header(req, "x-gitlab-event");
    if (event === "ping") {
      this.options.metrics?.webhook("ignored");
      return reply(200, { accepted: false, note: "ping received; pushes start a fetch" });
    }
    this.options.metrics?.webhook("accepted");
    return reply(202, { accepted: true, fetch: this.requestFetch() });
  }

  /** The answer to a body over `WEBHOOK_MAX_BODY_BYTES` (the server stops reading it). */
  tooLarge(): WebhookResponse {
    this.options.metrics?.webhook("invalid");
    return reply(413, { error: `body larger than ${WEBHOOK_MAX_BODY_BYTES} bytes` }, { connection: "close" });
  }

  /** Cancels a queued fetch. */
  close(): void {
    this.closed.abort();
    this.pending?.abort();
  }

  /** Starts a fetch now, or queues one at the end of the current window (at most one queued). */
  private requestFetch(): "started" | "queued" {
    const now = this.clock.now();
    if (this.pending !== undefined) return "queued";
    const wait = this.lastFetchAt + this.minFetchIntervalMs - now;
    if (wait <= 0) {
      this.lastFetchAt = now;
      this.options.fetch();
      return "started";
    }
    const pending = new AbortController();
    this.pending = pending;
    const signal = AbortSignal.any([pending.signal, this.closed.signal]);
    this.clock.sleep(wait, signal).then(
      () => {
        this.pending = undefined;
        this.lastFetchAt = this.clock.now();
        this.options.fetch();
      },
      () => {
        if (this.pending === pending) this.pending = undefined;
      },
    );
    return "queued";
  }

  private takeToken(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function header(req: WebhookRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Constant-time equality of two strings of any lengths (both are hashed to equal-length digests first). */
function sameSecret(a: string, b: string): boolean {
  const key = "ecs-log-operator-webhook";
  const da = createHmac("sha256", key).update(a).digest();
  const db = createHmac("sha256", key).update(b).digest();
  return timingSafeEqual(da, db);
}

function authentic(req: WebhookRequest, secret: string): boolean {
  const signature = header(req, "x-hub-signature-256");
  if (signature !== undefined) {
    const expected = `sha256=${createHmac("sha256", secret).update(req.body).digest("hex")}`;
    return sameSecret(signature.trim().toLowerCase(), expected);
  }
  const auth = header(req, "authorization");
  const bearer = auth !== undefined ? /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] : undefined;
  const token = bearer ?? header(req, "x-gitlab-token");
  return token !== undefined && token !== "" && sameSecret(token, secret);
}

function reply(status: number, body: unknown, headers: Record<string, string> = {}): WebhookResponse {
  return {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body) + "\n",
  };
}

/**
 * node:http glue: reads the body (413 beyond `WEBHOOK_MAX_BODY_BYTES`), calls the handler, writes its answer. For the
 * HTTP server to call on `POST /hooks/git`.
 */
export async function serveWebhook(
  webhook: GitWebhook,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  const tooLarge = Number(req.headers["content-length"] ?? 0) > WEBHOOK_MAX_BODY_BYTES;
  if (!tooLarge) {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > WEBHOOK_MAX_BODY_BYTES) break;
      chunks.push(chunk);
    }
  }
  const over = tooLarge || size > WEBHOOK_MAX_BODY_BYTES;
  const answer = over
    ? webhook.tooLarge()
    : await webhook.handle({
        method: req.method ?? "GET",
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
  res.writeHead(answer.status, answer.headers).end(answer.body);
  if (over) req.destroy();
}

/** The webhook as the HTTP server's route: `POST /hooks/git` only; the server's own paths are unchanged. */
export function webhookRoute(webhook: GitWebhook): HttpRoute {
  return { path: GIT_WEBHOOK_PATH, methods: ["POST"], handle: (req, res) => serveWebhook(webhook, req, res) };
}
