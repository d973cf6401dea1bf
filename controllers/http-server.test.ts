import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
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
