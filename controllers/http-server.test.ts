import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { bearerTokenAuthorizer, TokenFile, TokenFileError } from "./http-auth.ts";
import { HttpServer, parseBindAddress } from "./http-server.ts";

describe("parseBindAddress", () => {
  it.each([
    [":9464", { host: undefined, port: 9464 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["[::1]:8080", { host: "::1", port: 8080 }],
    ["localhost:9464", { host: "localhost", port: 9464 }],
  ])("%s", (text, want) => {
    expect(parseBindAddress(text)).toEqual(want);
  });
  it.each(["9464", ":", ":99999", "host:port"])("rejects %s", (text) => {
    expect(() => parseBindAddress(text)).toThrow(/invalid bind address/);
  });
});

describe("HttpServer", () => {
  let server: HttpServer | undefined;
  afterEach(async () => server?.close());

  it("serves metrics, health, readiness and status", async () => {
    const registry = new Registry();
    new Counter({ name: "test_things_total", help: "things", registers: [registry] }).inc(3);
    let ready = false;
    server = new HttpServer({
      bindAddress: "127.0.0.1:0",
      registry,
      alive: () => true,
      ready: () => ({ ready, phase: ready ? "ready" : "syncing" }),
      status: () => ({ resources: [{ key: "Widget/a" }] }),
    });
    await server.listen();
    const url = (p: string) => `http://127.0.0.1:${server?.port}${p}`;
    const metrics = await fetch(url("/metrics"));
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(await metrics.text()).toContain("test_things_total 3");
    expect((await fetch(url("/healthz"))).status).toBe(200);
    const notReady = await fetch(url("/readyz"));
    expect([notReady.status, await notReady.text()]).toEqual([503, "not ready: syncing\n"]);
    ready = true;
    expect((await fetch(url("/readyz"))).status).toBe(200);
    expect(await (await fetch(url("/status"))).json()).toEqual({ resources: [{ key: "Widget/a" }] });
    expect((await fetch(url("/nope"))).status).toBe(404);
    expect((await fetch(url("/metrics"), { method: "POST" })).status).toBe(405);
  });

  it("hands a route's path to its handler for its methods only, and keeps its own paths as they are", async () => {
    const seen: string[] = [];
    server = new HttpServer({
      bindAddress: "127.0.0.1:0",
      registry: new Registry(),
      alive: () => true,
      ready: () => ({ ready: true, phase: "ready" }),
      status: () => ({ resources: [] }),
      routes: [
        {
          path: "/hooks/git",
          methods: ["POST"],
          handle: async (req, res) => {
            seen.push(`${req.method} ${req.url}`);
            res.writeHead(202).end("queued\n");
          },
        },
      ],
    });
    await server.listen();
    const url = (p: string) => `http://127.0.0.1:${server?.port}${p}`;
    const posted = await fetch(url("/hooks/git?x=1"), { method: "POST", body: "{}" });
    expect([posted.status, await posted.text()]).toEqual([202, "queued\n"]);
    const got = await fetch(url("/hooks/git"));
    expect([got.status, got.headers.get("allow")]).toEqual([405, "POST"]);
    expect(seen).toEqual(["POST /hooks/git?x=1"]);
    expect((await fetch(url("/status"), { method: "POST" })).status).toBe(405);
    expect((await fetch(url("/hooks/other"), { method: "POST" })).status).toBe(405);
    expect((await fetch(url("/healthz"))).status).toBe(200);
  });
});

describe("HttpServer: the status page and the bearer token", () => {
  let server: HttpServer | undefined;
  afterEach(async () => server?.close());

  const start = async (
    options: Partial<ConstructorParameters<typeof HttpServer>[0]> = {},
  ): Promise<string> => {
    server = new HttpServer({
      bindAddress: "127.0.0.1:0",
      registry: new Registry(),
      alive: () => true,
      ready: () => ({ ready: true, phase: "ready" }),
      status: () => ({ phase: "ready", generatedAt: "2026-12-01T12:00:00.000Z", resources: [] }),
      ...options,
    });
    await server.listen();
    return `http://127.0.0.1:${server.port}`;
  };

  it("serves the status page at / from what /status serves, read-only and with a strict CSP", async () => {
    const base = await start();
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const page = await res.text();
    expect(page).toContain('data-phase="ready"');
    expect(page).toContain('<meta http-equiv="refresh"');
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(405);
  });

  it("asks for the token on /, /status and /metrics, and leaves /healthz and /readyz open", async () => {
    const base = await start({ authorize: bearerTokenAuthorizer(() => "s3cret-token") });
    for (const path of ["/", "/status", "/metrics"]) {
      const res = await fetch(base + path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers.get("www-authenticate")).toBe(
        'Basic realm="ecs-log-operator", charset="UTF-8", Bearer realm="ecs-log-operator"',
      );
      const wrong = await fetch(base + path, { headers: { authorization: "Bearer s3cret-tokem" } });
      expect([path, wrong.status]).toEqual([path, 401]);
      const bearer = await fetch(base + path, { headers: { authorization: "Bearer s3cret-token" } });
      expect([path, bearer.status]).toEqual([path, 200]);
      const basic = Buffer.from("anyone:s3cret-token").toString("base64");
      expect((await fetch(base + path, { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // An unknown path says nothing about whether it exists before the token is checked either way.
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("leaves a route to check its own requests: the webhook's Bearer secret is not the metrics token", async () => {
    const seen: (string | undefined)[] = [];
    const base = await start({
      authorize: bearerTokenAuthorizer(() => "s3cret-token"),
      routes: [
        {
          path: "/hooks/git",
          methods: ["POST"],
          handle: async (req, res) => {
            seen.push(req.headers.authorization);
            res.writeHead(202).end();
          },
        },
      ],
    });
    const hook = await fetch(`${base}/hooks/git`, {
      method: "POST",
      headers: { authorization: "Bearer webhook-secret" },
      body: "{}",
    });
    expect(hook.status).toBe(202);
    expect(seen).toEqual(["Bearer webhook-secret"]);
    const status = await fetch(`${base}/status`, { headers: { authorization: "Bearer webhook-secret" } });
    expect(status.status).toBe(401);
  });
});

describe("bearerTokenAuthorizer", () => {
  const accept = bearerTokenAuthorizer(() => "tok");
  it.each([
    ["Bearer tok", true],
    ["bearer tok", true],
    [`Basic ${Buffer.from("u:tok").toString("base64")}`, true],
    [`Basic ${Buffer.from(":tok").toString("base64")}`, true],
    [`Basic ${Buffer.from("tok").toString("base64")}`, false],
    [`Basic ${Buffer.from("tok:x").toString("base64")}`, false],
    ["Bearer tok2", false],
    ["Bearer", false],
    ["tok", false],
    [undefined, false],
  ])("%s -> %s", (header, ok) => {
    expect(accept(header)).toBe(ok);
  });
  it("accepts nothing while the token is empty", () => {
    expect(bearerTokenAuthorizer(() => "")("Bearer ")).toBe(false);
  });
});

describe("TokenFile", () => {
  it("reads the token, and reads it again once the file changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "token-"));
    try {
      const path = join(dir, "token");
      writeFileSync(path, "first-token\n");
      const clock = new ManualClock(0);
      const file = new TokenFile(path, { clock, checkEveryMs: 1000 });
      expect(file.read()).toBe("first-token");
      writeFileSync(path, "second-token\n");
      utimesSync(path, new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2030, 0, 1)));
      expect(file.read()).toBe("first-token");
      await clock.advance(1000);
      expect(file.read()).toBe("second-token");
      // Emptied while a secret is replaced: the last token stays.
      writeFileSync(path, "");
      utimesSync(path, new Date(Date.UTC(2031, 0, 1)), new Date(Date.UTC(2031, 0, 1)));
      await clock.advance(1000);
      expect(file.read()).toBe("second-token");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["", /is empty/],
    ["two words", /white space inside it/],
  ])("rejects %j", (text, message) => {
    const dir = mkdtempSync(join(tmpdir(), "token-"));
    try {
      writeFileSync(join(dir, "t"), text);
      expect(() => new TokenFile(join(dir, "t"))).toThrow(TokenFileError);
      expect(() => new TokenFile(join(dir, "t"))).toThrow(message);
      expect(() => new TokenFile(join(dir, "missing"))).toThrow(/cannot read the token file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
