import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer, type Server as TlsServer } from "node:https";
import type { Registry } from "prom-client";
import { systemClock, type Clock } from "./clock.ts";
import type { ControllerServer } from "./controller.ts";
import { AUTH_CHALLENGES } from "./http-auth.ts";
import { readStatusDocument } from "./status-model.ts";
import { renderStatusPage, STATUS_PAGE_CSP } from "./status-page.ts";

/** A PEM certificate chain and its private key. */
export interface TlsKeyPair {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface HttpServerOptions {
  /** `HOST:PORT`, `:PORT` (every interface) or `[::1]:PORT`; port 0 picks a free one. */
  readonly bindAddress: string;
  readonly registry: Registry;
  /** The process can serve: `/healthz`. */
  readonly alive: () => boolean;
  /** Specs loaded and first sync done: `/readyz`. */
  readonly ready: () => { ready: boolean; phase: string };
  /** Each resource's state: `/status`. */
  readonly status: () => unknown;
  /** `/`, the page for people. Default: the status page, rendered from `status()`. */
  readonly page?: ((status: unknown) => string) | undefined;
  /** Serves HTTPS with this key pair instead of HTTP. */
  readonly tls?: TlsKeyPair | undefined;
  /**
   * When set, `/`, `/status` and `/metrics` answer only the requests it accepts (given their Authorization header);
   * `/healthz` and `/readyz` stay open, for ECS's and the load balancer's health checks.
   */
  readonly authorize?: ((authorization: string | undefined) => boolean) | undefined;
  /** For the page's ages when the status carries no time of its own. */
  readonly clock?: Clock;
  /**
   * More endpoints, each on its own path and methods (the Git source's webhook); the paths above are not taken. A route
   * authenticates its own requests (the webhook checks its signature or secret): `authorize` does not guard it.
   */
  readonly routes?: readonly HttpRoute[] | undefined;
}

/** An endpoint beside the server's own: the requests for `path` go to `handle`, those with another method get 405. */
export interface HttpRoute {
  readonly path: string;
  readonly methods: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const PROTECTED = new Set(["/", "/status", "/metrics"]);

export function parseBindAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid bind address "${address}" (use HOST:PORT or :PORT, e.g. :9464)`);
  }
  const host = m[1] ?? m[2];
  return { host: host === "" ? undefined : host, port };
}

/** `/metrics`, `/healthz`, `/readyz`, `/status` and the status page `/` on node:http, or node:https with `tls`. */
export class HttpServer implements ControllerServer {
  private readonly options: HttpServerOptions;
  private readonly server: Server | TlsServer;
  private boundPort = 0;

  constructor(options: HttpServerOptions) {
    this.options = options;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    };
    this.server =
      options.tls !== undefined
        ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
        : createServer(handler);
  }

  /** A renewed certificate: taken for new connections, without a restart. Only for a server started with `tls`. */
  updateTls(tls: TlsKeyPair): void {
    if (!("setSecureContext" in this.server)) throw new Error("this server was not started with TLS");
    this.server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return this.options.bindAddress;
  }

  async listen(): Promise<void> {
    const { host, port } = parseBindAddress(this.options.bindAddress);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this.boundPort = typeof addr === "object" && addr !== null ? addr.port : port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Prometheus keeps its scrape connection alive; idle sockets would hold close() open.
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = this.options.routes?.find((r) => r.path === path);
    if (route !== undefined) {
      if (route.methods.includes(req.method ?? "")) await route.handle(req, res);
      else res.writeHead(405, { allow: route.methods.join(", ") }).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const authorize = this.options.authorize;
    if (authorize !== undefined && PROTECTED.has(path) && !authorize(req.headers.authorization)) {
      res
        .writeHead(401, { "content-type": "text/plain; charset=utf-8", "www-authenticate": AUTH_CHALLENGES })
        .end("unauthorized: send the token as `Authorization: Bearer TOKEN`\n");
      return;
    }
    switch (path) {
      case "/": {
        const status = this.options.status();
        const body =
          this.options.page?.(status) ??
          renderStatusPage(readStatusDocument(status), {
            now: (this.options.clock ?? systemClock).now(),
          });
        res
          .writeHead(200, {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": STATUS_PAGE_CSP,
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",
            "cache-control": "no-store",
          })
          .end(body);
        return;
      }
      case "/metrics": {
        const body = await this.options.registry.metrics();
        res.writeHead(200, { "content-type": this.options.registry.contentType }).end(body);
        return;
      }
      case "/healthz": {
        const ok = this.options.alive();
        res
          .writeHead(ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" })
          .end(ok ? "ok\n" : "not alive\n");
        return;
      }
      case "/readyz": {
        const { ready, phase } = this.options.ready();
        res
          .writeHead(ready ? 200 : 503, { "content-type": "text/plain; charset=utf-8" })
          .end(ready ? "ok\n" : `not ready: ${phase}\n`);
        return;
      }
      case "/status": {
        res
          .writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
          .end(JSON.stringify(this.options.status(), null, 2) + "\n");
        return;
      }
      default:
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    }
  }
}
