import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { FakeAws } from "./fake-aws.ts";
import { measuredFakeApply, median } from "./measure.ts";
import { cloudMapSpecs, weightedSpec } from "./specs.ts";

const run = promisify(execFile);

/** What one child reports of its converged pass. */
export interface ChildFigures {
  readonly seconds: number;
  /** The whole process's CPU during the pass, the fake's included. */
  readonly cpuSeconds: number;
  /** The part of it spent inside the fake. */
  readonly fakeCpuSeconds: number;
  readonly peakRssMb: number;
  /** Peak RSS before the pass: Node, the modules, and the fake holding the account's state. */
  readonly baselinePeakRssMb: number;
  readonly writes: number;
  readonly failures: number;
}

export interface CostFigures {
  readonly kind: "CloudMapService" | "WeightedRecordSet";
  readonly targets: number;
  readonly runs: number;
  /** Medians over the runs. */
  readonly seconds: number;
  readonly operatorCpuSeconds: number;
  readonly fakeCpuSeconds: number;
  readonly peakRssMb: number;
  readonly baselinePeakRssMb: number;
  readonly writes: number;
}

/**
 * The operator's own cost at `targets` tasks (CloudMapService, 10 ECS services) or instances (WeightedRecordSet): a
 * cold pass here brings the fake to a converged account, which each child process loads and runs one converged pass
 * over, so its peak RSS is that pass's alone.
 */
export async function benchCost(
  kind: CostFigures["kind"],
  targets: number,
  runs: number,
): Promise<CostFigures> {
  const fake = new FakeAws();
  let specs: string;
  if (kind === "CloudMapService") {
    for (let s = 0; s < 10; s++) fake.addTasks(`logs-${s}`, `fluentd-${s}`, Math.ceil(targets / 10));
    specs = cloudMapSpecs("vpc-0abc1234", 10, (s) => `logs-${s}`);
  } else {
    fake.addZone("bench.internal");
    fake.addGroup("asg", targets);
    specs = weightedSpec("nodes", "bench.internal", "nodes.bench.internal", "asg");
  }
  const cold = await measuredFakeApply(fake, specs);
  if (cold.failures > 0) throw new Error(`cold pass over the fake failed ${cold.failures} time(s)`);
  const dir = await mkdtemp(join(tmpdir(), "bench-cost-"));
  try {
    await writeFile(join(dir, "state.json"), JSON.stringify(fake.state));
    await writeFile(join(dir, "specs.yaml"), specs);
    const figures: ChildFigures[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(
        process.execPath,
        [
          join(import.meta.dirname, "converged-pass-child.ts"),
          join(dir, "state.json"),
          join(dir, "specs.yaml"),
        ],
        { maxBuffer: 1 << 20 },
      );
      const f = JSON.parse(stdout) as ChildFigures;
      if (f.failures > 0) throw new Error(`converged pass in the child failed ${f.failures} time(s)`);
      figures.push(f);
    }
    const m = (pick: (f: ChildFigures) => number) => median(figures.map(pick));
    return {
      kind,
      targets,
      runs,
      seconds: m((f) => f.seconds),
      operatorCpuSeconds: m((f) => f.cpuSeconds - f.fakeCpuSeconds),
      fakeCpuSeconds: m((f) => f.fakeCpuSeconds),
      peakRssMb: m((f) => f.peakRssMb),
      baselinePeakRssMb: m((f) => f.baselinePeakRssMb),
      writes: Math.max(...figures.map((f) => f.writes)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
