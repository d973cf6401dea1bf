import type { Output } from "../cmd/cli-support.ts";

/** A command's `Output` that keeps what it printed, for tests. */
export function captureOutput(): Output & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    color: false,
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}
