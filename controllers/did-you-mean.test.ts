import { describe, expect, it } from "vitest";
import { closest, didYouMean, editDistance } from "./did-you-mean.ts";

describe("editDistance", () => {
  it.each([
    ["region", "region", 0],
    ["regoin", "region", 1],
    ["hostedZon", "hostedZone", 1],
    ["developmnt", "development", 1],
    ["ttl", "type", 3],
    ["", "abc", 3],
  ])("%s -> %s is %i", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe("closest", () => {
  it.each([
    ["hostedZon", ["hostedZone", "name", "type", "ttl"], "hostedZone"],
    ["regoin", ["environment", "owner-id", "region", "endpoint-url"], "region"],
    ["developmnt", ["development", "production"], "development"],
    ["CloudMapServce", ["CloudMapNamespace", "CloudMapService", "WeightedRecordSet"], "CloudMapService"],
    ["cloudmapservice", ["CloudMapNamespace", "CloudMapService"], "CloudMapService"],
    ["tll", ["ttl", "zone"], "ttl"],
    ["endpoint", ["endpoint-url", "environment"], "endpoint-url"],
    ["multivalue", ["MULTIVALUE", "WEIGHTED"], "MULTIVALUE"],
  ])("suggests for %s", (input, candidates, expected) => {
    expect(closest(input, candidates)).toBe(expected);
  });

  it.each([
    ["x", ["h", "region"]],
    ["zone", ["name", "type"]],
    ["output", ["environment", "region"]],
    ["en", ["environment", "endpoint-url"]],
  ])("suggests nothing for %s, which is no typo of %j", (input, candidates) => {
    expect(closest(input, candidates)).toBeUndefined();
  });

  it("prefers the nearest, then the first listed", () => {
    expect(closest("nam", ["names", "name"])).toBe("name");
    expect(closest("ab", ["ac", "ad"])).toBe("ac");
  });
});

describe("didYouMean", () => {
  it("is a suffix for a message, or nothing", () => {
    expect(didYouMean("regoin", ["region"])).toBe(" (did you mean region?)");
    expect(didYouMean("Start", ["START", "HEALTHY"], true)).toBe(' (did you mean "START"?)');
    expect(didYouMean("zzz", ["region"])).toBe("");
  });
});
