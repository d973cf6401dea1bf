import { expect } from "vitest";
import type { AwsCallCounter } from "../../controllers/aws/clients.ts";
import type { PassResult } from "../../controllers/pass.ts";

/** The writes a pass's plans list, as `service:Operation`, sorted: a multiset to compare. */
export function plannedWrites(result: PassResult): string[] {
  return result.plans
    .flatMap((p) => p.changes)
    .map((c) => c.write ?? `(no write named: ${c.action} ${c.target})`)
    .sort();
}

/**
 * `plan`, then `apply` of the same specs against the same AWS state: asserts that apply listed the changes plan
 * printed, and that the writes AWS accepted during apply (one per change of a batch) are exactly those, no more, no
 * fewer. Returns both passes for the scenario's own assertions.
 */
export async function planThenApply(
  counter: AwsCallCounter,
  run: (apply: boolean) => Promise<PassResult>,
): Promise<{ planned: PassResult; applied: PassResult }> {
  counter.reset();
  const planned = await run(false);
  expect(planned.failures.map((f) => `${f.key}: ${f.error.message}`)).toEqual([]);
  // plan reads only.
  expect(counter.changesMade()).toEqual([]);
  counter.reset();
  const applied = await run(true);
  expect(applied.failures.map((f) => `${f.key}: ${f.error.message}`)).toEqual([]);
  const lines = (r: PassResult) =>
    r.plans.flatMap((p) => p.changes.map((c) => `${p.key}: ${c.action} ${c.target}`)).sort();
  expect(lines(applied)).toEqual(lines(planned));
  expect(counter.changesMade().sort()).toEqual(plannedWrites(planned));
  return { planned, applied };
}
