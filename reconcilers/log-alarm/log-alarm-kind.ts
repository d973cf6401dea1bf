import { Type, type Static } from "@sinclair/typebox";
import { defineKind, type SpecIssue } from "../../controllers/spec/document.ts";
import {
  parseFilterPattern,
  parseMetricValue,
  PatternSyntaxError,
  type FilterPattern,
} from "./filter-pattern.ts";

/** PutMetricFilter's `logGroupName`: "Pattern: [\.\-_/#A-Za-z0-9]+", 1 to 512 characters. */
const LOG_GROUP_PATTERN = "^[.\\-_/#A-Za-z0-9]+$";
/**
 * An SNS topic: what an alarm notifies (AWS Chatbot for Slack, email, or any subscriber). Other alarm actions (EC2,
 * Auto Scaling, Systems Manager) are no part of a log alarm.
 */
export const SNS_TOPIC_ARN_PATTERN =
  "^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$";
/** MetricTransformation's `metricName` and `metricNamespace`: "Pattern: [^:*$]*", at most 255 characters. */
const METRIC_PART_PATTERN = "^[^:*$]+$";
/** PutMetricAlarm: "AlarmActions ... Maximum number of 5 items"; the same for OKActions. */
const MAX_ACTIONS = 5;
/**
 * PutMetricAlarm's Period: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms
 * with a period of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 */
const MAX_EVALUATION_SECONDS = 604_800;
const MAX_SHORT_EVALUATION_SECONDS = 86_400;

export const TREAT_MISSING_DATA = ["notBreaching", "breaching", "ignore", "missing"] as const;

export const LogAlarmSpecSchema = Type.Object(
  {
    logGroup: Type.String({
      pattern: LOG_GROUP_PATTERN,
      minLength: 1,
      maxLength: 512,
      description:
        "The CloudWatch Logs group whose events are matched, such as `/aws/ecs/fluentd`. It must exist: the operator does not create it (the log router or the awslogs driver does).",
      errorHint: "a log group name such as /aws/ecs/fluentd: letters, digits and . - _ / #",
    }),
    pattern: Type.String({
      description:
        'The CloudWatch Logs filter pattern: terms (`ERROR -Exiting`, `?ERROR ?WARN`, `"exact phrase"`), a regex (`%ERR[0-9]+%`), JSON (`{ $.errorCode = "AccessDenied" }`) or space-delimited (`[ip, ..., status = 5*, bytes]`). Checked offline by `validate`, with errors at the character at fault; quote it in YAML (a JSON pattern is otherwise read as a mapping). `""` matches every event. At most 1,024 characters, and at most 2 regexes in a JSON or space-delimited pattern.',
      errorHint: "a filter pattern as a YAML string: pattern: '{ $.errorCode = \"AccessDenied\" }'",
    }),
    threshold: Type.Number({
      exclusiveMinimum: 0,
      description:
        "The alarm fires when the metric's sum over one period reaches this value: with the default metric value of 1, when at least this many events match within `period`.",
    }),
    period: Type.String({
      pattern: "^[1-9][0-9]*(s|m|h)$",
      description:
        "The window the matches are counted in, such as `5m`, `300s` or `1h`: a multiple of 60 s (metric filters publish once a minute).",
      errorHint: "a duration such as 5m, 300s or 1h",
    }),
    evaluationPeriods: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1,
        description:
          "How many recent periods are evaluated. `evaluationPeriods` × `period` is at most 1 day for periods under an hour, 7 days otherwise.",
      }),
    ),
    datapointsToAlarm: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'How many of those periods must breach ("M out of N"); default `evaluationPeriods`, at most `evaluationPeriods`.',
      }),
    ),
    treatMissingData: Type.Optional(
      Type.Union(
        TREAT_MISSING_DATA.map((v) => Type.Literal(v)),
        {
          default: "notBreaching",
          description:
            "A period without log events publishes no data point. `notBreaching` (the default): no logs is no alarm; `breaching`: silence alarms too; `ignore` keeps the current state; `missing` lets the alarm go to INSUFFICIENT_DATA.",
        },
      ),
    ),
    metric: Type.Optional(
      Type.Object(
        {
          namespace: Type.Optional(
            Type.String({
              pattern: METRIC_PART_PATTERN,
              maxLength: 255,
              description:
                "The metric's namespace; default `ecs-log-operator/OWNER` (the owner id), so two operators never feed one metric.",
              errorHint: "a CloudWatch namespace without : * or $",
            }),
          ),
          name: Type.Optional(
            Type.String({
              pattern: METRIC_PART_PATTERN,
              maxLength: 255,
              description: "The metric's name; default `metadata.name`.",
              errorHint: "a metric name without : * or $",
            }),
          ),
          value: Type.Optional(
            Type.String({
              maxLength: 100,
              default: "1",
              description:
                "What each matching event publishes: a number (default `1`, so the sum counts matches), `$.field` of a JSON pattern or `$field` of a space-delimited one.",
            }),
          ),
          defaultValue: Type.Optional(
            Type.Number({
              description:
                "Published for each event that does not match (e.g. `0`, for a metric without gaps while logs flow). Default: nothing.",
            }),
          ),
        },
        {
          additionalProperties: false,
          description: "The metric the filter publishes and the alarm watches (its statistic is the sum).",
        },
      ),
    ),
    actions: Type.Array(
      Type.String({
        pattern: SNS_TOPIC_ARN_PATTERN,
        errorHint: "an SNS topic ARN such as arn:aws:sns:ap-northeast-1:123456789012:log-alerts",
      }),
      {
        minItems: 1,
        maxItems: MAX_ACTIONS,
        description: `SNS topics notified when the alarm fires (1 to ${MAX_ACTIONS}): AWS Chatbot for Slack, email, or any subscriber.`,
      },
    ),
    okActions: Type.Optional(
      Type.Array(
        Type.String({
          pattern: SNS_TOPIC_ARN_PATTERN,
          errorHint: "an SNS topic ARN such as arn:aws:sns:ap-northeast-1:123456789012:log-alerts",
        }),
        { maxItems: MAX_ACTIONS, description: "SNS topics notified when the alarm returns to OK." },
      ),
    ),
    description: Type.Optional(
      Type.String({
        maxLength: 1024,
        description:
          "The alarm's description, shown in its notifications; default: the pattern, the log group and the threshold.",
      }),
    ),
    prune: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "When true, removing this spec deletes the alarm and its metric filter in AWS. Only what this operator created is ever deleted.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type LogAlarmSpec = Static<typeof LogAlarmSpecSchema>;

