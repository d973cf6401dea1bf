import { spawn, spawnSync } from "node:child_process";
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./docker-harness.ts";

// ensure-docker.sh clears an engine's pid files before it starts one. A CI job once failed because the machine's
// previous engine had been killed, its containerd.pid named a number that another process had taken since, and dockerd
// waited for that "containerd" until it gave up. These cases run the script on files of their own, with real processes.
const script = join(REPO_ROOT, "test/e2e/stale-pid-file.sh");

describe("stale-pid-file.sh", () => {
  let dir = "";
  let impostor: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ecs-log-operator-pidfile-"));
    // A process the kernel names "containerd": a copy of sleep under that name.
    const sleep = spawnSync("bash", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim();
    await copyFile(sleep, join(dir, "containerd"));
    await chmod(join(dir, "containerd"), 0o755);
    impostor = spawn(join(dir, "containerd"), ["60"], { stdio: "ignore" });
    // spawn returns before the exec: wait until the kernel names the child after its new program.
    const comm = `/proc/${impostor.pid}/comm`;
    while ((await readFile(comm, "utf8").catch(() => "")).trim() !== "containerd") await delay(10);
  });
  afterAll(async () => {
    impostor?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  async function runWith(
    content: string | undefined,
    program: string,
  ): Promise<{ kept: boolean; stderr: string }> {
    const file = join(dir, "x.pid");
    await rm(file, { force: true });
    if (content !== undefined) await writeFile(file, content);
    const result = spawnSync("bash", [script, file, program], { encoding: "utf8" });
    expect(result.status).toBe(0);
    const kept = await readFile(file, "utf8").then(
      () => true,
      () => false,
    );
    return { kept, stderr: result.stderr };
  }

  it("keeps the file while its own program runs under that pid", async () => {
    expect((await runWith(`${impostor?.pid}\n`, "containerd")).kept).toBe(true);
  });

  it("removes the file when the pid now belongs to another program, and says so", async () => {
    const { kept, stderr } = await runWith(String(process.pid), "containerd");
    expect(kept).toBe(false);
    expect(stderr).toContain(`pid ${process.pid} is not a running containerd`);
  });

  it("removes the file when no process has the pid, or when it holds no number", async () => {
    const gone = spawnSync("true").pid; // exited and reaped: its number names no process now (nor soon again)
    expect((await runWith(String(gone), "dockerd")).kept).toBe(false);
    expect((await runWith("", "dockerd")).kept).toBe(false);
    expect((await runWith("not-a-pid", "dockerd")).kept).toBe(false);
  });

  it("accepts a missing file", async () => {
    expect((await runWith(undefined, "dockerd")).kept).toBe(false);
  });
});
