import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { setTimeout as delay } from "node:timers/promises";
import { Counter, Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../cmd/cli-support.ts";
import { getCommand } from "../../cmd/commands/get.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import { metricsServing, TlsRenewingServer } from "../../cmd/metrics-serving.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { freePort } from "../free-port.ts";
import { HttpServer } from "../../controllers/http-server.ts";
import { logClusterStatus } from "../fixtures/status/log-cluster-status.ts";
import { selfSignedCertificate } from "./tls-files.ts";
import { captureOutput } from "../captured-output.ts";

// The metrics port over TLS and behind a bearer token, as `run --metrics-tls-cert-file --metrics-tls-key-file
// --metrics-bearer-token-file` serves it (status-page-browser.test.ts runs `run` itself with them): checked with openssl-made certificates, `get --ca-file --token-file`,
// and a real Prometheus that scrapes with an `authorization` header (manifests/deploy/prometheus/prometheus-tls.yml).

const temp = mkdtempSync(join(tmpdir(), "metrics-tls-"));
const tokenFile = join(temp, "token");
let certs: { cert: string; key: string };
let other: { cert: string; key: string };
let server: HttpServer;
let base = "";
let prometheus: ChildProcess | undefined;

beforeAll(async () => {
  certs = selfSignedCertificate(temp, "operator");
  other = selfSignedCertificate(temp, "other");
  writeFileSync(tokenFile, "metrics-token-4f9d2c\n");
  const doc = await logClusterStatus();
  const registry = new Registry();
  new Counter({ name: "ecs_log_operator_tls_test_total", help: "a sample", registers: [registry] }).inc();
  const serving = metricsServing({
    "metrics-tls-cert-file": certs.cert,
    "metrics-tls-key-file": certs.key,
    "metrics-bearer-token-file": tokenFile,
  });
  expect(serving.scheme).toBe("https");
  server = new HttpServer({
    bindAddress: "127.0.0.1:0",
    registry,
    alive: () => true,
    ready: () => ({ ready: true, phase: "ready" }),
    status: () => doc,
    ...serving.server,
  });
  await server.listen();
  base = `https://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  await server?.close();
  rmSync(temp, { recursive: true, force: true });
});

/** The SHA-256 fingerprint of a PEM certificate, as `getPeerCertificate` gives it. */
function peerFingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("the metrics port over TLS with a bearer token", () => {
  it("get reads /status with the CA and the token; says what is missing otherwise", async () => {
    const io = captureOutput();
    expect(await getCommand(["--server", base, "--ca-file", certs.cert, "--token-file", tokenFile], io)).toBe(
      0,
    );
    expect(io.stdout).toMatch(/^CloudMapService\/fluentd\s+True\s+True\s+NoFreeEni/m);

    const untrusted = captureOutput();
    expect(await main(["get", "--server", base, "--token-file", tokenFile], untrusted)).toBe(1);
    expect(untrusted.stderr).toMatch(
      /^ecs-log-operator get: the certificate of https:\/\/127\.0\.0\.1:\d+\/ is not trusted \([A-Z_]+\): pass --ca-file FILE with the CA that signed it\n$/,
    );
    const noToken = captureOutput();
    expect(await main(["get", "--server", base, "--ca-file", certs.cert], noToken)).toBe(1);
    expect(noToken.stderr).toContain("asks for a token: pass --token-file FILE");
    const plain = captureOutput();
    expect(
      await main(["get", "--server", base.replace("https:", "http:"), "--token-file", tokenFile], plain),
    ).toBe(1);
    expect(plain.stderr).toMatch(
      /^ecs-log-operator get: (the connection to|cannot reach the controller at) http:\/\/127\.0\.0\.1/,
    );
    // /healthz stays open, over TLS.
    const health = captureOutput();
    expect(
      await getCommand(
        ["--server", `${base}/healthz-is-not-status`, "--ca-file", certs.cert, "--token-file", tokenFile],
        health,
      ).catch((e: Error) => e.message),
    ).toMatch(/has no \/status/);
  });

  it("is scraped by a real Prometheus with an authorization header and the operator's CA", async () => {
    const port = await freePort();
    const dir = join(temp, "prometheus");
    const config = readFileSync(
      join(import.meta.dirname, "../../manifests/deploy/prometheus/prometheus-tls.yml"),
      "utf8",
    )
      .replace("/etc/prometheus/secrets/ecs-log-operator-token", tokenFile)
      .replace("/etc/prometheus/secrets/ecs-log-operator-ca.crt", certs.cert)
      .replace("server_name: ecs-log-operator.ops.local", "server_name: localhost")
      .replace("scrape_interval: 15s", "scrape_interval: 1s")
      .replace("scrape_timeout: 10s", "scrape_timeout: 1s")
      .replace(
        /dns_sd_configs:[\s\S]*?refresh_interval: 30s\n/,
        `static_configs:\n      - targets: ["127.0.0.1:${server.port}"]\n`,
      )
      .replace(/rule_files:\n {2}- alerts\.yml\n/, "");
    const configFile = join(temp, "prometheus.yml");
    writeFileSync(configFile, config);
    let log = "";
    prometheus = spawn(
      "prometheus",
      [`--config.file=${configFile}`, `--storage.tsdb.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const query = async (q: string): Promise<string | undefined> => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(
        () => undefined,
      );
      const body = (await res?.json().catch(() => undefined)) as
        { data?: { result?: { value?: [number, string] }[] } } | undefined;
      return body?.data?.result?.[0]?.value?.[1];
    };
    const deadline = Date.now() + 30_000;
    while ((await query("ecs_log_operator_tls_test_total")) !== "1") {
      if (Date.now() > deadline || prometheus.exitCode !== null) {
        throw new Error(`Prometheus did not scrape the operator over TLS:\n${log}`);
      }
      await delay(200);
    }
    expect(await query('up{job="ecs-log-operator"}')).toBe("1");
  });

  it("takes a renewed certificate for new connections, without a restart", async () => {
    const before = await peerFingerprint(server.port);
    const files = { cert: join(temp, "live.crt"), key: join(temp, "live.key") };
    copyFileSync(certs.cert, files.cert);
    copyFileSync(certs.key, files.key);
    const serving = metricsServing({
      "metrics-tls-cert-file": files.cert,
      "metrics-tls-key-file": files.key,
    });
    expect(serving.renewedTls()).toBeUndefined();
    copyFileSync(other.cert, files.cert);
    copyFileSync(other.key, files.key);
    const later = new Date(Date.now() + 60_000);
    utimesSync(files.cert, later, later);
    utimesSync(files.key, later, later);
    const renewed = serving.renewedTls();
    expect(renewed?.cert).toBe(readFileSync(other.cert, "utf8"));
    server.updateTls(renewed ?? { cert: "", key: "" });
    const after = await peerFingerprint(server.port);
    expect(after).not.toBe(before);
    server.updateTls({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) });
  });

  it("run's server takes a renewed certificate at its next check, without a restart", async () => {
    const files = { cert: join(temp, "renewing.crt"), key: join(temp, "renewing.key") };
    copyFileSync(certs.cert, files.cert);
    copyFileSync(certs.key, files.key);
    const serving = metricsServing({
      "metrics-tls-cert-file": files.cert,
      "metrics-tls-key-file": files.key,
    });
    const clock = new ManualClock(0);
    const renewing = new TlsRenewingServer(
      new HttpServer({
        bindAddress: "127.0.0.1:0",
        registry: new Registry(),
        alive: () => true,
        ready: () => ({ ready: true, phase: "ready" }),
        status: () => ({}),
        ...serving.server,
      }),
      serving,
      { clock, checkMs: 30_000, logger: silentLogger },
    );
    await renewing.listen();
    try {
      const before = await peerFingerprint(renewing.port);
      copyFileSync(other.cert, files.cert);
      copyFileSync(other.key, files.key);
      const later = new Date(Date.now() + 60_000);
      utimesSync(files.cert, later, later);
      utimesSync(files.key, later, later);
      // Not before its check: the files are read once an interval.
      expect(await peerFingerprint(renewing.port)).toBe(before);
      await clock.advance(30_000);
      expect(await peerFingerprint(renewing.port)).toBe(peerFingerprintOf(other.cert));
    } finally {
      await renewing.close();
    }
  });

  it.each([
    [{ "metrics-tls-cert-file": "x.crt" }, /--metrics-tls-cert-file and --metrics-tls-key-file go together/],
    [
      { "metrics-tls-cert-file": "/nope.crt", "metrics-tls-key-file": "/nope.key" },
      /--metrics-tls-cert-file: cannot read \/nope\.crt/,
    ],
    [
      { "metrics-bearer-token-file": "/nope" },
      /--metrics-bearer-token-file: cannot read the token file \/nope/,
    ],
  ])("rejects %j in one sentence", (values, message) => {
    expect(() => metricsServing(values)).toThrow(UsageError);
    expect(() => metricsServing(values)).toThrow(message);
  });

  it("rejects a key that is not the certificate's, and a file that is not PEM", () => {
    expect(() =>
      metricsServing({ "metrics-tls-cert-file": certs.cert, "metrics-tls-key-file": other.key }),
    ).toThrow(/is not the key of the certificate in/);
    expect(() =>
      metricsServing({ "metrics-tls-cert-file": tokenFile, "metrics-tls-key-file": certs.key }),
    ).toThrow(/is not a PEM certificate/);
  });
});
