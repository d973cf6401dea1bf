import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile, readFile, unlink, chmod } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "../free-port.ts";

const exec = promisify(execFile);

/** git with no system or user configuration: the tests never read or change the machine's git config. */
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
};

async function git(args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec("git", args, { cwd, env: GIT_ENV });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`git ${args.join(" ")} failed: ${e.stderr ?? e.message}`, { cause: error });
  }
}

/**
 * A bare repository and a working clone beside it, for tests to commit and push to. The identity of each commit is
 * given on its own command line (`-c user.name=...`): no git config is written anywhere.
 */
export class TestRepository {
  readonly bare: string;
  readonly work: string;

  private constructor(bare: string, work: string) {
    this.bare = bare;
    this.work = work;
  }

  /** An empty repository `NAME.git` under `root`, default branch `main`. */
  static async create(root: string, name: string): Promise<TestRepository> {
    const bare = join(root, `${name}.git`);
    const work = join(root, `${name}.work`);
    await git(["init", "--quiet", "--bare", "--initial-branch=main", bare]);
    await git(["init", "--quiet", "--initial-branch=main", work]);
    await git(["remote", "add", "origin", bare], work);
    return new TestRepository(bare, work);
  }

  /** Writes (or with `null` deletes) files, commits, pushes `branch`; returns the commit id. */
  async commit(files: Record<string, string | null>, message: string, branch = "main"): Promise<string> {
    for (const [path, text] of Object.entries(files)) {
      const file = join(this.work, path);
      if (text === null) {
        await unlink(file).catch(() => undefined);
      } else {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, text);
      }
    }
    await git(["add", "--all"], this.work);
    await git(
      [
        "-c",
        "user.name=ecs-log-operator tests",
        "-c",
        "user.email=tests@ecs-log-operator.invalid",
        "commit",
        "--quiet",
        "--allow-empty",
        "--message",
        message,
      ],
      this.work,
    );
    await git(["push", "--quiet", "--force", "origin", `HEAD:refs/heads/${branch}`], this.work);
    return (await git(["rev-parse", "HEAD"], this.work)).trim();
  }

  /** Force-pushes `branch` to an older commit (as `git push --force` after a reset would). */
  async forcePush(commit: string, branch = "main"): Promise<void> {
    await git(["push", "--quiet", "--force", "origin", `${commit}:refs/heads/${branch}`], this.work);
    await git(["reset", "--quiet", "--hard", commit], this.work);
  }

  async tag(name: string, commit: string, annotated = false): Promise<void> {
    const args = annotated
      ? ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "tag", "-a", "-m", name, name, commit]
      : ["tag", name, commit];
    await git(args, this.work);
    await git(["push", "--quiet", "origin", `refs/tags/${name}`], this.work);
  }
}

/**
 * A Git server on loopback: Debian's `git http-backend` (the smart HTTP protocol, v2 included) behind a small
 * node:http CGI shim that checks HTTP basic auth against a token, as a forge does for a personal access token. It can
 * be stopped and started again on the same port, to play an outage.
 */
export class GitHttpServer {
  readonly root: string;
  readonly port: number;
  /** The token the server accepts as the basic-auth password (any user name); undefined: no auth. */
  readonly token: string | undefined;
  /** Each request's authorization as received (for tests that prove what was, or was not, sent). */
  readonly authorizations: (string | undefined)[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(root: string, port: number, token: string | undefined) {
    this.root = root;
    this.port = port;
    this.token = token;
  }

  static async start(options: { token?: string } = {}): Promise<GitHttpServer> {
    const root = await mkdtemp(join(tmpdir(), "git-http-"));
    const server = new GitHttpServer(root, await freePort(), options.token);
    await server.listen();
    return server;
  }

  url(repository: string): string {
    return `http://127.0.0.1:${this.port}/${repository}.git`;
  }

  async listen(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and drops every connection: the remote is gone. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.root, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = req.headers.authorization;
    this.authorizations.push(auth);
    if (this.token !== undefined) {
      const m = /^Basic (.+)$/.exec(auth ?? "");
      const password =
        m?.[1] === undefined
          ? undefined
          : Buffer.from(m[1], "base64").toString().split(":").slice(1).join(":");
      if (password !== this.token) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"', "content-type": "text/plain" });
        res.end("authentication required\n");
        return;
      }
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ""),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
        REMOTE_USER: "git",
        SERVER_PROTOCOL: "HTTP/1.1",
        ...(req.headers["git-protocol"] !== undefined
          ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) }
          : {}),
        ...(req.headers["content-encoding"] !== undefined
          ? { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) }
          : {}),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const i = line.indexOf(":");
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    await new Promise<void>((resolve) => child.once("close", () => resolve()));
    if (!headersDone) res.writeHead(502);
    res.end();
  }
}

/**
 * Debian's OpenSSH server on loopback, for git over ssh://: its own host key, one authorized client key, logins as the
 * user running the tests. sshd runs in the foreground (-D) with an absolute path, as it requires, and is killed by
 * `close`. Where the privilege separation directory /run/sshd is missing it is created (it needs root, as sshd does).
 */
export class SshServer {
  readonly port: number;
  readonly dir: string;
  readonly clientKeyFile: string;
  readonly knownHostsFile: string;
  readonly user: string;
  private readonly child: ReturnType<typeof spawn>;
  private log = "";

  private constructor(port: number, dir: string, child: ReturnType<typeof spawn>) {
    this.port = port;
    this.dir = dir;
    this.child = child;
    this.clientKeyFile = join(dir, "client_key");
    this.knownHostsFile = join(dir, "known_hosts");
    this.user = userInfo().username;
    child.stderr?.on("data", (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
  }

  static async start(): Promise<SshServer> {
    const dir = await mkdtemp(join(tmpdir(), "sshd-"));
    await chmod(dir, 0o700);
    for (const name of ["host_key", "client_key"]) {
      await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
    }
    await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_key.pub")));
    const port = await freePort();
    const hostKey = (await readFile(join(dir, "host_key.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
    await writeFile(
      join(dir, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        "AllowTcpForwarding no",
        "X11Forwarding no",
        "PrintMotd no",
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
    const sshd = "/usr/sbin/sshd";
    const child = spawn(sshd, ["-D", "-e", "-f", join(dir, "sshd_config")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const server = new SshServer(port, dir, child);
    const exited = new Promise<never>((_, reject) => {
      child.once("error", (e) =>
        reject(
          new Error(`cannot start ${sshd}: ${e.message} (test/ensure-tools.sh installs openssh-server)`),
        ),
      );
      child.once("exit", (code) => reject(new Error(`sshd exited with ${code}: ${server.log}`)));
    });
    await Promise.race([server.waitListening(), exited]);
    child.removeAllListeners("exit");
    return server;
  }

  /** An ssh:// URL of a repository by its absolute path. */
  url(repositoryPath: string): string {
    return `ssh://${this.user}@127.0.0.1:${this.port}${repositoryPath}`;
  }

  private async waitListening(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (/Server listening on/.test(this.log)) return;
      await delay(50);
    }
    throw new Error(`sshd did not start listening:\n${this.log}`);
  }

  async close(): Promise<void> {
    this.child.kill("SIGTERM");
    await new Promise((r) => (this.child.exitCode !== null ? r(undefined) : this.child.once("exit", r)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
