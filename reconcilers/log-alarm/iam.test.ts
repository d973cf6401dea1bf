import { describe, expect, it } from "vitest";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { logAlarmIamStatements } from "./iam.ts";
import { LogAlarmKind, type LogAlarmSpec } from "./log-alarm-kind.ts";

const ctx = { account: "123456789012", region: "ap-northeast-1", allowPrune: false, sweeping: true };

function specs(prune: boolean): LogAlarmSpec[] {
  return parseSpecText(
    "a.yaml",
    `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: a }
spec:
  logGroup: /ecs/api
  pattern: ERROR
  threshold: 1
  period: 1m
  actions: [arn:aws:sns:ap-northeast-1:123456789012:alerts]
  okActions: [arn:aws:sns:ap-northeast-1:123456789012:ok]
  prune: ${prune}
`,
    [LogAlarmKind],
  ).documents.map((d) => d.spec as LogAlarmSpec);
}

describe("logAlarmIamStatements", () => {
  it("grants only the sweep's reads without specs, and nothing when the kind does not sweep", () => {
    const s = logAlarmIamStatements([], ctx);
    expect(s.flatMap((x) => x.Action).sort()).toEqual([
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "logs:DescribeMetricFilters",
    ]);
    expect(logAlarmIamStatements([], { ...ctx, sweeping: false })).toEqual([]);
  });

  it("narrows writes to this operator's alarms, the specs' log groups and SNS topics", () => {
    const s = logAlarmIamStatements(specs(false), ctx);
    expect(s.find((x) => x.Sid === "LogAlarmAlarms")).toEqual({
      Sid: "LogAlarmAlarms",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricAlarm"],
      Resource: "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:ecs-log-operator/*",
      Condition: {
        "ForAllValues:StringEquals": {
          "cloudwatch:AlarmActions": [
            "arn:aws:sns:ap-northeast-1:123456789012:alerts",
            "arn:aws:sns:ap-northeast-1:123456789012:ok",
          ],
        },
      },
    });
    expect(s.find((x) => x.Sid === "LogAlarmMetricFilters")?.Resource).toEqual([
      "arn:aws:logs:ap-northeast-1:123456789012:log-group:/ecs/api",
      "arn:aws:logs:ap-northeast-1:123456789012:log-group:/ecs/api:*",
    ]);
    expect(s.flatMap((x) => x.Action).filter((a) => a.includes("Delete"))).toEqual([]);
  });

  it("grants deletes where a spec prunes, or with allowPrune", () => {
    const deletes = (p: ReturnType<typeof logAlarmIamStatements>) =>
      p.flatMap((x) => x.Action).filter((a) => a.includes("Delete"));
    expect(deletes(logAlarmIamStatements(specs(true), ctx))).toEqual([
      "cloudwatch:DeleteAlarms",
      "logs:DeleteMetricFilter",
    ]);
    expect(deletes(logAlarmIamStatements([], { ...ctx, allowPrune: true }))).toEqual([
      "cloudwatch:DeleteAlarms",
      "logs:DeleteMetricFilter",
    ]);
  });
});
