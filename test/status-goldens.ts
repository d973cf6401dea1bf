import { Registry } from "prom-client";
import { describeCommand } from "../cmd/commands/describe.ts";
import { getCommand } from "../cmd/commands/get.ts";
import { formatInspectText } from "../cmd/inspect-report.ts";
import { HttpServer } from "../controllers/http-server.ts";
import type { StatusDocument } from "../controllers/status-model.ts";
import { renderStatusPage } from "../controllers/status-page.ts";
import { captureOutput } from "./captured-output.ts";
import { logClusterInspectReport } from "./fixtures/inspect/log-cluster-inventory.ts";
import { logClusterStatus } from "./fixtures/status/log-cluster-status.ts";

/** The `get` invocations whose output is a golden file (against the seeds' log cluster status). */
export const GET_GOLDENS: readonly (readonly [golden: string, args: string[]])[] = [
  ["get.txt", []],
  ["get-cloudmapservices.txt", ["cloudmapservices"]],
  ["get-weightedrecordset-fluentd.txt", ["WeightedRecordSet/fluentd"]],
];

/** The `describe` invocations whose output is a golden file. */
export const DESCRIBE_GOLDENS: readonly (readonly [golden: string, target: string])[] = [
  ["describe-cloudmapservice-fluentd.txt", "CloudMapService/fluentd"],
  ["describe-logrouter-gaze-heatmap.txt", "logrouter/gaze-heatmap"],
  ["describe-weightedrecordset-log-asg.txt", "WeightedRecordSet/log-asg"],
];

// The wall clock is never read: ages count from the document's generatedAt.
const never = (): number => {
  throw new Error("read the wall clock");
};

/** Runs `get` or `describe` in process against `server`, as a person would from a shell. */
export async function runStatusCommand(
  command: typeof getCommand,
  args: readonly string[],
  server: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureOutput();
  const code = await command([...args, "--server", server], io, never);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** An HTTP server (the controller's own) serving `doc` on loopback at `/status`. */
export async function serveStatus(
  doc: StatusDocument,
): Promise<{ base: string; close: () => Promise<void> }> {
  const server = new HttpServer({
    bindAddress: "127.0.0.1:0",
    registry: new Registry(),
    alive: () => true,
    ready: () => ({ ready: true, phase: "ready" }),
    status: () => doc,
  });
  await server.listen();
  return { base: `http://127.0.0.1:${server.port}`, close: () => server.close() };
}

/** Every golden file of issue 19's output (the page, get, describe, inspect), rendered now: for `npm run golden`. */
export async function renderStatusGoldens(): Promise<Map<string, string>> {
  const doc = await logClusterStatus();
  const out = new Map<string, string>([
    ["status-page.html", renderStatusPage(doc)],
    ["inspect.txt", formatInspectText(logClusterInspectReport())],
  ]);
  const { base, close } = await serveStatus(doc);
  try {
    for (const [name, args] of GET_GOLDENS)
      out.set(name, (await runStatusCommand(getCommand, args, base)).stdout);
    for (const [name, target] of DESCRIBE_GOLDENS) {
      out.set(name, (await runStatusCommand(describeCommand, [target], base)).stdout);
    }
  } finally {
    await close();
  }
  return out;
}
