import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// Drives `npm start` (cmd/demo/demo.ts) as a new user would, without a terminal: the whole scenario against the
// emulator, then Ctrl-C (SIGINT), which must stop everything and remove what the demo wrote.
describe("the demo (npm start)", () => {
  let dir = "";
  let child: ChildProcess | undefined;
  afterAll(async () => {
    // A failed assertion must not leave the demo (and its emulator) running.
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGINT");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("converges every step, reports the final AWS state, and exits cleanly on Ctrl-C", async () => {
    dir = await mkdtemp(join(tmpdir(), "demo-test-"));
    const summaryFile = join(dir, "summary.json");
    const demo = spawn(
      process.execPath,
      ["cmd/demo/demo.ts", "--metrics-port", "0", "--summary-file", summaryFile],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    child = demo;
    let out = "";
    demo.stdout.on("data", (d: Buffer) => (out += d.toString()));
    demo.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once("exit", (code) => resolve(code)));

    const deadline = Date.now() + 150_000;
    while (!out.includes("Ctrl-C to stop") && Date.now() < deadline && demo.exitCode === null) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out).toContain("Every step converged.");
    const summary = JSON.parse(await readFile(summaryFile, "utf8")) as {
      allConverged: boolean;
      steps: { state: string }[];
      finalAwsState: string;
      specDir: string;
    };
    expect(summary.allConverged).toBe(true);
    expect(summary.steps.map((s) => s.state)).toEqual(Array(6).fill("converged"));
    expect(summary.finalAwsState).toMatch(/^2 instances, 2 records, revision \d+ routed$/);
    expect(existsSync(summary.specDir)).toBe(true);

    // The line the demo tells a user to paste: a plan against its emulator finds nothing to do.
    const endpoint = /AWS_ENDPOINT_URL=(\S+)/.exec(out)?.[1];
    expect(endpoint).toBeDefined();
    const plan = await promisify(execFile)(
      process.execPath,
      ["cmd/ecs-log-operator.ts", "plan", summary.specDir, "--owner-id", "demo"],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: endpoint,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "demo",
          AWS_SECRET_ACCESS_KEY: "demo",
          NO_COLOR: "1",
        },
      },
    );
    expect(plan.stdout).toContain("No changes: AWS matches the specs.");

    // Step 6's failure, as the page it points to and the describe line it prints explain it.
    const pageUrl = /status page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    expect(pageUrl).toBeDefined();
    const page = await (await fetch(pageUrl ?? "")).text();
    expect(page).toMatch(
      /<tr data-resource="CloudMapService\/fluentd">[\s\S]*?data-condition="Degraded" data-status="True"[\s\S]*?<td class="reason">EssentialContainerExited<\/td>/,
    );
    const describeLine = /npx ecs-log-operator (describe CloudMapService\/fluentd --server \S+)/.exec(
      out,
    )?.[1];
    expect(describeLine).toBeDefined();
    const described = await promisify(execFile)(
      process.execPath,
      ["cmd/ecs-log-operator.ts", ...(describeLine ?? "").split(" ")],
      { env: { ...process.env, NO_COLOR: "1" } },
    );
    expect(described.stdout).toMatch(/^ {2}Degraded\s+True\s+EssentialContainerExited\s/m);
    expect(described.stdout).toContain("Essential container in task exited");

    demo.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("Stopping");
    expect(existsSync(summary.specDir)).toBe(false);
  }, 180_000);
});
