import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("Backoff", () => {
  it("doubles from its base to its cap", () => {
    const b = new Backoff({ baseMs: 5, maxMs: 1000, random: () => 1 });
    expect([0, 1, 2, 3, 10, 60].map((n) => b.delayMs(n))).toEqual([5, 10, 20, 40, 1000, 1000]);
    expect(b.ceilingMs(3)).toBe(40);
  });

  it("takes up to half off at random, never more", () => {
    expect(new Backoff({ baseMs: 100, maxMs: 100, random: () => 0 }).delayMs(0)).toBe(50);
    expect(new Backoff({ baseMs: 100, maxMs: 100, random: () => 0.5 }).delayMs(0)).toBe(75);
    expect(new Backoff({ baseMs: 100, maxMs: 100, jitter: 0, random: () => 0 }).delayMs(0)).toBe(100);
  });

  it("refuses a base above its cap", () => {
    expect(() => new Backoff({ baseMs: 10, maxMs: 5 })).toThrow(/baseMs <= maxMs/);
  });
});
