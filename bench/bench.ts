import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { MotoEmulator } from "../controllers/aws/moto-emulator.ts";
import { benchCloudMap } from "./cloud-map.ts";

/**
 * `npm run bench`: figures taken the same way every time, printed as a table and written as JSON under
 * bench/results/. A script, not a test: it measures and asserts nothing.
 */
const { values } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    quick: { type: "boolean" },
  },
});
const want = (name: string) => values.only === undefined || values.only.includes(name);

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
});
const emulator = await MotoEmulator.start();
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
const lines: string[] = [];
try {
  if (want("cloud-map")) {
    const tasks = values.quick ? 200 : 1000;
    const f = await benchCloudMap(emulator, tasks, 10);
    results.cloudMap = f;
    lines.push(
      `Cloud Map: ${f.tasks} running tasks in ${f.services} services (moto)`,
      `  cold apply:      ${f.cold.seconds.toFixed(2)} s, ${f.cold.reads} reads, ${f.cold.writes} writes`,
      `  converged apply: ${f.converged.seconds.toFixed(2)} s, ${f.converged.reads} reads (floor ${f.convergedReadFloor}, ` +
        `${((f.converged.reads / f.convergedReadFloor - 1) * 100).toFixed(0)}% over), ${f.converged.writes} writes`,
      `  converged calls: ${JSON.stringify(f.converged.calls)}`,
    );
  }
} finally {
  await emulator.stop();
}
process.stdout.write(lines.join("\n") + "\n");
await mkdir("bench/results", { recursive: true });
const file = `bench/results/${new Date().toISOString().slice(0, 10)}.json`;
await writeFile(file, JSON.stringify(results, null, 2) + "\n");
process.stdout.write(`written to ${file}\n`);
