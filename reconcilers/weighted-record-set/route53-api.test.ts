import { describe, expect, it } from "vitest";
import { atOrBelow } from "./route53-api.ts";

describe("atOrBelow", () => {
  it("takes the name and the names below it, not a sibling that shares its first label's start", () => {
    expect(atOrBelow("fluentd.logs.internal", "fluentd.logs.internal")).toBe(true);
    expect(atOrBelow("s0.fluentd.logs.internal", "fluentd.logs.internal")).toBe(true);
    expect(atOrBelow("_elo-a.s0.fluentd.logs.internal", "fluentd.logs.internal")).toBe(true);
    expect(atOrBelow("fluentd2.logs.internal", "fluentd.logs.internal")).toBe(false);
    expect(atOrBelow("xfluentd.logs.internal", "fluentd.logs.internal")).toBe(false);
    expect(atOrBelow("logs.internal", "fluentd.logs.internal")).toBe(false);
  });
});
