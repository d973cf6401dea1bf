/**
 * The narrow views of CloudWatch Logs (metric filters) and CloudWatch (alarms) the LogAlarm reconciler needs.
 * Implemented by `AwsCloudWatchLogsApi` and `AwsCloudWatchAlarmsApi`; the planner never sees an SDK type. Failures are
 * classified `AwsError`s; "not found" is `undefined` or `false`.
 */
export interface CloudWatchLogsApi {
  /** Whether a log group of exactly this name exists. */
  logGroupExists(name: string, signal?: AbortSignal): Promise<boolean>;
  /** Every metric filter of a log group (every page). */
  filtersOfGroup(logGroup: string, signal?: AbortSignal): Promise<ObservedFilter[]>;
  /** Every metric filter, in any log group, that publishes to this metric (every page). */
  filtersOfMetric(namespace: string, metricName: string, signal?: AbortSignal): Promise<ObservedFilter[]>;
  /** Creates the filter, or replaces the one of that name on the log group. */
  putFilter(
    filter: FilterConfig & { readonly logGroup: string; readonly name: string },
    signal?: AbortSignal,
  ): Promise<void>;
  /** False when it was already gone. */
  deleteFilter(logGroup: string, name: string, signal?: AbortSignal): Promise<boolean>;
}

export interface CloudWatchAlarmsApi {
  /** Every metric alarm whose name starts with `prefix` (every page). */
  alarmsWithPrefix(prefix: string, signal?: AbortSignal): Promise<ObservedAlarm[]>;
  /** Undefined when the alarm is gone. */
  alarmTags(arn: string, signal?: AbortSignal): Promise<Record<string, string> | undefined>;
  /**
   * Creates or replaces the alarm: PutMetricAlarm overwrites the whole configuration. `tags` apply only when it
   * creates the alarm ("If you are using this operation to update an existing alarm, any tags you specify ... are
   * ignored"), so an existing alarm's tags are changed with `tagAlarm`.
   */
  putAlarm(
    alarm: AlarmConfig & { readonly name: string; readonly tags?: Record<string, string> | undefined },
    signal?: AbortSignal,
  ): Promise<void>;
  tagAlarm(arn: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void>;
  deleteAlarm(name: string, signal?: AbortSignal): Promise<void>;
}

/** What a spec's metric filter holds. */
export interface FilterConfig {
  readonly pattern: string;
  readonly metric: MetricTransformation;
}

export interface MetricTransformation {
  readonly namespace: string;
  readonly name: string;
  readonly value: string;
  readonly defaultValue: number | undefined;
}

export interface ObservedFilter {
  readonly name: string;
  readonly logGroup: string;
  readonly pattern: string;
  readonly transformations: readonly ObservedTransformation[];
  /** Settings this operator never sets; a filter that has them differs from its spec. */
  readonly extras: readonly string[];
}

export interface ObservedTransformation extends MetricTransformation {
  /** `unit x`, `dimensions a=$.b`: what the spec never sets. */
  readonly extras: readonly string[];
}

/** What a spec's alarm holds. The statistic and the comparison are fixed: a sum of matches at or over a threshold. */
export interface AlarmConfig {
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic: "Sum";
  readonly comparisonOperator: "GreaterThanOrEqualToThreshold";
  readonly threshold: number;
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: string;
  readonly alarmActions: readonly string[];
  readonly okActions: readonly string[];
}

export interface ObservedAlarm {
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  readonly namespace: string | undefined;
  readonly metricName: string | undefined;
  readonly statistic: string | undefined;
  readonly comparisonOperator: string | undefined;
  readonly threshold: number | undefined;
  readonly period: number | undefined;
  readonly evaluationPeriods: number | undefined;
  readonly datapointsToAlarm: number | undefined;
  readonly treatMissingData: string | undefined;
  readonly actionsEnabled: boolean | undefined;
  readonly alarmActions: readonly string[];
  readonly okActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
  /** Settings this operator never sets (dimensions, a unit, an extended statistic, metric math). */
  readonly extras: readonly string[];
}
