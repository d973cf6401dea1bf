import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";

/** `node cmd/ecs-log-operator.ts run ...` as a child process, its JSON log lines collected. */
export class OperatorProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = "";
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, ["cmd/ecs-log-operator.ts", "run", ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    this.child.stdout?.on("data", (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (line.trim() === "") continue;
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  /** The port it serves on, from its `serving` log line. */
  async port(timeoutMs = 20_000): Promise<number> {
    const line = await this.waitForLine((l) => l.msg === "serving", timeoutMs);
    return Number(line.port);
  }

  async waitForLine(
    test: (line: Record<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.lines.find(test);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) break;
      await delay(50);
    }
    throw new Error(`operator did not log the expected line; stderr:\n${this.stderr}`);
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async terminate(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
