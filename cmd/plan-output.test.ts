import { describe, expect, it } from "vitest";
import type { ResourcePlan } from "../controllers/reconciler.ts";
import { failureLine, formatPlanText } from "./plan-output.ts";

const plan = (key: string, changes: ResourcePlan["changes"]): ResourcePlan => ({
  key,
  kind: key.slice(0, key.indexOf("/")),
  changes,
  apply: async () => undefined,
});
const source = { file: "specs/a.yaml", line: 4, col: 1 };

describe("formatPlanText", () => {
  it("groups changes by resource with a symbol each, and sums them up", () => {
    const text = formatPlanText(
      [
        plan("CloudMapService/fluentd", [
          { action: "create", target: "instance t1 10.0.0.1:24224" },
          { action: "delete", target: "instance t0", detail: "task stopped" },
        ]),
        plan("CloudMapNamespace/local", []),
      ],
      [],
      false,
    );
    expect(text).toBe(
      [
        "CloudMapService/fluentd",
        "  + create instance t1 10.0.0.1:24224",
        "  - delete instance t0 (task stopped)",
        "CloudMapNamespace/local: up to date",
        "",
        "Plan: 1 to create, 0 to update, 1 to delete.",
        "",
      ].join("\n"),
    );
  });

  it("shows held deletions apart, counts them out of the plan, and says why and how to let them go", () => {
    const held = {
      kind: "WeightedRecordSet",
      reason: "SpecSetEmpty" as const,
      resources: ["WeightedRecordSet/a"],
      message: "the spec set is empty: ... pass --allow-empty",
    };
    const text = formatPlanText(
      [
        {
          ...plan("WeightedRecordSet/a", [{ action: "delete", target: "a.logs.internal A i-1 10.0.0.1" }]),
          held: held.message,
        },
      ],
      [],
      false,
      [held],
    );
    expect(text).toBe(
      [
        "WeightedRecordSet/a: deletions held by the prune guard",
        "  ! held delete a.logs.internal A i-1 10.0.0.1",
        "",
        "Held: the spec set is empty: ... pass --allow-empty.",
        "1 change(s) held: neither this plan nor apply makes them while the guard holds.",
        "No other changes.",
        "",
      ].join("\n"),
    );
  });

  it("never says 'No changes' when a resource could not be planned", () => {
    const text = formatPlanText(
      [],
      [{ key: "WeightedRecordSet/x", error: new Error("zone not found"), source }],
      false,
    );
    expect(text).not.toContain("No changes");
    expect(text).toContain("specs/a.yaml:4:1: WeightedRecordSet/x: zone not found");
    expect(text).toContain(
      "1 resource(s) could not be planned (see the errors above); no changes for the others.",
    );
  });

  it("colours only when asked", () => {
    const changes = [{ action: "update" as const, target: "ttl" }];
    expect(formatPlanText([plan("A/b", changes)], [], true)).toContain("\u001b[33m~ update ttl");
    expect(formatPlanText([plan("A/b", changes)], [], false)).not.toContain("\u001b[");
  });
});

describe("failureLine", () => {
  it("puts the spec's position first, unless the message already starts with one", () => {
    expect(failureLine({ key: "K/n", error: new Error("boom"), source })).toBe("specs/a.yaml:4:1: K/n: boom");
    expect(
      failureLine({ key: "K/n", error: new Error("specs/a.yaml:9:3: K/n: family missing"), source }),
    ).toBe("specs/a.yaml:9:3: K/n: family missing");
    expect(failureLine({ key: "K/*", error: new Error("sweep failed") })).toBe("K/*: sweep failed");
  });
});
