import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { Clock } from "../controllers/clock.ts";
import type { ControllerServer } from "../controllers/controller.ts";
import { bearerTokenAuthorizer, TokenFile, TokenFileError } from "../controllers/http-auth.ts";
import type { HttpServer, HttpServerOptions, TlsKeyPair } from "../controllers/http-server.ts";
import type { Logger } from "../controllers/logger.ts";
import { UsageError, type CommandHelp } from "./cli-support.ts";

/**
 * `run`'s flags for serving the status page, `/status` and `/metrics` over TLS and behind a bearer token (kubebuilder
 * projects serve metrics the same way: only to authorized scrapers). `/healthz` and `/readyz` stay open for ECS's
 * health check. Spread `METRICS_SERVING_OPTIONS` into `run`'s options and `METRICS_SERVING_HELP` into its help,
 * then hand `metricsServing(values)` to `composeController`.
 */
export const METRICS_SERVING_OPTIONS = {
  "metrics-tls-cert-file": { type: "string" },
  "metrics-tls-key-file": { type: "string" },
  "metrics-bearer-token-file": { type: "string" },
} as const;

export const METRICS_SERVING_HELP: CommandHelp["options"] = [
  [
    "--metrics-tls-cert-file FILE",
    "serve the page, /status and /metrics over HTTPS with this PEM certificate chain (re-read when it changes)",
  ],
  ["--metrics-tls-key-file FILE", "the certificate's PEM private key"],
  [
    "--metrics-bearer-token-file FILE",
    "ask for this token on /, /status and /metrics (`Authorization: Bearer TOKEN`; a browser gives it as the " +
      "password); /healthz and /readyz stay open. Re-read when the file changes",
  ],
];

export interface MetricsServingValues {
  readonly "metrics-tls-cert-file"?: string | undefined;
  readonly "metrics-tls-key-file"?: string | undefined;
  readonly "metrics-bearer-token-file"?: string | undefined;
}

export interface MetricsServing {
  /** What to add to the HTTP server's options. */
  readonly server: Pick<HttpServerOptions, "tls" | "authorize">;
  readonly scheme: "http" | "https";
  /** A renewed key pair when the files changed since the last call (give it to `HttpServer.updateTls`). */
  renewedTls(): TlsKeyPair | undefined;
}

/** Checks the flags and reads their files once, so a mistake stops `run` before it serves anything. */
export function metricsServing(values: MetricsServingValues): MetricsServing {
  const certFile = values["metrics-tls-cert-file"];
  const keyFile = values["metrics-tls-key-file"];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--metrics-tls-cert-file and --metrics-tls-key-file go together");
  }
  let tls: TlsFiles | undefined;
  if (certFile !== undefined && keyFile !== undefined) tls = new TlsFiles(certFile, keyFile);
  let authorize: HttpServerOptions["authorize"];
  const tokenFile = values["metrics-bearer-token-file"];
  if (tokenFile !== undefined) {
    let file: TokenFile;
    try {
      file = new TokenFile(tokenFile);
    } catch (error) {
      if (error instanceof TokenFileError)
        throw new UsageError(`--metrics-bearer-token-file: ${error.message}`);
      throw error;
    }
    authorize = bearerTokenAuthorizer(() => file.read());
  }
  return {
    server: { tls: tls?.current, authorize },
    scheme: tls !== undefined ? "https" : "http",
    renewedTls: () => tls?.renewed(),
  };
}

class TlsFiles {
  current: TlsKeyPair;
  private readonly certFile: string;
  private readonly keyFile: string;
  private stamp: string;

  constructor(certFile: string, keyFile: string) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.current = readKeyPair(certFile, keyFile);
    this.stamp = this.stampNow();
  }

  renewed(): TlsKeyPair | undefined {
    let stamp: string;
    try {
      stamp = this.stampNow();
    } catch {
      return undefined;
    }
    if (stamp === this.stamp) return undefined;
    try {
      this.current = readKeyPair(this.certFile, this.keyFile);
      this.stamp = stamp;
      return this.current;
    } catch {
      // Half-written (the certificate renewed before its key): the next check takes both.
      return undefined;
    }
  }

  private stampNow(): string {
    return `${statSync(this.certFile).mtimeMs}:${statSync(this.keyFile).mtimeMs}`;
  }
}

function readKeyPair(certFile: string, keyFile: string): TlsKeyPair {
  const read = (file: string, flag: string): string => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const cert = read(certFile, "--metrics-tls-cert-file");
  const key = read(keyFile, "--metrics-tls-key-file");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new UsageError(
      `--metrics-tls-cert-file: ${certFile} is not a PEM certificate (${(error as Error).message})`,
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new UsageError(
      `--metrics-tls-key-file: ${keyFile} is not a PEM private key (${(error as Error).message})`,
    );
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new UsageError(
      `--metrics-tls-key-file: ${keyFile} is not the key of the certificate in ${certFile}`,
    );
  }
  return { cert, key };
}

/**
 * The controller's HTTP server, taking a renewed certificate (cert-manager, ACM export, a sidecar rewriting the files)
 * within one check of its files changing, for new connections: no restart, no dropped scrape.
 */
export class TlsRenewingServer implements ControllerServer {
  private readonly server: HttpServer;
  private readonly serving: MetricsServing;
  private readonly clock: Clock;
  private readonly checkMs: number;
  private readonly logger: Logger;
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    server: HttpServer,
    serving: MetricsServing,
    options: { clock: Clock; checkMs: number; logger: Logger },
  ) {
    this.server = server;
    this.serving = serving;
    this.clock = options.clock;
    this.checkMs = options.checkMs;
    this.logger = options.logger;
  }

  get port(): number {
    return this.server.port;
  }

  get address(): string {
    return this.server.address;
  }

  async listen(): Promise<void> {
    await this.server.listen();
    this.loop = this.watch();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
    await this.server.close();
  }

  private async watch(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(this.checkMs, signal);
      } catch {
        return;
      }
      const renewed = this.serving.renewedTls();
      if (renewed === undefined) continue;
      this.server.updateTls(renewed);
      this.logger.info("serving a renewed TLS certificate");
    }
  }
}
