import { describe, expect, it } from "vitest";
import { logClusterInspectReport as report } from "../test/fixtures/inspect/log-cluster-inventory.ts";
import { readGolden } from "../test/golden.ts";
import { formatInspectText, imageTag, managersOf } from "./inspect-report.ts";

describe("inspect's report", () => {
  it("prints the cluster's services the same twice (golden)", () => {
    const first = formatInspectText(report());
    expect(formatInspectText(report())).toBe(first);
    expect(first).toBe(readGolden("inspect.txt"));
  });

  it("says which specs manage each service, its health and its images", () => {
    const r = report();
    expect(r.services.map((s) => [s.name, s.managedBy, s.health.reason, s.networkMode])).toEqual([
      ["api", [], "Healthy", null],
      ["fluentd", ["CloudMapService/fluentd", "WeightedRecordSet/fluentd"], "NoFreeEni", "awsvpc"],
      ["log-batch", ["SidecarVolume/log-batch"], "Healthy", "bridge"],
    ]);
    expect(r.services[2]?.containers.map((c) => c.tag)).toEqual(["sha256:0f1e2d3c", "latest"]);
    expect(r.services[1]?.events).toHaveLength(3);
    expect(r.services[1]?.events[0]?.reason).toBe("NoFreeEni");
  });

  it.each([
    ["fluent/fluentd:v1.16-1", "v1.16-1"],
    ["localhost:5000/fluentd", "latest"],
    ["localhost:5000/fluentd:edge", "edge"],
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "stable"],
    ["repo/app@sha256:abc", "sha256:abc"],
  ])("the tag of %s is %s", (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });

  it("a family watch manages the services that run the family in that cluster only", () => {
    const specs = [{ resource: "LogRouter/gaze", watches: ["ecs:app/family:gaze-heatmap"] }];
    expect(managersOf("app", "web", "gaze-heatmap", specs)).toEqual(["LogRouter/gaze"]);
    expect(managersOf("logs", "web", "gaze-heatmap", specs)).toEqual([]);
    expect(managersOf("app", "web", undefined, specs)).toEqual([]);
  });
});
