import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";
import type { LogAlarmSpec } from "./log-alarm-kind.ts";
import { NAME_PREFIX } from "./ownership.ts";

/**
 * The Logs and CloudWatch actions the LogAlarm reconciler calls (reconcilers/log-alarm/aws-*.ts), narrowed to this
 * operator's alarms (`ecs-log-operator/...`), to the specs' log groups, and to alarms whose actions are the specs'
 * SNS topics. The Describe actions are granted on `*`: DescribeMetricFilters by metric reads across log groups.
 * Deleting follows the specs' `prune: true` (or `allowPrune`); it is also what moving a spec to another log group
 * needs, to delete its filter on the old group.
 */
export function logAlarmIamStatements(specs: readonly LogAlarmSpec[], ctx: IamContext): PolicyStatement[] {
  if (specs.length === 0 && !ctx.sweeping) return [];
  const alarmArn = arnOf(ctx, "cloudwatch", `alarm:${NAME_PREFIX}*`);
  const groupArn = (name: string) => arnOf(ctx, "logs", `log-group:${name}`);
  const prune = ctx.allowPrune || specs.some((s) => s.prune === true);
  const out: PolicyStatement[] = [
    {
      Sid: "LogAlarmReadsAlarmsAndFilters",
      Effect: "Allow",
      Action: [
        "cloudwatch:DescribeAlarms",
        "logs:DescribeMetricFilters",
        ...(specs.length > 0 ? ["logs:DescribeLogGroups"] : []),
      ].sort(),
      Resource: "*",
    },
    {
      // Ownership is in the alarms' tags: read on every pass, written on what the specs create or adopt (creating an
      // alarm with tags needs cloudwatch:TagResource too).
      Sid: "LogAlarmTagsRecordOwnership",
      Effect: "Allow",
      Action: ["cloudwatch:ListTagsForResource", ...(specs.length > 0 ? ["cloudwatch:TagResource"] : [])],
      Resource: alarmArn,
    },
  ];
  if (specs.length > 0) {
    const topics = sortedUnique(specs.flatMap((s) => [...s.actions, ...(s.okActions ?? [])]));
    out.push({
      Sid: "LogAlarmAlarms",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricAlarm"],
      Resource: alarmArn,
      Condition: { "ForAllValues:StringEquals": { "cloudwatch:AlarmActions": topics } },
    });
    out.push({
      Sid: "LogAlarmMetricFilters",
      Effect: "Allow",
      Action: ["logs:PutMetricFilter"],
      Resource: sortedUnique(specs.flatMap((s) => [groupArn(s.logGroup), groupArn(`${s.logGroup}:*`)])),
    });
  }
  if (prune) {
    out.push({
      Sid: "LogAlarmPrune",
      Effect: "Allow",
      Action: ["cloudwatch:DeleteAlarms"],
      Resource: alarmArn,
    });
    out.push({
      Sid: "LogAlarmPruneMetricFilters",
      Effect: "Allow",
      Action: ["logs:DeleteMetricFilter"],
      Resource: groupArn("*"),
    });
  }
  return out;
}
