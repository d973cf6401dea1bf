import { describe, expect, it } from "vitest";
import { parseSpecText } from "../../controllers/spec/load.ts";
import type { AutoScalingApi } from "./auto-scaling-api.ts";
import { weightedRecordSetKind } from "./kind.ts";
import { WeightedRecordSetReconciler } from "./reconciler.ts";
import type { Route53Api } from "./route53-api.ts";
import type { EcsTaskApi } from "../ecs-tasks/ecs-task-api.ts";

function doc(targets: string) {
  const text = `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: fluentd }
spec: { hostedZone: logs.internal, name: fluentd.logs.internal, type: A, ttl: 10, weight: 10, targets: ${targets} }
`;
  const parsed = parseSpecText("w.yaml", text, [weightedRecordSetKind]);
  expect(parsed.diagnostics).toEqual([]);
  return parsed.documents[0]!;
}

describe("WeightedRecordSetReconciler.watches", () => {
  // Watches only read the spec: no AWS call is made.
  const reconciler = new WeightedRecordSetReconciler({
    route53: {} as Route53Api,
    autoScaling: {} as AutoScalingApi,
    ecsTasks: {} as EcsTaskApi,
  });

  it("wakes on the Auto Scaling group or the ECS service or family it follows", () => {
    expect(reconciler.watches(doc("{ autoScalingGroup: log-asg }"))).toEqual(["asg:log-asg"]);
    expect(reconciler.watches(doc("{ ecsTasks: { cluster: logs, service: fluentd } }"))).toEqual([
      "ecs:logs/service:fluentd",
    ]);
    expect(reconciler.watches(doc("{ ecsTasks: { cluster: logs, family: app } }"))).toEqual([
      "ecs:logs/family:app",
    ]);
  });
});
