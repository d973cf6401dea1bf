import { readFile } from "node:fs/promises";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { classifyAwsError } from "../aws/errors.ts";
import { systemClock, type Clock } from "../clock.ts";
import { GitSourceError } from "./git-errors.ts";

/**
 * Where a secret (an HTTPS token, the webhook's shared secret) comes from. Read at each use, so that a rotated
 * secret is picked up without a restart; `invalidate` drops a cached value after the remote refused it.
 */
export interface SecretSource {
  /** Where it comes from, for messages: a path or an ARN, never the value. */
  readonly description: string;
  read(signal?: AbortSignal): Promise<string>;
  invalidate(): void;
}

/** The credentials a fetch is made with. Paths and ARNs only: the values are read when a fetch needs them. */
export type GitCredentials =
  | { readonly kind: "none" }
  | { readonly kind: "token"; readonly token: SecretSource }
  | { readonly kind: "ssh"; readonly keyFile: string; readonly knownHostsFile: string };

/**
 * A secret's text made safe to hand to git's credential protocol (one `key=value` line): surrounding whitespace and
 * the trailing newline of a file dropped, anything else on more lines refused.
 */
export function cleanSecret(text: string, description: string): string {
  const value = text.trim();
  if (value === "") throw new GitSourceError("CredentialsUnreadable", `${description} is empty`);
  if (/\p{Cc}/u.test(value)) {
    throw new GitSourceError(
      "CredentialsUnreadable",
      `${description} holds more than one line or control characters; it must hold the secret alone`,
    );
  }
  return value;
}

/** A secret in a file (a mounted Kubernetes or ECS secret, a CI variable written to disk). */
export class FileSecretSource implements SecretSource {
  readonly description: string;
  private readonly path: string;

  constructor(path: string, what = "token file") {
    this.path = path;
    this.description = `the ${what} ${path}`;
  }

  async read(): Promise<string> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why =
        code === "ENOENT"
          ? "no such file"
          : code === "EACCES"
            ? "permission denied"
            : code === "EISDIR"
              ? "it is a directory"
              : (code ?? "unreadable");
      throw new GitSourceError("CredentialsUnreadable", `cannot read ${this.description}: ${why}`, {
        cause: error,
      });
    }
    return cleanSecret(text, this.description);
  }

  invalidate(): void {}
}

/**
 * A secret in AWS Secrets Manager: the secret string itself, or its `token` field when it holds a JSON object (the
 * console's key/value form). Cached for `ttlMs` (default 5 minutes): a fetch each interval would otherwise be a
 * GetSecretValue each interval.
 */
export class SecretsManagerSecretSource implements SecretSource {
  readonly description: string;
  private readonly client: SecretsManagerClient;
  private readonly arn: string;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private cached: { value: string; at: number } | undefined;

  constructor(options: {
    client: SecretsManagerClient;
    arn: string;
    clock?: Clock;
    ttlMs?: number;
    what?: string;
  }) {
    this.client = options.client;
    this.arn = options.arn;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.description = `the ${options.what ?? "token"} secret ${options.arn}`;
  }

  async read(signal?: AbortSignal): Promise<string> {
    const now = this.clock.now();
    if (this.cached !== undefined && now - this.cached.at < this.ttlMs) return this.cached.value;
    let out;
    try {
      out = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.arn }),
        signal !== undefined ? { abortSignal: signal } : {},
      );
    } catch (error) {
      const aws = classifyAwsError("secretsmanager", "GetSecretValue", error);
      throw new GitSourceError("CredentialsUnreadable", `cannot read ${this.description}: ${aws.message}`, {
        cause: error,
      });
    }
    const text = out.SecretString;
    if (text === undefined) {
      throw new GitSourceError(
        "CredentialsUnreadable",
        `${this.description} has no SecretString (a binary secret cannot be used as a token)`,
      );
    }
    const value = cleanSecret(fieldOf(text, this.description), this.description);
    this.cached = { value, at: now };
    return value;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

function fieldOf(text: string, description: string): string {
  if (!text.trimStart().startsWith("{")) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const token = (parsed as { token?: unknown }).token;
  if (typeof token === "string") return token;
  throw new GitSourceError(
    "CredentialsUnreadable",
    `${description} holds a JSON object without a string "token" field; store the token alone or as {"token": "..."}`,
  );
}
