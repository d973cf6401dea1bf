import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { ResourceActivity } from "./status-activity.ts";

describe("ResourceActivity", () => {
  it("keeps the latest changes per resource, newest first, and forgets a removed resource", async () => {
    const clock = new ManualClock(Date.parse("2026-12-01T12:00:00Z"));
    const activity = new ResourceActivity({ clock, maxChanges: 3 });
    activity.changed("CloudMapService/fluentd", [
      { action: "create", target: "instance a 10.0.1.5" },
      { action: "create", target: "instance b 10.0.1.6" },
    ]);
    await clock.advance(1000);
    activity.changed("CloudMapService/fluentd", [
      { action: "delete", target: "instance a 10.0.1.5", detail: "task stopped" },
      { action: "update", target: "instance b 10.0.1.6" },
    ]);
    expect(activity.changesOf("CloudMapService/fluentd")).toEqual([
      { time: "2026-12-01T12:00:01.000Z", action: "update", target: "instance b 10.0.1.6", detail: null },
      {
        time: "2026-12-01T12:00:01.000Z",
        action: "delete",
        target: "instance a 10.0.1.5",
        detail: "task stopped",
      },
      { time: "2026-12-01T12:00:00.000Z", action: "create", target: "instance b 10.0.1.6", detail: null },
    ]);
    activity.setTargets("CloudMapService/fluentd", [{ id: "b", address: "10.0.1.6" }]);
    activity.forget("CloudMapService/fluentd");
    expect(activity.changesOf("CloudMapService/fluentd")).toEqual([]);
    expect(activity.targetsOf("CloudMapService/fluentd")).toBeUndefined();
  });

  it("counts every target and lists the first ones by id; keeps the latest decisions", () => {
    const activity = new ResourceActivity({ clock: new ManualClock(0), maxTargets: 2, maxDecisions: 2 });
    activity.setTargets("WeightedRecordSet/log", [
      { id: "i-3", address: null },
      { id: "i-1", address: "10.0.1.1" },
      { id: "i-2", address: "10.0.1.2" },
    ]);
    expect(activity.targetsOf("WeightedRecordSet/log")).toEqual({
      count: 3,
      items: [
        { id: "i-1", address: "10.0.1.1" },
        { id: "i-2", address: "10.0.1.2" },
      ],
    });
    for (const d of ["applied", "failed", "drift-corrected"]) activity.decided("A/b", d, d);
    expect(activity.decisions().map((d) => d.decision)).toEqual(["drift-corrected", "failed"]);
  });
});
