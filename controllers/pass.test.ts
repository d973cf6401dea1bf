import { describe, expect, it } from "vitest";
import { AwsError } from "./aws/errors.ts";
import { ManualClock } from "./clock.ts";
import { DeadlineExceededError } from "./deadline.ts";
import { silentLogger } from "./logger.ts";
import { PassMemo } from "./pass-memo.ts";
import { runPass } from "./pass.ts";
import { TerminalError, type ReconcileContext, type Reconciler, type ResourcePlan } from "./reconciler.ts";
import type { SpecDocument } from "./spec/document.ts";

const doc = (name: string): SpecDocument => ({
  apiVersion: "ecs-log-operator/v1alpha1",
  kind: "Thing",
  metadata: { name },
  spec: {},
  generation: name,
  source: { file: "t.yaml", line: 1, col: 1 },
  positionOf: () => ({ file: "t.yaml", line: 1, col: 1 }),
});

/** Plans fail as scripted per name: one error per try, then success. Reads go through a per-pass memo. */
class Things implements Reconciler {
  readonly kind = "Thing";
  readonly order = 1;
  readonly script = new Map<string, (Error | "hang")[]>();
  readonly applied: string[] = [];
  readonly memo = new PassMemo<number>();
  reads = 0;

  async plan(d: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    await this.memo.get(ctx, "listing", async () => ++this.reads);
    const next = this.script.get(d.metadata.name)?.shift();
    if (next === "hang") {
      await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
    } else if (next !== undefined) throw next;
    return {
      key: `Thing/${d.metadata.name}`,
      kind: "Thing",
      changes: [{ action: "create", target: d.metadata.name }],
      apply: async () => void this.applied.push(d.metadata.name),
    };
  }
}

const throttled = () => new AwsError("throttled", "route53", "List", "Throttling", "Rate exceeded");

async function drive<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; i < 200 && !done; i++) await clock.advance(1000);
  return p;
}

describe("runPass", () => {
  it("retries a resource that failed for a passing reason, from fresh reads, and shares reads on a first try", async () => {
    const clock = new ManualClock();
    const things = new Things();
    things.script.set("a", [throttled(), throttled()]);
    things.script.set("b", [new TerminalError("cannot")]);
    const result = await drive(
      clock,
      runPass(
        {
          reconcilers: [things],
          documents: [doc("a"), doc("b"), doc("c")],
          complete: true,
          ownerId: "o",
          logger: silentLogger,
          signal: new AbortController().signal,
          clock,
        },
        true,
      ),
    );
    expect(things.applied.sort()).toEqual(["a", "c"]);
    expect(result.failures.map((f) => [f.key, f.error.message])).toEqual([["Thing/b", "cannot"]]);
    // One read shared by the three first tries; one more for each of a's two retries.
    expect(things.reads).toBe(3);
  });

  it("gives up after its attempts, and aborts a resource that outlives its deadline", async () => {
    const clock = new ManualClock();
    const things = new Things();
    things.script.set("a", [throttled(), throttled(), throttled(), throttled()]);
    things.script.set("b", ["hang"]);
    const result = await drive(
      clock,
      runPass(
        {
          reconcilers: [things],
          documents: [doc("a"), doc("b")],
          complete: true,
          ownerId: "o",
          logger: silentLogger,
          signal: new AbortController().signal,
          reconcileTimeoutMs: 10_000,
          attempts: 4,
          clock,
        },
        true,
      ),
    );
    expect(things.applied).toEqual([]);
    const byKey = new Map(result.failures.map((f) => [f.key, f.error]));
    expect((byKey.get("Thing/a") as AwsError).code).toBe("Throttling");
    expect(byKey.get("Thing/b")).toBeInstanceOf(DeadlineExceededError);
    expect(byKey.get("Thing/b")?.message).toBe(
      "Thing/b did not finish within 10s (--reconcile-timeout); its AWS calls were aborted",
    );
  });
});