/** `5m` -> 300. The schema has checked the form. */
export function periodSeconds(period: string): number {
  const n = Number(period.slice(0, -1));
  return n * { s: 1, m: 60, h: 3600 }[period.slice(-1) as "s" | "m" | "h"];
}

/** The parsed pattern, or the issue at the character at fault. */
export function parsePatternOf(spec: Pick<LogAlarmSpec, "pattern">): FilterPattern | SpecIssue {
  try {
    return parseFilterPattern(spec.pattern);
  } catch (error) {
    if (error instanceof PatternSyntaxError) {
      return { path: ["pattern"], index: error.index, message: `invalid filter pattern: ${error.message}` };
    }
    throw error;
  }
}

function isIssue(v: FilterPattern | SpecIssue): v is SpecIssue {
  return "path" in v;
}

function checkLogAlarm(spec: LogAlarmSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const pattern = parsePatternOf(spec);
  if (isIssue(pattern)) issues.push(pattern);
  else if (spec.metric?.value !== undefined) {
    const value = parseMetricValue(spec.metric.value, pattern);
    if (typeof value === "string") issues.push({ path: ["metric", "value"], message: value });
  }
  const seconds = periodSeconds(spec.period);
  if (seconds % 60 !== 0) {
    issues.push({
      path: ["period"],
      message: `period ${spec.period} is not a multiple of 60 s: metric filters publish once a minute`,
    });
  } else {
    const periods = spec.evaluationPeriods ?? 1;
    const limit = seconds < 3600 ? MAX_SHORT_EVALUATION_SECONDS : MAX_EVALUATION_SECONDS;
    if (seconds * periods > limit) {
      issues.push({
        path: [spec.evaluationPeriods !== undefined ? "evaluationPeriods" : "period"],
        message:
          `period × evaluationPeriods is ${seconds * periods} s; CloudWatch evaluates at most ${limit} s ` +
          `(${seconds < 3600 ? "1 day for periods under an hour" : "7 days"})`,
      });
    }
  }
  if (spec.datapointsToAlarm !== undefined && spec.datapointsToAlarm > (spec.evaluationPeriods ?? 1)) {
    issues.push({
      path: ["datapointsToAlarm"],
      message: `datapointsToAlarm ${spec.datapointsToAlarm} exceeds evaluationPeriods ${spec.evaluationPeriods ?? 1}: M out of N needs M ≤ N`,
    });
  }
  for (const field of ["actions", "okActions"] as const) {
    const list = spec[field] ?? [];
    list.forEach((arn, i) => {
      if (list.indexOf(arn) !== i) issues.push({ path: [field, i], message: `${arn} is listed twice` });
    });
  }
  if (spec.metric?.namespace?.startsWith("AWS/") === true) {
    issues.push({
      path: ["metric", "namespace"],
      message: 'namespaces starting with "AWS/" are reserved for AWS',
    });
  }
  return issues;
}

export const LogAlarmKind = defineKind({
  kind: "LogAlarm",
  description:
    "A CloudWatch Logs metric filter on a log group and the CloudWatch alarm on its metric: when a pattern matches `threshold` times within `period`, SNS topics are notified (Slack through AWS Chatbot, email, ...). The pattern is checked offline (`validate`) and can be tried on sample logs (`test-pattern`).",
  specSchema: LogAlarmSpecSchema,
  check: checkLogAlarm,
  // Two specs publishing to one metric would count each other's matches; the metric's name is the spec's unless
  // given. (An explicit namespace equal to the owner's default is not caught here: the owner id is known at run.)
  claims: (spec, name) => [
    {
      key: `cloudwatch:metric/${spec.metric?.namespace ?? "(owner)"}/${spec.metric?.name ?? name}`,
      path: spec.metric?.name !== undefined ? ["metric", "name"] : ["logGroup"],
    },
  ],
});
