import {
  AwsCallCounter,
  createAwsClients,
  isReadOperation,
  type AwsClients,
} from "../controllers/aws/clients.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { silentLogger } from "../controllers/logger.ts";
import { runPass, type PassResult } from "../controllers/pass.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import { parseSpecText } from "../controllers/spec/load.ts";
import { allKinds, buildReconcilers, kindParts } from "../cmd/kinds.ts";
import type { FakeAws } from "./fake-aws.ts";

/** Calls by operation, reads and writes, and wall time of one `apply` pass. */
export interface PassFigures {
  readonly seconds: number;
  readonly calls: Record<string, number>;
  readonly reads: number;
  readonly writes: number;
  readonly failures: number;
}

/** Runs one apply pass (as `ecs-log-operator apply` does) over specs given as YAML text, counting every call. */
export async function measuredApply(
  emulator: MotoEmulator,
  specsYaml: string,
  ownerId = "bench",
  options: { readonly route53RequestsPerSecond?: number | undefined } = { route53RequestsPerSecond: 1000 },
): Promise<PassFigures> {
  const counter = new AwsCallCounter();
  const clients: AwsClients = createAwsClients({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    observer: counter,
    // Call counts do not depend on it; the Terraform comparison passes the operator's default (5).
    route53RequestsPerSecond: options.route53RequestsPerSecond,
  });
  try {
    const { seconds, result } = await timedApplyPass(
      buildReconcilers(kindParts(clients)),
      specsYaml,
      ownerId,
      "bench",
    );
    const calls = Object.fromEntries([...counter.byOperation()].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      seconds,
      calls,
      reads: counter.calls.filter((c) => isReadOperation(c.operation)).length,
      writes: counter.writes().length,
      failures: result.failures.length,
    };
  } finally {
    clients.destroy();
  }
}

/** The same pass over the in-process fake: calls as the fake counts them (one per HTTP request the adapters would send). */
export async function measuredFakeApply(
  fake: FakeAws,
  specsYaml: string,
  ownerId = "bench",
): Promise<PassFigures> {
  fake.resetCounts();
  const { seconds, result } = await timedApplyPass(fake.reconcilers(), specsYaml, ownerId, "bench (fake)");
  return figuresOf(fake.calls, seconds, result.failures.length);
}

/** One apply pass (as `ecs-log-operator apply` runs it) over specs given as YAML text, timed. */
async function timedApplyPass(
  reconcilers: readonly Reconciler[],
  specsYaml: string,
  ownerId: string,
  label: string,
): Promise<{ seconds: number; result: PassResult }> {
  const parsed = parseSpecText("bench.yaml", specsYaml, allKinds());
  if (parsed.diagnostics.length > 0) throw new Error(parsed.diagnostics.map((d) => d.message).join("\n"));
  const started = performance.now();
  const result = await runPass(
    {
      reconcilers,
      documents: parsed.documents,
      complete: true,
      ownerId,
      logger: silentLogger,
      signal: AbortSignal.timeout(30 * 60_000),
    },
    true,
  );
  const seconds = (performance.now() - started) / 1000;
  for (const f of result.failures) process.stderr.write(`${label}: ${f.key}: ${f.error.message}\n`);
  return { seconds, result };
}

/** Pass figures from `service:Operation` -> count. */
export function figuresOf(
  calls: ReadonlyMap<string, number>,
  seconds: number,
  failures: number,
): PassFigures {
  const sorted = Object.fromEntries([...calls].sort(([a], [b]) => (a < b ? -1 : 1)));
  let reads = 0;
  let writes = 0;
  for (const [op, n] of calls) {
    if (isReadOperation(op.slice(op.indexOf(":") + 1))) reads += n;
    else writes += n;
  }
  return { seconds, calls: sorted, reads, writes, failures };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
