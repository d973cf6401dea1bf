import type { CloudWatchClient, MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { awsCall, awsCallOrUndefined } from "../../controllers/aws/errors.ts";
import type { AlarmConfig, CloudWatchAlarmsApi, ObservedAlarm } from "./log-alarm-api.ts";

const CW = "cloudwatch";

/** CloudWatch alarms through the SDK; the client and the SDK module are loaded on first use. */
export class AwsCloudWatchAlarmsApi implements CloudWatchAlarmsApi {
  private readonly client: () => Promise<CloudWatchClient>;

  constructor(clients: { cloudWatch: () => Promise<CloudWatchClient> }) {
    this.client = clients.cloudWatch;
  }

  async alarmsWithPrefix(prefix: string, signal?: AbortSignal): Promise<ObservedAlarm[]> {
    const client = await this.client();
    const { DescribeAlarmsCommand } = await import("@aws-sdk/client-cloudwatch");
    const out: ObservedAlarm[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(CW, "DescribeAlarms", () =>
        client.send(
          new DescribeAlarmsCommand({
            AlarmNamePrefix: prefix,
            AlarmTypes: ["MetricAlarm"],
            MaxRecords: 100,
            NextToken: nextToken,
          }),
          { abortSignal: signal },
        ),
      );
      for (const a of page.MetricAlarms ?? []) {
        // Filtered again here: the prefix is the whole of ownership's first test.
        if ((a.AlarmName ?? "").startsWith(prefix)) out.push(toObservedAlarm(a));
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out;
  }

  async alarmTags(arn: string, signal?: AbortSignal): Promise<Record<string, string> | undefined> {
    const client = await this.client();
    const { ListTagsForResourceCommand } = await import("@aws-sdk/client-cloudwatch");
    const out = await awsCallOrUndefined(CW, "ListTagsForResource", () =>
      client.send(new ListTagsForResourceCommand({ ResourceARN: arn }), { abortSignal: signal }),
    );
    if (out === undefined) return undefined;
    return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  }

  async putAlarm(
    alarm: AlarmConfig & { readonly name: string; readonly tags?: Record<string, string> | undefined },
    signal?: AbortSignal,
  ): Promise<void> {
    const client = await this.client();
    const { PutMetricAlarmCommand } = await import("@aws-sdk/client-cloudwatch");
    await awsCall(CW, "PutMetricAlarm", () =>
      client.send(
        new PutMetricAlarmCommand({
          AlarmName: alarm.name,
          AlarmDescription: alarm.description,
          ActionsEnabled: true,
          AlarmActions: [...alarm.alarmActions],
          OKActions: [...alarm.okActions],
          InsufficientDataActions: [],
          Namespace: alarm.namespace,
          MetricName: alarm.metricName,
          Statistic: alarm.statistic,
          Period: alarm.period,
          EvaluationPeriods: alarm.evaluationPeriods,
          DatapointsToAlarm: alarm.datapointsToAlarm,
          Threshold: alarm.threshold,
          ComparisonOperator: alarm.comparisonOperator,
          TreatMissingData: alarm.treatMissingData,
          ...(alarm.tags !== undefined
            ? { Tags: Object.entries(alarm.tags).map(([Key, Value]) => ({ Key, Value })) }
            : {}),
        }),
        { abortSignal: signal },
      ),
    );
  }

  async tagAlarm(arn: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const client = await this.client();
    const { TagResourceCommand } = await import("@aws-sdk/client-cloudwatch");
    await awsCall(CW, "TagResource", () =>
      client.send(
        new TagResourceCommand({
          ResourceARN: arn,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
        { abortSignal: signal },
      ),
    );
  }

  async deleteAlarm(name: string, signal?: AbortSignal): Promise<void> {
    const client = await this.client();
    const { DeleteAlarmsCommand } = await import("@aws-sdk/client-cloudwatch");
    // An alarm already gone is what was wanted.
    await awsCallOrUndefined(CW, "DeleteAlarms", () =>
      client.send(new DeleteAlarmsCommand({ AlarmNames: [name] }), { abortSignal: signal }),
    );
  }
}

function toObservedAlarm(a: MetricAlarm): ObservedAlarm {
  const extras: string[] = [];
  if ((a.Dimensions ?? []).length > 0) {
    extras.push(`dimensions ${(a.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(", ")}`);
  }
  if (a.Unit !== undefined) extras.push(`unit ${a.Unit}`);
  if (a.ExtendedStatistic !== undefined) extras.push(`extended statistic ${a.ExtendedStatistic}`);
  if ((a.Metrics ?? []).length > 0) extras.push("metric math");
  if (a.ThresholdMetricId !== undefined) extras.push("threshold metric");
  if (a.EvaluationCriteria !== undefined) extras.push("evaluation criteria");
  return {
    name: a.AlarmName ?? "",
    arn: a.AlarmArn ?? "",
    description: a.AlarmDescription,
    namespace: a.Namespace,
    metricName: a.MetricName,
    statistic: a.Statistic,
    comparisonOperator: a.ComparisonOperator,
    threshold: a.Threshold,
    period: a.Period,
    evaluationPeriods: a.EvaluationPeriods,
    datapointsToAlarm: a.DatapointsToAlarm,
    treatMissingData: a.TreatMissingData,
    actionsEnabled: a.ActionsEnabled,
    alarmActions: a.AlarmActions ?? [],
    okActions: a.OKActions ?? [],
    insufficientDataActions: a.InsufficientDataActions ?? [],
    extras,
  };
}
