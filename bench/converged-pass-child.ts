import { readFile } from "node:fs/promises";
import { silentLogger } from "../controllers/logger.ts";
import { runPass } from "../controllers/pass.ts";
import { parseSpecText } from "../controllers/spec/load.ts";
import { allKinds } from "../cmd/kinds.ts";
import { FakeAws, type FakeState } from "./fake-aws.ts";

/**
 * One converged pass over the in-process fake, alone in its process so that its peak RSS is its own:
 * `node bench/converged-pass-child.ts STATE.json SPECS.yaml`. Prints one JSON line (see `ChildFigures` in cost.ts).
 */
const [statePath, specsPath] = process.argv.slice(2);
if (statePath === undefined || specsPath === undefined)
  throw new Error("usage: converged-pass-child STATE SPECS");
const fake = new FakeAws(JSON.parse(await readFile(statePath, "utf8")) as FakeState);
const parsed = parseSpecText("bench.yaml", await readFile(specsPath, "utf8"), allKinds());
const reconcilers = fake.reconcilers();
const baselineMaxRssKb = process.resourceUsage().maxRSS;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const result = await runPass(
  {
    reconcilers,
    documents: parsed.documents,
    complete: true,
    ownerId: "bench",
    logger: silentLogger,
    signal: AbortSignal.timeout(10 * 60_000),
  },
  true,
);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const writes = [...fake.calls]
  .filter(([op]) => !/:(List|Describe|Get)/.test(op))
  .reduce((n, [, c]) => n + c, 0);
process.stdout.write(
  JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    fakeCpuSeconds: fake.cpuMicros / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    baselinePeakRssMb: baselineMaxRssKb / 1024,
    writes,
    failures: result.failures.length + parsed.diagnostics.length,
  }) + "\n",
);
