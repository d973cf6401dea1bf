import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { readStatusDocument, StatusDocumentError, type StatusDocument } from "../controllers/status-model.ts";
import { parseDuration, UsageError, type CommandHelp } from "./cli-support.ts";

/** The local metrics address: `run --metrics-bind-address` defaults to `:9464`. */
export const DEFAULT_SERVER = "http://127.0.0.1:9464";

/** The options of every command that reads a running controller's `/status`. */
export const SERVER_OPTIONS = {
  server: { type: "string", default: DEFAULT_SERVER },
  "token-file": { type: "string" },
  "ca-file": { type: "string" },
  "insecure-skip-tls-verify": { type: "boolean" },
  "request-timeout": { type: "string", default: "10s" },
} as const;

export const SERVER_OPTIONS_HELP: CommandHelp["options"] = [
  [
    "--server URL",
    `the controller's metrics address, as \`run --metrics-bind-address\` serves it (default ${DEFAULT_SERVER})`,
  ],
  [
    "--token-file FILE",
    "send the token in FILE (the controller's --metrics-bearer-token-file) as a bearer token",
  ],
  ["--ca-file FILE", "trust the PEM CA certificates in FILE for an https:// server"],
  ["--insecure-skip-tls-verify", "do not check the server's certificate (for a test setup only)"],
  ["--request-timeout DURATION", "give up after this long (default 10s)"],
];

/**
 * The note of a command whose examples ask a controller: they read the one `run` serves on this machine (the
 * default --server); `remote` is the same command against a controller elsewhere.
 */
export function controllerNote(remote: string): string {
  return (
    `The examples ask the controller that \`run\` serves on this machine, on the default ${DEFAULT_SERVER}: start\n` +
    "`npx ecs-log-operator run manifests/examples/kinds/` first (`run --help` says how, against a local emulator).\n" +
    `A controller elsewhere: its metrics address (and --token-file, --ca-file when it asks for them):\n  ${remote}`
  );
}

/** The controller could not be asked, or its answer could not be read: one sentence, with what to do. */
export class StatusClientError extends Error {
  override readonly name = "StatusClientError";
}

export interface StatusClientOptions {
  readonly server: string;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly timeoutMs?: number;
}

/** `fetchStatus` with the values of `SERVER_OPTIONS` as `parseCommandArgs` read them. */
export function fetchStatusWith(values: {
  server: string;
  "token-file"?: string | undefined;
  "ca-file"?: string | undefined;
  "insecure-skip-tls-verify"?: boolean | undefined;
  "request-timeout": string;
}): Promise<StatusDocument> {
  return fetchStatus({
    server: values.server,
    tokenFile: values["token-file"],
    caFile: values["ca-file"],
    insecure: values["insecure-skip-tls-verify"],
    timeoutMs: parseDuration(values["request-timeout"]),
  });
}

/** `--server` as given (`host:port`, `:9464`, a URL with a path prefix) -> the URL of its `/status`. */
export function statusUrl(server: string): URL {
  let text = server.trim();
  if (/^:\d+$/.test(text)) text = `127.0.0.1${text}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw new UsageError(`--server "${server}" is not a URL (e.g. ${DEFAULT_SERVER})`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new UsageError(`--server "${server}" must be http:// or https://`);
  }
  const path = base.pathname.replace(/\/status\/?$/, "/").replace(/\/?$/, "/");
  return new URL(`${path}status`, base.origin);
}

/** GET the controller's `/status` and read it into a complete document. */
export async function fetchStatus(options: StatusClientOptions): Promise<StatusDocument> {
  const url = statusUrl(options.server);
  const where = url.origin + url.pathname.replace(/status$/, "");
  const token = options.tokenFile !== undefined ? readSecret(options.tokenFile, "--token-file") : undefined;
  const ca = options.caFile !== undefined ? readSecret(options.caFile, "--ca-file") : undefined;
  const res = await get(
    url,
    { token, ca, insecure: options.insecure ?? false, timeoutMs: options.timeoutMs ?? 10_000 },
    where,
  );
  if (res.status === 401 || res.status === 403) {
    throw new StatusClientError(
      token === undefined
        ? `the controller at ${where} asks for a token: pass --token-file FILE (the file its --metrics-bearer-token-file names)`
        : `the controller at ${where} refused the token in ${options.tokenFile ?? ""}`,
    );
  }
  if (res.status === 404) {
    throw new StatusClientError(
      `${where} has no /status: is it an ecs-log-operator controller's metrics address?`,
    );
  }
  if (res.status !== 200) {
    throw new StatusClientError(
      `the controller at ${where} answered HTTP ${res.status} to GET /status: ${res.body.slice(0, 200).trim()}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(res.body);
  } catch {
    throw new StatusClientError(`${url.href} did not answer JSON: is it an ecs-log-operator controller?`);
  }
  try {
    return readStatusDocument(raw);
  } catch (error) {
    if (error instanceof StatusDocumentError) {
      throw new StatusClientError(
        `${url.href} answered a document this version cannot read: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

function readSecret(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
  }
}

function get(
  url: URL,
  o: { token: string | undefined; ca: string | undefined; insecure: boolean; timeoutMs: number },
  where: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        // A status document is bounded by the specs; a body this large is not one.
        if (size > 64 * 1024 * 1024) req.destroy(new Error("answer larger than 64 MiB"));
        else chunks.push(c);
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    };
    const req =
      url.protocol === "https:"
        ? httpsRequest(url, { headers, ca: o.ca, rejectUnauthorized: !o.insecure }, onResponse)
        : httpRequest(url, { headers }, onResponse);
    req.setTimeout(o.timeoutMs, () =>
      req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
    );
    req.on("error", (error: NodeJS.ErrnoException) => reject(explain(error, where, o.timeoutMs)));
    req.end();
  });
}

function explain(error: NodeJS.ErrnoException, where: string, timeoutMs: number): StatusClientError {
  const hint =
    "Is `ecs-log-operator run` serving there? Point --server at its --metrics-bind-address " +
    `(default ${DEFAULT_SERVER}).`;
  const code = error.code ?? "";
  let text: string;
  if (code === "ECONNREFUSED") text = `cannot reach the controller at ${where}: connection refused. ${hint}`;
  else if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    text = `cannot resolve the host of ${where}. ${hint}`;
  else if (code === "ETIMEDOUT")
    text = `the controller at ${where} did not answer within ${timeoutMs / 1000}s. ${hint}`;
  else if (
    code === "ECONNRESET" ||
    code === "EPROTO" ||
    /wrong version number|packet length too long/i.test(error.message)
  ) {
    text = `the connection to ${where} failed (${error.message}): does it serve ${where.startsWith("https:") ? "HTTP, not HTTPS" : "HTTPS (use https://)"}?`;
  } else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    text = `the certificate of ${where} is not trusted (${code}): pass --ca-file FILE with the CA that signed it`;
  } else text = `cannot reach the controller at ${where}: ${error.message}. ${hint}`;
  return new StatusClientError(text, { cause: error });
}
