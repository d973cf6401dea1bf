/** The transports the Git source speaks; each URL is fetched with exactly its own transport allowed. */
export type GitTransport = "https" | "http" | "ssh" | "git" | "file";

/** A repository URL, checked: what the Git source fetches, and how it may be shown. */
export interface GitUrl {
  /** As given: what `git` is called with. */
  readonly text: string;
  readonly transport: GitTransport;
  /** Host name (lowercase, brackets removed from IPv6), empty for `file://`. */
  readonly host: string;
  /** `scheme://host[:port]`: the scope credentials are given to; empty for SSH and `file://`. */
  readonly origin: string;
  /** The user name in the URL, if any (e.g. `git@` or `oauth2@`). */
  readonly username: string | undefined;
}

export class GitUrlError extends Error {
  override readonly name = "GitUrlError";
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Parses and checks a repository URL: `https://`, `ssh://`, scp-like `user@host:path`, `file://`, and on loopback
 * only `http://` and `git://` (specs fetched in the clear could be rewritten on the way to an operator that applies
 * them to AWS). A password in the URL is refused: a URL is shown in process lists, logs and `/status`.
 */
export function parseGitUrl(text: string): GitUrl {
  const trimmed = text.trim();
  if (trimmed === "") throw new GitUrlError("the Git URL is empty");
  if (trimmed !== text || /[\s\p{Cc}]/u.test(text)) {
    throw new GitUrlError("the Git URL must not contain spaces or control characters");
  }
  // git would read a leading dash as an option.
  if (text.startsWith("-")) throw new GitUrlError(`"${text}" is not a Git URL`);
  // `TRANSPORT::ADDRESS` runs a remote helper (`ext::` runs a command); no helper is allowed.
  if (/^[a-z0-9+.-]+::/i.test(text))
    throw new GitUrlError(`"${text}" names a git remote helper; not supported`);
  if (!text.includes("://")) {
    // git's own rule: without a scheme, a colon before the first slash makes `[USER@]HOST:PATH` (SSH).
    const colon = text.indexOf(":");
    const slash = text.indexOf("/");
    const at = text.lastIndexOf("@", colon);
    const host = text.slice(at + 1, colon).replace(/^\[|\]$/g, "");
    if (colon > 0 && (slash === -1 || colon < slash) && host !== "" && colon < text.length - 1) {
      return {
        text,
        transport: "ssh",
        host: host.toLowerCase(),
        origin: "",
        username: at > 0 ? text.slice(0, at) : undefined,
      };
    }
    throw new GitUrlError(
      `"${text}" is not a Git URL (use https://HOST/PATH, ssh://USER@HOST/PATH, USER@HOST:PATH or file:///PATH)`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GitUrlError(
      `"${text}" is not a Git URL (use https://HOST/PATH, ssh://USER@HOST/PATH, USER@HOST:PATH or file:///PATH)`,
    );
  }
  const scheme = url.protocol.replace(/:$/, "");
  const transport = (
    {
      https: "https",
      http: "http",
      ssh: "ssh",
      "git+ssh": "ssh",
      "ssh+git": "ssh",
      git: "git",
      file: "file",
    } as const
  )[scheme];
  if (transport === undefined) {
    throw new GitUrlError(
      `the Git URL's scheme "${scheme}:" is not supported (https, ssh, file; http and git on loopback)`,
    );
  }
  if (url.password !== "") {
    throw new GitUrlError(
      "the Git URL carries a password or token: it would show in process lists, logs and /status; " +
        "give it with --git-token-file or --git-token-secret-arn instead",
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if ((transport === "http" || transport === "git") && !isLoopbackHost(host)) {
    throw new GitUrlError(
      `${scheme}:// sends the specs unencrypted and unauthenticated; use https:// or ssh:// (${scheme}:// is accepted on loopback only)`,
    );
  }
  if (transport !== "file" && host === "") throw new GitUrlError(`the Git URL "${text}" names no host`);
  const username = url.username !== "" ? decodeURIComponent(url.username) : undefined;
  const origin = transport === "https" || transport === "http" ? `${url.protocol}//${url.host}` : "";
  return { text, transport, host, origin, username };
}

/** A URL as it may be printed: without user information (parseGitUrl refuses passwords; this is a second line). */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]*@/gi, "$1@");
}
