import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Output } from "../../cmd/cli-support.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { buildExampleScene } from "./example-scene.ts";
import { startEmulator } from "./harness.ts";

// Every `--help` example runs as printed, from a fresh clone: a copy of the repository's files (node_modules
// linked, as `npm ci` would leave it), against the emulator the help's note describes, in an AWS account holding
// what the examples' specs follow (the demo's scene). Before, `render --from taskdef.json` failed with ENOENT and
// the validate and plan examples named a `specs/` that a clone does not have.
const run = promisify(execFile);

async function help(...argv: string[]): Promise<string> {
  let text = "";
  const io: Output = { out: (t) => (text += t), err: (t) => (text += t), color: false };
  expect(await main(argv, io)).toBe(0);
  return text;
}

/** The lines of a help section up to the next blank line, with `\` continuations joined. */
function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    const last = out[out.length - 1];
    if (last?.endsWith("\\")) out[out.length - 1] = `${last.slice(0, -1).trimEnd()} ${line.trim()}`;
    else out.push(line.trim());
  }
  return out;
}

const commands = section(await help("--help"), "Commands").map((l) => l.split(/\s+/)[0]!);
const examples: [command: string, example: string][] = [];
for (const command of commands) {
  for (const example of section(await help(command, "--help"), "Examples")) examples.push([command, example]);
}

let moto: MotoEmulator;
let clients: AwsClients;
let clone = "";
let env: NodeJS.ProcessEnv = {};

/** What the examples' specs follow, as the demo builds it: every example starts from this account. */
async function buildScene(): Promise<void> {
  await buildExampleScene(clients);
  // The role the iam-policy example gives its policy to.
  await run(
    "aws",
    ["iam", "create-role", "--role-name", "ecs-log-operator-task", "--assume-role-policy-document", "{}"],
    { env },
  );
}

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: "us-east-1" }));
  clone = mkdtempSync(join(tmpdir(), "help-examples-"));
  const { stdout } = await run("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"]);
  // Files only: a node_modules that is a link to a directory is no file of the clone.
  for (const file of stdout.split("\0").filter((f) => f !== "" && statSync(f).isFile())) {
    mkdirSync(join(clone, dirname(file)), { recursive: true });
    cpSync(file, join(clone, file));
  }
  // A clone is a Git repository: the Git source's examples read it through file://.
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=help", "-c", "user.email=help@example.invalid", ...args], { cwd: clone });
  await git("init", "-q", "-b", "main");
  await git("add", "-A");
  await git("commit", "-q", "-m", "clone");
  symlinkSync(join(process.cwd(), "node_modules"), join(clone, "node_modules"));

  // As the help's note says, on the emulator's port.
  env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith("AWS_") || k.startsWith("ECS_LOG_OPERATOR")) delete env[k];
  Object.assign(env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  });
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  if (clone !== "") rmSync(clone, { recursive: true, force: true });
});

// Each example that calls AWS starts from the scene, not from what another one wrote (apply --owner-id prod-logs
// after an apply by `default` would rightly refuse to take the namespace over). Reads leave it as it was.
let dirty = true;
async function freshScene(): Promise<void> {
  if (!dirty) return;
  await moto.reset();
  await buildScene();
  dirty = false;
}

