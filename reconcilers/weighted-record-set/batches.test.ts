import { describe, expect, it } from "vitest";
import { costOf, packBatches, ROUTE53_BATCH_LIMITS } from "./batches.ts";
import type { ChangeUnit } from "./planner.ts";
import type { RecordAction, RecordChange } from "./route53-api.ts";

function change(action: RecordAction, id: string, value = "10.0.0.1"): RecordChange {
  return {
    action,
    record: { name: "a.example", type: "A", setIdentifier: id, weight: 1, ttl: 10, values: [value] },
  };
}

function units(n: number, action: RecordAction, phase: ChangeUnit["phase"] = 2): ChangeUnit[] {
  return Array.from({ length: n }, (_, i) => ({
    phase,
    changes: [change(action, `i-${i}`), change(action, `t-${i}`)],
  }));
}

describe("costOf", () => {
  it("counts an UPSERT's values and characters twice, as Route 53 does", () => {
    expect(costOf([change("CREATE", "a"), change("DELETE", "b")])).toEqual({
      values: 2,
      characters: 16,
      changes: 2,
    });
    expect(costOf([change("UPSERT", "a")])).toEqual({ values: 2, characters: 16, changes: 1 });
    const alias: RecordChange = {
      action: "UPSERT",
      record: {
        name: "a",
        type: "A",
        setIdentifier: "s",
        weight: 1,
        alias: { hostedZoneId: "Z", dnsName: "b", evaluateTargetHealth: false },
      },
    };
    expect(costOf([alias])).toEqual({ values: 0, characters: 0, changes: 1 });
  });
});

describe("packBatches", () => {
  it("sends what fits in one batch", () => {
    const batches = packBatches(units(500, "CREATE"));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(1000);
  });

  it("splits beyond 1,000 values, UPSERTs counting twice, never splitting a unit", () => {
    const batches = packBatches(units(300, "UPSERT"));
    expect(batches.map((b) => b.length)).toEqual([500, 100]);
    for (const b of batches) expect(costOf(b).values).toBeLessThanOrEqual(ROUTE53_BATCH_LIMITS.values);
    // Each unit's two changes stay together: a batch never ends between i-N and t-N.
    for (const b of batches) expect(b.at(-1)?.record.setIdentifier).toMatch(/^t-/);
  });

  it("splits beyond 32,000 characters of values", () => {
    const long = "x".repeat(255);
    const big: ChangeUnit[] = Array.from({ length: 200 }, (_, i) => ({
      phase: 2,
      changes: [change("CREATE", `i-${i}`, long)],
    }));
    const batches = packBatches(big);
    expect(batches.map((b) => b.length)).toEqual([125, 75]);
    for (const b of batches) expect(costOf(b).characters).toBeLessThanOrEqual(32_000);
  });

  it("orders units by phase: removals first, alias records after the records they point at", () => {
    const mixed: ChangeUnit[] = [
      { phase: 3, changes: [change("CREATE", "alias")] },
      { phase: 2, changes: [change("CREATE", "new")] },
      { phase: 0, changes: [change("DELETE", "gone")] },
    ];
    expect(packBatches(mixed)[0]!.map((c) => c.record.setIdentifier)).toEqual(["gone", "new", "alias"]);
  });

  it("respects smaller limits and rejects a unit that can never fit", () => {
    expect(
      packBatches(units(5, "CREATE"), { values: 4, characters: 1000, changes: 100 }).map((b) => b.length),
    ).toEqual([4, 4, 2]);
    expect(() => packBatches(units(1, "UPSERT"), { values: 3, characters: 1000, changes: 100 })).toThrow(
      /does not fit/,
    );
  });
});
