import { describe, expect, it } from "vitest";
import { silentLogger } from "./logger.ts";
import type { ReconcileContext, ResourcePlan } from "./reconciler.ts";
import { applyLive, planForWrite, planOrphansForWrite, type TickReads } from "./tick-reads.ts";

/** Records whether each plan ran inside `live()`. */
function tickReads(): TickReads & { liveDepth: number } {
  const reads = {
    liveDepth: 0,
    beginTick() {},
    invalidateWatchKeys: () => 0,
    async live<T>(work: () => Promise<T>): Promise<T> {
      reads.liveDepth++;
      try {
        return await work();
      } finally {
        reads.liveDepth--;
      }
    },
  };
  return reads;
}

const ctx: ReconcileContext = {
  signal: new AbortController().signal,
  logger: silentLogger,
  ownerId: "test",
  documents: [],
};

function plan(changes: number): ResourcePlan {
  return {
    key: "Kind/a",
    kind: "Kind",
    changes: Array.from({ length: changes }, (_, i) => ({ action: "create" as const, target: `t${i}` })),
    apply: async () => {},
  };
}

describe("planForWrite", () => {
  it("a converged plan is made once, from the shared reads", async () => {
    const reads = tickReads();
    const seen: { shared: boolean | undefined; live: number }[] = [];
    const planned = await planForWrite(reads, ctx, async (c) => {
      seen.push({ shared: c.sharedReads, live: reads.liveDepth });
      return plan(0);
    });
    expect(planned.changes).toHaveLength(0);
    expect(seen).toEqual([{ shared: true, live: 0 }]);
  });

  it("a plan that would write is made again from live reads, and that plan is the one returned", async () => {
    const reads = tickReads();
    const seen: { shared: boolean | undefined; live: number }[] = [];
    const planned = await planForWrite(reads, ctx, async (c) => {
      seen.push({ shared: c.sharedReads, live: reads.liveDepth });
      // The live read shows someone else already fixed one of the two.
      return plan(c.sharedReads === true ? 2 : 1);
    });
    expect(planned.changes).toHaveLength(1);
    expect(seen).toEqual([
      { shared: true, live: 0 },
      { shared: false, live: 1 },
    ]);
  });

  it("a plan whose writes AWS checks itself (guarded) is applied from the shared reads", async () => {
    const reads = tickReads();
    let calls = 0;
    const planned = await planForWrite(reads, ctx, async () => {
      calls++;
      return { ...plan(2), guarded: true };
    });
    expect(calls).toBe(1);
    expect(planned.changes).toHaveLength(2);
  });

  it("without a shared cache, one plan from live reads", async () => {
    const contexts: ReconcileContext[] = [];
    await planForWrite(undefined, ctx, async (c) => {
      contexts.push(c);
      return plan(3);
    });
    expect(contexts).toEqual([ctx]);
  });

  it("a sweep with any change is planned again live; its writes run live", async () => {
    const reads = tickReads();
    let calls = 0;
    const plans = await planOrphansForWrite(reads, ctx, async () => {
      calls++;
      return [plan(0), plan(1)];
    });
    expect(calls).toBe(2);
    expect(plans).toHaveLength(2);
    let liveInApply = -1;
    await applyLive(reads, async () => {
      liveInApply = reads.liveDepth;
    });
    expect(liveInApply).toBe(1);
  });
});
