import { describe, expect, it } from "vitest";
import { guardOrphanPlans, sweepsRemove } from "./orphan-guard.ts";
import type { ResourcePlan } from "./reconciler.ts";

let applied = 0;
const orphan: ResourcePlan = {
  key: "WeightedRecordSet/edge (edge.shop.internal: no spec manages it)",
  kind: "WeightedRecordSet",
  changes: [
    {
      action: "delete",
      target: "edge.shop.internal A i-1 10.0.0.1",
      write: "route53:ChangeResourceRecordSets",
    },
  ],
  apply: async () => {
    applied++;
  },
};

describe("guardOrphanPlans", () => {
  it("lets a chosen owner id's sweep remove its orphans", async () => {
    expect(sweepsRemove("prod-logs")).toBe(true);
    const [plan] = guardOrphanPlans([orphan], "prod-logs");
    expect(plan).toBe(orphan);
  });

  it("under the default owner id, says what it left and how to let it go, and changes nothing", async () => {
    expect(sweepsRemove("default")).toBe(false);
    const [plan] = guardOrphanPlans([orphan], "default");
    expect(plan?.changes).toEqual([]);
    expect(plan?.notes?.join("\n")).toMatch(
      /^left as it is: delete edge\.shop\.internal A i-1 10\.0\.0\.1\. .*owner id is "default".*--owner-id/,
    );
    applied = 0;
    await plan?.apply(new AbortController().signal);
    expect(applied).toBe(0);
  });
});