function needsAws(command: string, example: string): boolean {
  return (
    /(^|[|&;(]\s*)aws\s/.test(example) ||
    ["plan", "apply", "run", "inspect"].includes(command) ||
    (command === "render" && !example.includes("--from"))
  );
}

function writes(command: string, example: string): boolean {
  return !["plan", "inspect"].includes(command) || /(^|[|&;(]\s*)aws\s/.test(example);
}

/** The commands that read a running controller's /status: their examples ask the `run` their note names. */
const ASK_CONTROLLER = ["get", "describe"];

/** What each command exits with when it worked: plan says 2 when it found changes. */
const SUCCESS: Record<string, number[]> = { plan: [0, 2] };

const asking = examples.filter(([c]) => ASK_CONTROLLER.includes(c));
const offline = examples.filter(([c, e]) => !ASK_CONTROLLER.includes(c) && !needsAws(c, e));
const online = examples.filter(([c, e]) => !ASK_CONTROLLER.includes(c) && needsAws(c, e));

describe("every --help example", () => {
  it("is found: every command has at least one", () => {
    expect(commands).toEqual([
      "validate",
      "plan",
      "apply",
      "run",
      "render",
      "iam-policy",
      "schema",
      "test-pattern",
      "get",
      "describe",
      "inspect",
    ]);
    for (const c of commands)
      expect(
        examples.some(([command]) => command === c),
        c,
      ).toBe(true);
  });

  // Offline examples touch no account: they run side by side.
  it.concurrent.each(offline)("%s (offline): %s", async (command, example) => {
    await runExample(command, example);
  });

  it.each(online)("%s (against the emulator): %s", async (command, example) => {
    await freshScene();
    dirty ||= writes(command, example);
    if (command === "run") await runUntilReady(example);
    else await runExample(command, example);
  });
});

// The note of get and describe names the `run` to start first; they ask it where it serves, on the scene.
describe("every --help example of a command that asks a controller", () => {
  let controller: StartedRun | undefined;
  beforeAll(async () => {
    const notes = new Set<string>();
    for (const command of ASK_CONTROLLER) {
      const line = /`(npx ecs-log-operator run [^`]*)`/.exec(await help(command, "--help"))?.[1];
      expect(line, `${command} --help names the run to start`).toBeDefined();
      notes.add(line!);
    }
    expect(notes.size).toBe(1);
    await freshScene();
    dirty = true; // the controller reconciles the scene
    controller = await startRun([...notes][0]!);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it.each(asking)("%s (against run on the emulator): %s", async (command, example) => {
    await runExample(command, onController(example, controller!.port));
  });
});

async function runExample(command: string, example: string): Promise<void> {
  const child = spawn("bash", ["-c", onEmulator(example)], {
    cwd: clone,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const said = stderr.replace(/^npm warn EBADENGINE.*\n/gm, "");
  expect(said).not.toMatch(/ENOENT|no such file|unknown option|Usage:|See `ecs-log-operator/);
  expect(SUCCESS[command] ?? [0], said).toContain(code);
}

/** The note's emulator is on port 5000; this one is where the harness started it. */
function onEmulator(example: string): string {
  return example.replaceAll("127.0.0.1:5000", moto.endpoint.replace("http://", ""));
}

/**
 * The help's controller serves /status on the default 127.0.0.1:9464; this one is where `run` listens. An example
 * without --server asks the default, so it is given this one.
 */
function onController(example: string, port: number): string {
  const local = `127.0.0.1:${port}`;
  return example.includes("--server")
    ? example.replaceAll("127.0.0.1:9464", local)
    : example.replace(/(\s+#.*)?$/, ` --server http://${local}$1`);
}

/**
 * `run` serves until it is stopped: it must get as far as ready, then stop cleanly on SIGINT, as Ctrl-C sends it
 * to the whole process group. (npx itself then ends on the signal rather than with run's exit code 0: the README
 * says to start run directly under a process manager.)
 */
async function runUntilReady(line: string): Promise<void> {
  await (await startRun(line)).stop();
}

interface StartedRun {
  /** Where it serves /metrics and /status. */
  readonly port: number;
  /** SIGINT to its process group; resolves once it stopped cleanly. */
  stop(): Promise<void>;
}

/**
 * Starts a `run` example on the emulator and waits until it is ready with the example's specs read. The default
 * metrics port may be another process's on a shared machine, so the example gets a free one.
 */
async function startRun(line: string): Promise<StartedRun> {
  line = onEmulator(line);
  const withPort = line.includes("--metrics-bind-address")
    ? line
    : line.replace(/(\s+#.*)?$/, " --metrics-bind-address 127.0.0.1:0$1");
  const child = spawn("bash", ["-c", withPort], {
    cwd: clone,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (/"msg":"ready"/.test(stdout)) resolve();
    });
  });
  const first = await Promise.race([
    ready.then(() => "ready" as const),
    exited.then(() => "exited" as const),
  ]);
  expect(first, stderr + stdout).toBe("ready");
  // Ready with the example's specs read, not merely started: /status knows the resources they declare.
  const port = Number(/"msg":"ready".*?"port":(\d+)/.exec(stdout)?.[1]);
  try {
    const status = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.text());
    expect(status).toContain("CloudMapNamespace/fluentd-local");
  } catch (error) {
    process.kill(-child.pid!, "SIGKILL"); // no controller left behind by a failed test
    throw error;
  }
  return {
    port,
    async stop() {
      process.kill(-child.pid!, "SIGINT");
      const end = await exited;
      expect([0, 130, "SIGINT"], stderr).toContain(end.signal ?? end.code);
      expect(stdout).toMatch(/"msg":"stopped"/);
      expect(stderr.replace(/^npm warn EBADENGINE.*\n/gm, "")).not.toMatch(/ENOENT|unknown option|Usage:/);
    },
  };
}
