import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GitSourceError, classifyGitStderr, gitStderrSummary, type GitFailureReason } from "./git-errors.ts";
import { GitRefError, lsRemotePatterns, selectRef, type GitRefSpec, type ResolvedRef } from "./git-ref.ts";
import { redactUrl, type GitUrl } from "./git-url.ts";
import type { GitCredentials } from "./credentials.ts";

/** The remote side of the Git source, as the source needs it. `GitCli` implements it with the `git` binary. */
export interface GitRemote {
  /** Asks the remote which commit the ref names now: one round trip, no objects transferred. */
  resolve(signal: AbortSignal): Promise<ResolvedRef>;
  /**
   * Fetches that commit (shallow: depth 1) and writes its whole tree into `dir`, an empty directory. Returns the
   * commit written (the ref may have moved since `resolve`; the newer commit is then the one written).
   */
  checkout(target: ResolvedRef, dir: string, signal: AbortSignal): Promise<string>;
  /** Drops the local object store, so that the next fetch starts afresh (after a failure or an interrupted fetch). */
  reset(): Promise<void>;
  /** Bounds the local object store after a new revision: prunes what no kept revision needs. */
  compact(signal: AbortSignal): Promise<void>;
}

export interface GitCliOptions {
  readonly url: GitUrl;
  readonly ref: GitRefSpec;
  readonly credentials: GitCredentials;
  /** A private, writable directory: the object store, git's and ssh's HOME, the key copy. */
  readonly stateDir: string;
  /** Deadline of one git command. Default 2 minutes. */
  readonly timeoutMs?: number;
  /** The git binary. Default `git` on PATH. */
  readonly git?: string;
}

/** The env var names the credential helper reads (set in git's environment only, never in argv). */
const TOKEN_ENV = "ECS_LOG_OPERATOR_GIT_TOKEN";
const USERNAME_ENV = "ECS_LOG_OPERATOR_GIT_USERNAME";

/**
 * A credential helper (git runs it through the shell as `HELPER get`) that answers from the environment. The token is
 * in git's environment, which only the same user and root can read (/proc/PID/environ); never in a URL or an argument,
 * which every user sees in `ps`. `printf` is a shell builtin, so no process is started with the token either.
 */
const CREDENTIAL_HELPER = `!f() { test "$1" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "$${USERNAME_ENV}" "$${TOKEN_ENV}"; }; f`;

/** The environment variables passed through to git: proxies and CA bundles. Nothing else of ours leaks to it. */
const PASSED_THROUGH = [
  "PATH",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
  "NO_PROXY",
  "no_proxy",
  "GIT_SSL_CAINFO",
  "GIT_SSL_CAPATH",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "TMPDIR",
];

const REF = "refs/ecs-log-operator/fetched";

/**
 * The Git source's remote, spoken by the `git` binary (and OpenSSH for ssh:// URLs). Every command runs with a fixed
 * configuration: no system or user config, no prompts, no hooks, only the URL's own transport allowed, objects
 * checked on receipt (transfer.fsckObjects), a deadline, and git's and ssh's HOME in the private state directory.
 */
export class GitCli implements GitRemote {
  private readonly url: GitUrl;
  private readonly ref: GitRefSpec;
  private readonly credentials: GitCredentials;
  private readonly stateDir: string;
  private readonly repo: string;
  private readonly home: string;
  private readonly timeoutMs: number;
  private readonly git: string;

  constructor(options: GitCliOptions) {
    this.url = options.url;
    this.ref = options.ref;
    this.credentials = options.credentials;
    this.stateDir = options.stateDir;
    this.repo = join(options.stateDir, "objects.git");
    this.home = join(options.stateDir, "home");
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.git = options.git ?? "git";
  }

