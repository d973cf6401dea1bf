import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { freePort } from "./free-port.ts";

/**
 * A local AWS emulator: `moto_server` (Python's moto) on a free loopback port. Used by the integration tests, the
 * demo and the benchmark. It speaks the real wire protocols, so the real SDK clients talk to it unchanged.
 */
export class MotoEmulator {
  readonly endpoint: string;
  readonly port: number;
  private readonly child: ChildProcess;
  private stderr = "";

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
  }

  static async start(options: { command?: string; timeoutMs?: number } = {}): Promise<MotoEmulator> {
    const command = options.command ?? process.env.MOTO_SERVER ?? "moto_server";
    const port = await freePort();
    const child = spawn(command, ["-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    const emulator = new MotoEmulator(port, child);
    const spawnError = new Promise<never>((_, reject) => {
      child.once("error", (e) =>
        reject(
          new Error(
            `cannot start ${command}: ${e.message}. Install moto's server (the Python package "moto[server]") ` +
              `or set MOTO_SERVER to its path.`,
          ),
        ),
      );
      child.once("exit", (code) =>
        reject(new Error(`${command} exited with code ${code} before it answered:\n${emulator.stderr}`)),
      );
    });
    await Promise.race([emulator.waitReady(options.timeoutMs ?? 30_000), spawnError]);
    child.removeAllListeners("exit");
    await emulator.holdTasksRunning();
    return emulator;
  }

  /**
   * moto moves an ECS task one lifecycle state per DescribeTasks by default (RUNNING -> DEACTIVATING on the first
   * look). Real tasks stay RUNNING until stopped, so tasks here advance only when StopTask is called.
   */
  private async holdTasksRunning(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/state-manager/set-transition`, {
      method: "POST",
      body: JSON.stringify({
        model_name: "ecs::task",
        transition: { progression: "manual", times: 1_000_000_000 },
      }),
    });
    if (res.status !== 201) throw new Error(`moto state manager answered HTTP ${res.status}`);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.endpoint}/moto-api/`);
        if (res.status < 500) return;
      } catch {
        // not listening yet
      }
      await delay(100);
    }
    throw new Error(`moto_server did not answer on ${this.endpoint} within ${timeoutMs} ms:\n${this.stderr}`);
  }

  /** Forgets every resource: a clean account (tasks still stay RUNNING until stopped). */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, { method: "POST" });
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    await this.holdTasksRunning();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** The environment a child process needs to reach this emulator with the standard SDK configuration. */
  env(region = "us-east-1"): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    };
  }
}
