import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GenericContainer, getContainerRuntimeClient } from "testcontainers";
import { beforeAll, beforeEach } from "vitest";

/**
 * The e2e tests' Docker side: an engine (started here where none runs), the locally built base image standing in for
 * node:24-bookworm-slim, and the project's image built from its Dockerfile with testcontainers. Every container and
 * image tag a test makes is removed by the test; the base image and the build cache are kept, so a second run on the
 * same machine takes seconds (`docker rmi ecs-log-operator-base:bookworm-node24` forces a rebuild of the base).
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The stand-in base: Debian bookworm minbase plus the Node 24 this project already installs (ensure-docker.sh). */
export const BASE_IMAGE = "ecs-log-operator-base:bookworm-node24";

const run = promisify(execFile);

export class DockerUnavailableError extends Error {
  override readonly name = "DockerUnavailableError";
}

/**
 * Starts a Docker engine where none answers and builds the base image where it is missing (ensure-docker.sh). Throws
 * with the script's own explanation when it cannot: the e2e suite fails, it is never skipped in silence.
 */
export async function ensureDocker(): Promise<void> {
  const script = join(REPO_ROOT, "test/e2e/ensure-docker.sh");
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn("bash", [script, BASE_IMAGE], {
      stdio: ["ignore", "ignore", "pipe"],
      cwd: REPO_ROOT,
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.once("error", (e) => done({ code: -1, stderr: `${err}${e.message}` }));
    child.once("exit", (c) => done({ code: c, stderr: err }));
  });
  if (code !== 0) {
    throw new DockerUnavailableError(
      `the e2e tests need a Docker engine and could not get one (test/e2e/ensure-docker.sh exited ${code}):\n${stderr}`,
    );
  }
  // Ryuk (testcontainers' reaper) is itself an image from a registry; the tests remove what they make instead.
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
}

/**
 * Runs a test file's setup once; when it throws, every test of the file fails with its error. (A throwing beforeAll
 * marks the tests skipped, and CI's closing "N passed, N failed" line would not count them.)
 */
export function setupOrFailEveryTest(setup: () => Promise<void>, timeoutMs = 600_000): void {
  let failure: unknown;
  beforeAll(async () => {
    try {
      await setup();
    } catch (error) {
      failure = error;
    }
  }, timeoutMs);
  beforeEach(() => {
    if (failure !== undefined) throw failure;
  });
}

export interface BuiltImage {
  readonly tag: string;
  readonly buildSeconds: number;
  remove(): Promise<void>;
}

/**
 * Builds the project's Dockerfile on BASE_IMAGE with testcontainers (the classic builder, which uses a local base
 * image without pulling).
 *
 * The engine runs with --iptables=false, so the default bridge network has no outbound NAT and the Dockerfile's
 * `npm ci` could not reach the npm registry. The build therefore runs with the host's network, as `docker build
 * --network host` would; testcontainers' builder has no option for it, so the engine's build request gets
 * `networkmode: host` added on the way (the client is a per-process singleton, so the patch reaches the builder).
 * The base image carries the host's CA bundle for the same reason (see ensure-docker.sh).
 */
export async function buildOperatorImage(): Promise<BuiltImage> {
  const client = await getContainerRuntimeClient();
  const images = client.image;
  if (!("hostNetworkBuild" in images)) {
    const original = images.build.bind(images);
    images.build = (context, opts) => original(context, { ...opts, networkmode: "host" });
    Object.defineProperty(images, "hostNetworkBuild", { value: true });
  }
  const tag = `ecs-log-operator-e2e:p${E2E_OWNER}-${randomUUID().slice(0, 8)}`;
  const started = performance.now();
  try {
    await GenericContainer.fromDockerfile(REPO_ROOT)
      .withBuildArgs({ BASE_IMAGE })
      .build(tag, { deleteOnExit: false });
  } catch (error) {
    // testcontainers reports only "Failed to build image"; the engine's own words come from the CLI.
    const why = await docker([
      "build",
      "--network",
      "host",
      "--build-arg",
      `BASE_IMAGE=${BASE_IMAGE}`,
      "-q",
      ".",
    ]);
    throw new Error(`docker build of the project's Dockerfile failed:\n${why.stderr.slice(-3000)}`, {
      cause: error,
    });
  }
  return {
    tag,
    buildSeconds: (performance.now() - started) / 1000,
    remove: async () => {
      await docker(["rmi", "--force", tag]);
    },
  };
}

/** Runs the docker CLI; resolves with its output and exit code (never throws on a non-zero exit). */
export async function docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("docker", args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The image's size in MB, as `docker images` reports it. */
export async function imageSizeMb(tag: string): Promise<number> {
  const { stdout } = await docker(["image", "inspect", "--format", "{{.Size}}", tag]);
  return Math.round(Number(stdout.trim()) / 1e6);
}

/**
 * A spec directory the container's unprivileged user can read (mkdtemp makes 0700 directories owned by root), for a
 * bind mount at /specs. `files` maps relative names to their text.
 */
export async function specDirectory(
  files: Record<string, string>,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "ecs-log-operator-e2e-specs-"));
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(path, name), text, { mode: 0o644 });
  }
  await chmod(path, 0o755);
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Polls `url` until it answers 200, or throws with the last answer and the container's log: the container may have
 * exited, and its log says why.
 */
export async function waitForOk(
  url: string,
  options: { timeoutMs: number; logs: () => Promise<string> },
): Promise<{ body: string; ms: number }> {
  const started = performance.now();
  let last = "no answer";
  while (performance.now() - started < options.timeoutMs) {
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.ok) return { body, ms: performance.now() - started };
      last = `HTTP ${res.status}: ${body.slice(0, 500)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await delay(200);
  }
  throw new Error(
    `${url} did not answer 200 within ${options.timeoutMs} ms (last: ${last}); log:\n${await options.logs()}`,
  );
}

/**
 * The label every e2e container carries, valued with the test process's pid; image tags carry the pid too. An
 * interrupted run leaves them behind, and the next run removes those whose process is gone (never a running one's).
 */
export const E2E_LABEL = "ecs-log-operator.e2e";
export const E2E_OWNER = String(process.pid);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes containers and image tags left by an earlier, interrupted run of these tests. */
export async function removeLeftovers(): Promise<void> {
  const containers = await docker([
    "ps",
    "-a",
    "--filter",
    `label=${E2E_LABEL}`,
    "--format",
    `{{.ID}} {{.Label "${E2E_LABEL}"}}`,
  ]);
  const ids = containers.stdout
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([id, pid]) => id !== undefined && id !== "" && !alive(Number(pid)))
    .map(([id]) => id ?? "");
  if (ids.length > 0) await docker(["rm", "--force", ...ids]);
  const images = await docker(["images", "--format", "{{.Repository}}:{{.Tag}}", "ecs-log-operator-e2e"]);
  const tags = images.stdout.split("\n").filter((tag) => {
    const pid = /^ecs-log-operator-e2e:p(\d+)-/.exec(tag)?.[1];
    return tag !== "" && (pid === undefined || !alive(Number(pid)));
  });
  if (tags.length > 0) await docker(["rmi", "--force", ...tags]);
}
