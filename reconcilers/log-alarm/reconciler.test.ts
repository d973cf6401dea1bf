import { describe, expect, it } from "vitest";
import { AwsError } from "../../controllers/aws/errors.ts";
import { silentLogger } from "../../controllers/logger.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import type { CloudWatchAlarmsApi, CloudWatchLogsApi } from "./log-alarm-api.ts";
import { LogAlarmKind } from "./log-alarm-kind.ts";
import { LogAlarmReconciler } from "./reconciler.ts";

// Only the error path is stubbed here: the reconciler's dealings with CloudWatch are tested against the emulator
// (test/integration/log-alarm.test.ts). moto has no IAM, so a denied DescribeAlarms is injected.
const denied = new AwsError("invalid", "cloudwatch", "DescribeAlarms", "AccessDenied", "not authorized");
const alarms: CloudWatchAlarmsApi = {
  alarmsWithPrefix: () => Promise.reject(denied),
  alarmTags: () => Promise.reject(new Error("unexpected")),
  putAlarm: () => Promise.reject(new Error("unexpected")),
  tagAlarm: () => Promise.reject(new Error("unexpected")),
  deleteAlarm: () => Promise.reject(new Error("unexpected")),
};
const logs: CloudWatchLogsApi = {
  logGroupExists: () => Promise.resolve(true),
  filtersOfGroup: () => Promise.resolve([]),
  filtersOfMetric: () => Promise.resolve([]),
  putFilter: () => Promise.reject(new Error("unexpected")),
  deleteFilter: () => Promise.reject(new Error("unexpected")),
};

function ctx(documents: ReconcileContext["documents"]): ReconcileContext {
  return {
    signal: new AbortController().signal,
    logger: silentLogger,
    ownerId: "it",
    documents,
    sweeping: true,
  };
}

describe("LogAlarmReconciler's sweep", () => {
  it("notes, rather than fails, alarms it may not list when no LogAlarm spec needs them", async () => {
    const r = new LogAlarmReconciler({ logs, alarms });
    const plans = await r.planOrphans(ctx([]));
    expect(plans).toEqual([
      expect.objectContaining({
        key: "LogAlarm/*",
        changes: [],
        notes: [expect.stringContaining("alarms cannot be listed (AccessDenied)")],
      }),
    ]);
  });

  it("fails when a LogAlarm spec exists: its own plan needs the listing too", async () => {
    const doc = parseSpecText(
      "a.yaml",
      `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: a }
spec: { logGroup: /x, pattern: ERROR, threshold: 1, period: 1m, actions: [arn:aws:sns:eu-west-1:123456789012:t] }
`,
      [LogAlarmKind],
    ).documents;
    const r = new LogAlarmReconciler({ logs, alarms });
    await expect(r.planOrphans(ctx(doc))).rejects.toBe(denied);
    await expect(r.plan(doc[0]!, ctx(doc))).rejects.toBe(denied);
  });
});
