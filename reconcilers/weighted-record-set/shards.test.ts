import { describe, expect, it } from "vitest";
import { assignShards, balancedSizes, shardIndexOf, shardsNeeded } from "./shards.ts";

const ids = (n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `i-${String(from + i).padStart(4, "0")}`);

function moves(before: readonly string[][], after: readonly string[][]): number {
  const was = new Map(before.flatMap((m, k) => m.map((id) => [id, k] as const)));
  return after.flatMap((m, k) => m.filter((id) => was.has(id) && was.get(id) !== k)).length;
}

function current(layout: readonly string[][]): Map<string, number> {
  return new Map(layout.flatMap((m, k) => m.map((id) => [id, k] as const)));
}

describe("shards", () => {
  it("needs the fewest shards that hold every target", () => {
    expect(shardsNeeded(0, () => 100)).toBe(1);
    expect(shardsNeeded(100, () => 100)).toBe(1);
    expect(shardsNeeded(101, () => 100)).toBe(2);
    expect(shardsNeeded(300, () => 100)).toBe(3);
    expect(shardsNeeded(300, (k) => (k === 0 ? 90 : 100))).toBe(4);
  });

  it("sizes shards as equally as capacities allow", () => {
    expect(balancedSizes(250, [100, 100, 100], [0, 0, 0])).toEqual([84, 83, 83]);
    expect(balancedSizes(250, [100, 100, 100], [10, 90, 0])).toEqual([83, 84, 83]);
    expect(balancedSizes(250, [60, 100, 100], [0, 0, 0])).toEqual([60, 95, 95]);
    expect(() => balancedSizes(301, [100, 100, 100], [0, 0, 0])).toThrow();
  });

  it("reads shard indexes from names", () => {
    expect(shardIndexOf("s12.f.example", "f.example")).toBe(12);
    expect(shardIndexOf("f.example", "f.example")).toBeUndefined();
    expect(shardIndexOf("s01.f.example", "f.example")).toBeUndefined();
    expect(shardIndexOf("x.s1.f.example", "f.example")).toBeUndefined();
  });

  it("assigns deterministically and keeps targets where they are", () => {
    const first = assignShards(ids(250), new Map(), [100, 100, 100]);
    expect(first.map((m) => m.length)).toEqual([84, 83, 83]);
    expect(assignShards([...ids(250)].reverse(), new Map(), [100, 100, 100])).toEqual(first);
    expect(assignShards(ids(250), current(first), [100, 100, 100])).toEqual(first);
  });

  it("moves only what balance needs when targets leave unevenly", () => {
    const first = assignShards(ids(300), new Map(), [100, 100, 100]);
    const leaving = new Set(first[2]!.slice(0, 30));
    const next = assignShards(
      ids(300).filter((id) => !leaving.has(id)),
      current(first),
      [100, 100, 100],
    );
    expect(next.map((m) => m.length)).toEqual([90, 90, 90]);
    expect(moves(first, next)).toBe(20);
  });

  it("fills new targets without moving old ones, and adds a shard only when needed", () => {
    const first = assignShards(ids(150), new Map(), [100, 100]);
    const grown = assignShards(ids(200), current(first), [100, 100]);
    expect(moves(first, grown)).toBe(0);
    expect(grown.map((m) => m.length)).toEqual([100, 100]);
    const third = assignShards(ids(201), current(grown), [100, 100, 100]);
    expect(third.map((m) => m.length)).toEqual([67, 67, 67]);
    expect(moves(grown, third)).toBe(66);
  });
});
