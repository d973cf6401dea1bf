import { describe, expect, it } from "vitest";
import { StatusStore } from "./status.ts";

describe("StatusStore", () => {
  it("moves lastTransitionTime only when a condition's status changes", () => {
    let t = 0;
    const store = new StatusStore(() => new Date(Date.UTC(2026, 0, 1, 0, 0, t)));
    store.track("Widget/a", "gen1");
    expect(store.get("Widget/a")?.conditions).toEqual([
      {
        type: "Ready",
        status: "Unknown",
        reason: "Pending",
        message: "not reconciled yet",
        lastTransitionTime: "2026-01-01T00:00:00.000Z",
      },
    ]);
    t = 1;
    store.record("Widget/a", { result: "error", reason: "ReconcileError", message: "boom" });
    t = 2;
    store.record("Widget/a", { result: "error", reason: "AwsThrottled", message: "slow down" });
    const failing = store.get("Widget/a");
    expect(failing?.lastError).toBe("slow down");
    expect(failing?.conditions[0]).toMatchObject({
      status: "False",
      reason: "AwsThrottled",
      lastTransitionTime: "2026-01-01T00:00:01.000Z",
    });
    t = 3;
    store.record("Widget/a", { result: "success", generation: "gen1", changes: 2 });
    const ok = store.get("Widget/a");
    expect(ok).toMatchObject({
      generation: "gen1",
      observedGeneration: "gen1",
      lastError: undefined,
      lastChanges: 2,
    });
    expect(ok?.conditions[0]).toMatchObject({
      type: "Ready",
      status: "True",
      reason: "Converged",
      lastTransitionTime: "2026-01-01T00:00:03.000Z",
    });
    expect(store.synced("Widget/a")).toBe(true);
  });

  it("marks a terminal failure and an invalid spec as Stalled, and clears them", () => {
    const store = new StatusStore(() => new Date(0));
    store.track("Widget/a", "g");
    store.record("Widget/a", { result: "terminal", reason: "AwsInvalid", message: "InvalidInput" });
    expect(store.get("Widget/a")?.conditions.find((c) => c.type === "Stalled")).toMatchObject({
      status: "True",
      reason: "AwsInvalid",
    });
    store.record("Widget/a", { result: "success", generation: "g", changes: 0 });
    expect(store.get("Widget/a")?.conditions.find((c) => c.type === "Stalled")?.status).toBe("False");
    store.invalid("Widget/a", "a.yaml:3:7: bad");
    expect(store.get("Widget/a")?.conditions.find((c) => c.type === "Stalled")).toMatchObject({
      status: "True",
      reason: "InvalidSpec",
    });
    store.valid("Widget/a");
    expect(store.get("Widget/a")?.conditions.find((c) => c.type === "Stalled")?.status).toBe("False");
    store.forget("Widget/a");
    expect(store.list()).toEqual([]);
  });

  it("records nothing for a key it does not track, and keeps only the live keys", () => {
    const store = new StatusStore(() => new Date(0));
    store.record("Widget/gone", { result: "error", reason: "ReconcileError", message: "late" });
    expect(store.keys()).toEqual([]);
    store.track("Widget/a", "g");
    store.track("Widget/b", "g");
    store.track("Widget/*", undefined);
    store.retain(new Set(["Widget/a", "Widget/*"]));
    expect(store.keys()).toEqual(["Widget/*", "Widget/a"]);
  });

  it("shows deletions held on a sweep key, and their release", () => {
    const store = new StatusStore(() => new Date(0));
    store.track("Widget/*", undefined);
    store.held("Widget/*", "SpecSetEmpty", "3 deletions held");
    expect(store.get("Widget/*")?.conditions.find((c) => c.type === "DeletionHeld")).toMatchObject({
      status: "True",
      reason: "SpecSetEmpty",
      message: "3 deletions held",
    });
    store.released("Widget/*");
    expect(store.get("Widget/*")?.conditions.find((c) => c.type === "DeletionHeld")?.status).toBe("False");
  });
});
