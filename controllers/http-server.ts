import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { ControllerServer } from "./controller.ts";

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
  /** More endpoints, each on its own path and methods (the Git source's webhook); the paths above are not taken. */
  readonly routes?: readonly HttpRoute[] | undefined;
}

/** An endpoint beside the server's own: the requests for `path` go to `handle`, those with another method get 405. */
export interface HttpRoute {
  readonly path: string;
  readonly methods: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function parseBindAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid bind address "${address}" (use HOST:PORT or :PORT, e.g. :9464)`);
  }
  const host = m[1] ?? m[2];
  return { host: host === "" ? undefined : host, port };
}

/** `/metrics`, `/healthz`, `/readyz` and `/status` on node:http. */
export class HttpServer implements ControllerServer {
  private readonly options: HttpServerOptions;
  private readonly server: Server;
  private boundPort = 0;

  constructor(options: HttpServerOptions) {
    this.options = options;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    });
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
    switch (path) {
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
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(this.options.status(), null, 2) + "\n");
        return;
      }
      default:
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    }
  }
}
