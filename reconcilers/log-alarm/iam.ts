import { isKind, type SpecDocument } from "../../controllers/spec/document.ts";
import { LogAlarmKind } from "./log-alarm-kind.ts";
import { NAME_PREFIX } from "./ownership.ts";

/** One IAM policy statement, as `iam-policy` prints it. */
export interface IamStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface LogAlarmIamOptions {
  /** `*` when unknown. */
  readonly account: string;
  readonly region: string;
  /** Grant the deletes the sweep may need whatever the specs say now (`--allow-prune`). */
  readonly allowPrune: boolean;
  /** True when the LogAlarm reconciler sweeps for removed specs' alarms: its reads run every pass. */
  readonly sweeps: boolean;
}

/**
 * The Logs and CloudWatch actions the LogAlarm reconciler calls (reconcilers/log-alarm/aws-*.ts), narrowed to this
 * operator's alarms (`ecs-log-operator/...`), to the specs' log groups, and to alarms whose actions are the specs'
 * SNS topics. The Describe actions are granted on `*`: DescribeMetricFilters by metric reads across log groups.
 * Deleting follows the specs' `prune: true` (or `allowPrune`); it is also what moving a spec to another log group
 * needs, to delete its filter on the old group.
 */
export function logAlarmIamStatements(
  documents: readonly SpecDocument[],
  options: LogAlarmIamOptions,
): IamStatement[] {
  const { account, region } = options;
  const specs = documents.flatMap((d) => (isKind(d, LogAlarmKind) ? [d.spec] : []));
  if (specs.length === 0 && !options.sweeps) return [];
  const alarmArn = `arn:aws:cloudwatch:${region}:${account}:alarm:${NAME_PREFIX}*`;
  const groupArn = (name: string) => `arn:aws:logs:${region}:${account}:log-group:${name}`;
  const prune = options.allowPrune || specs.some((s) => s.prune === true);
  const out: IamStatement[] = [
    {
      Sid: "LogAlarmRead",
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
      Sid: "LogAlarmTags",
      Effect: "Allow",
      Action: ["cloudwatch:ListTagsForResource", ...(specs.length > 0 ? ["cloudwatch:TagResource"] : [])],
      Resource: alarmArn,
    },
  ];
  if (specs.length > 0) {
    const topics = sorted(specs.flatMap((s) => [...s.actions, ...(s.okActions ?? [])]));
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
      Resource: sorted(specs.flatMap((s) => [groupArn(s.logGroup), groupArn(`${s.logGroup}:*`)])),
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

function sorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
