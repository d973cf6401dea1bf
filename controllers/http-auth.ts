import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { systemClock, type Clock } from "./clock.ts";

/**
 * Accepts `Authorization: Bearer TOKEN` (Prometheus's `authorization` scrape setting, `get --token-file`), and
 * `Authorization: Basic` with the token as the password and any user name: a browser has no way to send a bearer
 * token when it opens a page, but asks for a user name and password when told `WWW-Authenticate: Basic`, and then
 * sends them with every reload. Compared in constant time.
 */
export function bearerTokenAuthorizer(token: () => string): (authorization: string | undefined) => boolean {
  return (authorization) => {
    const expected = token();
    if (expected === "" || authorization === undefined) return false;
    const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
    if (m === null) return false;
    let given = m[2] ?? "";
    if ((m[1] ?? "").toLowerCase() === "basic") {
      const decoded = Buffer.from(given, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon === -1) return false;
      given = decoded.slice(colon + 1);
    }
    return sameSecret(given, expected);
  };
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison's time says nothing about the token's length either.
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The challenges a 401 carries: Basic first, so that a browser asks for the token. */
export const AUTH_CHALLENGES = [
  'Basic realm="ecs-log-operator", charset="UTF-8"',
  'Bearer realm="ecs-log-operator"',
];

export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
}

/**
 * A token kept in a file (a mounted secret), read again when the file changes, so a rotated secret takes effect
 * without a restart. Checked at most every `checkEveryMs`; an unreadable or emptied file keeps the last token.
 */
export class TokenFile {
  private readonly path: string;
  private readonly clock: Clock;
  private readonly checkEveryMs: number;
  private token: string;
  private mtimeMs: number;
  private checkedAt: number;

  constructor(path: string, options: { clock?: Clock; checkEveryMs?: number } = {}) {
    this.path = path;
    this.clock = options.clock ?? systemClock;
    this.checkEveryMs = options.checkEveryMs ?? 5000;
    const { token, mtimeMs } = readToken(path);
    this.token = token;
    this.mtimeMs = mtimeMs;
    this.checkedAt = this.clock.now();
  }

  read(): string {
    const now = this.clock.now();
    if (now - this.checkedAt >= this.checkEveryMs) {
      this.checkedAt = now;
      try {
        const mtimeMs = statSync(this.path).mtimeMs;
        if (mtimeMs !== this.mtimeMs) ({ token: this.token, mtimeMs: this.mtimeMs } = readToken(this.path));
      } catch {
        // The last good token stays: a secret being replaced is briefly absent.
      }
    }
    return this.token;
  }
}

function readToken(path: string): { token: string; mtimeMs: number } {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(path, "utf8");
    mtimeMs = statSync(path).mtimeMs;
  } catch (error) {
    throw new TokenFileError(`cannot read the token file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const token = text.trim();
  if (token === "") throw new TokenFileError(`the token file ${path} is empty`);
  if (/\s/.test(token)) throw new TokenFileError(`the token in ${path} has white space inside it`);
  return { token, mtimeMs };
}
