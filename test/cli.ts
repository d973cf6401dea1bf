import type { Output } from "../cmd/cli-support.ts";
import { main } from "../cmd/ecs-log-operator.ts";

/** Runs the CLI in this process as a user would type it, capturing what it prints and its exit code. */
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const code = await main(argv, io);
  return { code, out, err };
}