  async resolve(signal: AbortSignal): Promise<ResolvedRef> {
    if (this.ref.kind === "commit") return selectRef(this.ref, "");
    const env = await this.environment(signal);
    const out = await this.run(
      ["ls-remote", "--symref", "--", this.url.text, ...lsRemotePatterns(this.ref)],
      {
        env,
        signal,
        what: "ls-remote",
      },
    );
    try {
      return selectRef(this.ref, out);
    } catch (error) {
      if (error instanceof GitRefError) {
        throw new GitSourceError("RefNotFound", `${redactUrl(this.url.text)}: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async checkout(target: ResolvedRef, dir: string, signal: AbortSignal): Promise<string> {
    const env = await this.environment(signal);
    await this.ensureRepo(signal);
    const byCommit = this.ref.kind === "commit";
    const refspec = byCommit ? target.commit : `+${target.ref}:${REF}`;
    await this.run(
      [
        "--git-dir",
        this.repo,
        "fetch",
        "--depth=1",
        "--no-tags",
        "--no-recurse-submodules",
        "--",
        this.url.text,
        refspec,
      ],
      { env, signal, what: "fetch" },
    );
    const commit = (
      await this.run(
        [
          "--git-dir",
          this.repo,
          "rev-parse",
          "--verify",
          "--end-of-options",
          `${byCommit ? target.commit : REF}^{commit}`,
        ],
        {
          env,
          signal,
          what: "rev-parse",
        },
      )
    ).trim();
    const index = join(this.stateDir, "checkout.index");
    try {
      await this.run(["--git-dir", this.repo, "--work-tree", dir, "read-tree", "--reset", "-u", commit], {
        env: { ...env, GIT_INDEX_FILE: index },
        signal,
        what: "checkout",
      });
    } finally {
      await rm(index, { force: true });
    }
    return commit;
  }

  async reset(): Promise<void> {
    await rm(this.repo, { recursive: true, force: true });
  }

  async compact(signal: AbortSignal): Promise<void> {
    const env = await this.environment(signal, { credentials: false });
    await this.run(
      [
        "--git-dir",
        this.repo,
        "-c",
        "gc.auto=256",
        "-c",
        "gc.autoPackLimit=8",
        "-c",
        "gc.pruneExpire=now",
        "-c",
        "gc.autoDetach=false",
        "gc",
        "--auto",
        "--quiet",
      ],
      { env, signal, what: "gc" },
    );
  }

  private async ensureRepo(signal: AbortSignal): Promise<void> {
    const exists = await stat(join(this.repo, "HEAD")).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await rm(this.repo, { recursive: true, force: true });
    const env = await this.environment(signal, { credentials: false });
    await this.run(["init", "--bare", "--quiet", this.repo], { env, signal, what: "init" });
  }

  /**
   * git's environment for one command: fixed configuration, and (unless `credentials: false`, for local commands) the
   * credentials read now, so that a rotated token or key is followed.
   */
  private async environment(
    signal: AbortSignal,
    options: { credentials?: boolean } = {},
  ): Promise<Record<string, string>> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
    const env: Record<string, string> = {};
    for (const name of PASSED_THROUGH) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
    Object.assign(env, {
      HOME: this.home,
      LC_ALL: "C",
      LANGUAGE: "C",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_ALLOW_PROTOCOL: this.url.transport,
      // A transfer slower than 1 kB/s for a minute is abandoned (the command's deadline is the outer bound).
      GIT_HTTP_LOW_SPEED_LIMIT: "1000",
      GIT_HTTP_LOW_SPEED_TIME: "60",
    });
    const config: [string, string][] = [
      ["protocol.version", "2"],
      ["transfer.fsckObjects", "true"],
      ["core.hooksPath", "/dev/null"],
      ["core.symlinks", "true"],
      ["core.autocrlf", "false"],
      // gc runs only when compact() asks, in the foreground: an auto gc would detach and outlive the command.
      ["gc.auto", "0"],
      ["maintenance.auto", "false"],
      ["credential.helper", ""],
    ];
    const creds = this.credentials;
    if (options.credentials !== false && creds.kind === "token") {
      const token = await creds.token.read(signal);
      env[TOKEN_ENV] = token;
      env[USERNAME_ENV] = this.url.username ?? "x-access-token";
      // Scoped to the URL's scheme, host and port: a redirect to another host gets no token.
      config.push([`credential.${this.url.origin}.helper`, CREDENTIAL_HELPER]);
    }
    if (options.credentials !== false && creds.kind === "ssh")
      env.GIT_SSH_COMMAND = await this.sshCommand(creds);
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    return env;
  }

  /**
   * OpenSSH, told exactly which key and which known hosts to use: no agent, no user config, no prompt, a host key
   * that is not in the known-hosts file is refused. The key is copied into the private state directory with mode 0600
   * at each fetch: ssh refuses a key others may read (mounted secrets often are), and a rotated key is followed.
   */
  private async sshCommand(creds: { keyFile: string; knownHostsFile: string }): Promise<string> {
    const key = join(this.home, "id_git");
    let text: Buffer;
    try {
      text = await readFile(creds.keyFile);
      await readFile(creds.knownHostsFile);
    } catch (error) {
      const e = error as { code?: string; path?: string };
      const which =
        e.path === creds.knownHostsFile
          ? `known-hosts file ${creds.knownHostsFile}`
          : `SSH key file ${creds.keyFile}`;
      throw new GitSourceError(
        "CredentialsUnreadable",
        `cannot read the ${which}: ${e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : (e.code ?? "unreadable")}`,
        { cause: error },
      );
    }
    await writeFile(key, text, { mode: 0o600 });
    await chmod(key, 0o600);
    return [
      "ssh",
      "-F /dev/null",
      `-i ${shellQuote(key)}`,
      "-o IdentitiesOnly=yes",
      "-o IdentityAgent=none",
      `-o UserKnownHostsFile=${shellQuote(creds.knownHostsFile)}`,
      "-o GlobalKnownHostsFile=/dev/null",
      "-o StrictHostKeyChecking=yes",
      "-o UpdateHostKeys=no",
      "-o BatchMode=yes",
      "-o ConnectTimeout=20",
      "-o ServerAliveInterval=15",
      "-o ServerAliveCountMax=4",
      "-o LogLevel=ERROR",
    ].join(" ");
  }

  private async run(
    args: string[],
    options: { env: Record<string, string>; signal: AbortSignal; what: string },
  ): Promise<string> {
    const secret = options.env[TOKEN_ENV];
    const redact = (text: string): string => {
      const safe = redactUrl(text);
      return secret !== undefined && secret !== "" ? safe.split(secret).join("***") : safe;
    };
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([options.signal, deadline]);
    signal.throwIfAborted();
    const child = spawn(this.git, args, {
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a deadline ends git and the helpers it started (git-remote-https, ssh) together.
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => stdout.push(d));
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-16_000);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 2000);
      killTimer.unref();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c) => resolve(c));
    }).catch((error: unknown) => {
      const e = error as { code?: string; message?: string };
      throw new GitSourceError(
        "FetchFailed",
        e.code === "ENOENT"
          ? `the git binary "${this.git}" is not installed (the Git source needs git, and ssh for ssh:// URLs)`
          : `cannot start git: ${e.message ?? String(error)}`,
        { cause: error },
      );
    });
    signal.removeEventListener("abort", onAbort);
    if (killTimer !== undefined) clearTimeout(killTimer);
    const where = redactUrl(this.url.text);
    if (signal.aborted) {
      if (deadline.aborted && !options.signal.aborted) {
        throw new GitSourceError(
          "Timeout",
          `git ${options.what} of ${where} took longer than ${this.timeoutMs / 1000} s`,
        );
      }
      throw options.signal.reason instanceof Error ? options.signal.reason : new Error("aborted");
    }
    if (code !== 0) {
      const text = redact(stderr);
      const reason: GitFailureReason = classifyGitStderr(text);
      const summary = gitStderrSummary(text);
      // A refused token may have been rotated since it was cached: the next fetch reads it again.
      if (reason === "AuthenticationFailed" && this.credentials.kind === "token")
        this.credentials.token.invalidate();
      if (reason === "AuthenticationFailed" && this.credentials.kind === "none") {
        throw new GitSourceError(
          reason,
          `${where} asks for credentials and none were given (a token or an SSH key)`,
        );
      }
      throw new GitSourceError(reason, `${describeFailure(reason, where)}: ${summary}`);
    }
    return Buffer.concat(stdout).toString("utf8");
  }
}

function describeFailure(reason: GitFailureReason, where: string): string {
  switch (reason) {
    case "Unreachable":
      return `cannot reach ${where}`;
    case "AuthenticationFailed":
      return `${where} refused the credentials`;
    case "HostKeyVerificationFailed":
      return `the SSH host key of ${where} is not the one in the known-hosts file`;
    case "RepositoryNotFound":
      return `no repository at ${where}`;
    case "RefNotFound":
      return `${where} does not have the ref asked for`;
    default:
      return `git failed on ${where}`;
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
