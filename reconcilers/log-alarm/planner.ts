import type { Change } from "../../controllers/reconciler.ts";
import { textUsesRegex, usesRegex } from "./filter-pattern.ts";
import type { AlarmConfig, FilterConfig, ObservedAlarm, ObservedFilter } from "./log-alarm-api.ts";
import { parsePatternOf, periodSeconds, type LogAlarmSpec } from "./log-alarm-kind.ts";
import { CREATED_TAG, defaultNamespace, ownedName, ownershipTags, readOwnership } from "./ownership.ts";

/**
 * "Metric filters: 100 per log group. This limit cannot be changed."
 * (CloudWatch Logs quotas, https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html)
 */
export const MAX_FILTERS_PER_LOG_GROUP = 100;
/**
 * "There is a maximum of 5 filter patterns containing regex for each log group when creating metric filters or
 * subscription filters." (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html)
 */
export const MAX_REGEX_FILTERS_PER_LOG_GROUP = 5;

/** A spec resolved to the two AWS objects it manages, defaults filled in. */
export interface DesiredLogAlarm {
  /** `LogAlarm/name`. */
  readonly resource: string;
  /** The name of both the alarm and the metric filter. */
  readonly name: string;
  readonly logGroup: string;
  readonly filter: FilterConfig;
  readonly alarm: AlarmConfig;
  readonly tags: Record<string, string>;
  readonly usesRegex: boolean;
}

export function desiredLogAlarm(
  spec: LogAlarmSpec,
  specName: string,
  resource: string,
  ownerId: string,
): DesiredLogAlarm {
  const namespace = spec.metric?.namespace ?? defaultNamespace(ownerId);
  const metricName = spec.metric?.name ?? specName;
  const evaluationPeriods = spec.evaluationPeriods ?? 1;
  const parsed = parsePatternOf(spec);
  return {
    resource,
    name: ownedName(ownerId, specName),
    logGroup: spec.logGroup,
    filter: {
      pattern: spec.pattern,
      metric: {
        namespace,
        name: metricName,
        // As `validate` read it: trimmed.
        value: spec.metric?.value?.trim() ?? "1",
        defaultValue: spec.metric?.defaultValue,
      },
    },
    alarm: {
      description:
        spec.description ??
        `${resource}: ${spec.threshold} or more of ${JSON.stringify(spec.pattern)} in ${spec.logGroup} within ${spec.period} (ecs-log-operator)`.slice(
          0,
          1024,
        ),
      namespace,
      metricName,
      statistic: "Sum",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: spec.threshold,
      period: periodSeconds(spec.period),
      evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm ?? evaluationPeriods,
      treatMissingData: spec.treatMissingData ?? "notBreaching",
      alarmActions: spec.actions,
      okActions: spec.okActions ?? [],
    },
    tags: ownershipTags(ownerId, resource, spec.prune ?? false),
    usesRegex: !("path" in parsed) && usesRegex(parsed),
  };
}

/** What AWS holds for a spec: its alarm (with its tags), and the metric filters that can be its. */
export interface ObservedLogAlarm {
  readonly alarm: (ObservedAlarm & { readonly tags: Readonly<Record<string, string>> }) | undefined;
  /** Every filter of the spec's log group. */
  readonly groupFilters: readonly ObservedFilter[];
  /** Every filter, in any log group, publishing to the spec's metric or to the one the alarm watches now. */
  readonly metricFilters: readonly ObservedFilter[];
}

export type LogAlarmStep =
  | {
      readonly type: "put-alarm";
      readonly alarm: AlarmConfig;
      readonly tags: Record<string, string> | undefined;
    }
  | { readonly type: "tag-alarm"; readonly arn: string; readonly tags: Record<string, string> }
  | { readonly type: "put-filter"; readonly logGroup: string; readonly filter: FilterConfig }
  | { readonly type: "delete-filter"; readonly logGroup: string; readonly name: string };

/** A problem that stops the plan, located at a field of the spec. */
export interface LogAlarmConflict {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface LogAlarmPlan {
  /** In the order they must run: the alarm (the record of ownership) before its filter. */
  readonly steps: readonly LogAlarmStep[];
  readonly changes: readonly Change[];
  readonly notes: readonly string[];
  readonly conflicts: readonly LogAlarmConflict[];
}

/** The changes that make AWS hold the spec's alarm and metric filter, and nothing else of it. Pure. */
export function planLogAlarm(
  desired: DesiredLogAlarm,
  observed: ObservedLogAlarm,
  ownerId: string,
): LogAlarmPlan {
  const steps: LogAlarmStep[] = [];
  const changes: Change[] = [];
  const notes: string[] = [];
  const conflicts: LogAlarmConflict[] = [];
  const alarm = observed.alarm;
  const own = alarm !== undefined ? readOwnership(alarm.tags) : undefined;
  if (own?.owner !== undefined && own.owner !== ownerId) {
    conflicts.push({
      path: ["metadata", "name"],
      message:
        `alarm ${desired.name} is managed by another operator (owner id "${own.owner}"); ` +
        `remove its ecs-log-operator/owner tag to hand it over`,
    });
    return { steps, changes, notes, conflicts };
  }

  // The filter: the one of this name on the spec's log group.
  const current = observed.groupFilters.find((f) => f.name === desired.name);
  const others = observed.groupFilters.filter((f) => f.name !== desired.name);
  if (current === undefined && observed.groupFilters.length >= MAX_FILTERS_PER_LOG_GROUP) {
    conflicts.push({
      path: ["logGroup"],
      message: `log group ${desired.logGroup} already has ${observed.groupFilters.length} metric filters, CloudWatch Logs' limit`,
    });
  }
  if (desired.usesRegex && (current === undefined || !textUsesRegex(current.pattern))) {
    const withRegex = others.filter((f) => textUsesRegex(f.pattern));
    if (withRegex.length >= MAX_REGEX_FILTERS_PER_LOG_GROUP) {
      conflicts.push({
        path: ["pattern"],
        message:
          `log group ${desired.logGroup} already has ${withRegex.length} metric filters with a regex ` +
          `(${withRegex.map((f) => f.name).join(", ")}); CloudWatch Logs allows ${MAX_REGEX_FILTERS_PER_LOG_GROUP}`,
      });
    }
  }
  if (conflicts.length > 0) return { steps, changes, notes, conflicts };

  // The order makes every interrupted apply repairable from AWS. A new alarm goes first: it is what proves the filter
  // ours. An existing alarm goes last: the filters are found by the metric the alarm watches, so while it still
  // watches the old one, a filter left on the old log group (or publishing the old metric) can still be found and
  // deleted; moved first, it would leave that filter counting for good, out of every later plan's sight.
  const planAlarm = (): void => {
    const alarmTarget = `alarm ${desired.name}`;
    if (alarm === undefined) {
      steps.push({
        type: "put-alarm",
        alarm: desired.alarm,
        tags: { ...desired.tags, [CREATED_TAG]: "true" },
      });
      changes.push({
        action: "create",
        target: alarmTarget,
        detail: describeAlarm(desired.alarm),
        write: "cloudwatch:PutMetricAlarm",
      });
    } else {
      const diff = alarmDiff(desired.alarm, alarm);
      if (diff.length > 0) {
        steps.push({ type: "put-alarm", alarm: desired.alarm, tags: undefined });
        changes.push({
          action: "update",
          target: alarmTarget,
          detail: diff.join(", "),
          write: "cloudwatch:PutMetricAlarm",
        });
      }
      const tags = Object.fromEntries(Object.entries(desired.tags).filter(([k, v]) => alarm.tags[k] !== v));
      if (Object.keys(tags).length > 0) {
        steps.push({ type: "tag-alarm", arn: alarm.arn, tags });
        changes.push({
          action: "update",
          target: `${alarmTarget} ownership tags`,
          detail:
            own?.owner === undefined
              ? "adopt: the alarm existed before this spec; prune never deletes it"
              : Object.entries(tags)
                  .map(([k, v]) => `${k.replace("ecs-log-operator/", "")} ${alarm.tags[k] ?? "-"} -> ${v}`)
                  .join(", "),
          write: "cloudwatch:TagResource",
        });
      }
    }
  };
  const planFilters = (): void => {
    const filterTarget = `metric filter ${desired.name} on ${desired.logGroup}`;
    if (current === undefined) {
      steps.push({ type: "put-filter", logGroup: desired.logGroup, filter: desired.filter });
      changes.push({
        action: "create",
        target: filterTarget,
        detail: describeFilter(desired.filter),
        write: "logs:PutMetricFilter",
      });
    } else {
      const diff = filterDiff(desired.filter, current);
      if (diff.length > 0) {
        steps.push({ type: "put-filter", logGroup: desired.logGroup, filter: desired.filter });
        changes.push({
          action: "update",
          target: filterTarget,
          detail: diff.join(", "),
          write: "logs:PutMetricFilter",
        });
      }
    }

    // A filter of this name left on another log group (the spec's logGroup changed) would go on counting: it goes once
    // the alarm proves it ours.
    const elsewhere = dedupe(observed.metricFilters).filter(
      (f) => f.name === desired.name && f.logGroup !== desired.logGroup,
    );
    for (const f of elsewhere) {
      if (own?.owner === ownerId) {
        steps.push({ type: "delete-filter", logGroup: f.logGroup, name: f.name });
        changes.push({
          action: "delete",
          target: `metric filter ${f.name} on ${f.logGroup}`,
          detail: `the spec's log group is ${desired.logGroup} now`,
          write: "logs:DeleteMetricFilter",
        });
      } else {
        notes.push(
          `metric filter ${f.name} on ${f.logGroup} is left: no alarm of this operator proves it ours yet (next pass)`,
        );
      }
    }
  };
  if (alarm === undefined) {
    planAlarm();
    planFilters();
  } else {
    planFilters();
    planAlarm();
  }

  const feeding = dedupe(observed.metricFilters).filter(
    (f) =>
      f.name !== desired.name &&
      f.transformations.some(
        (t) => t.namespace === desired.filter.metric.namespace && t.name === desired.filter.metric.name,
      ),
  );
  for (const f of feeding) {
    notes.push(
      `metric ${desired.filter.metric.namespace}/${desired.filter.metric.name} is also published by metric filter ` +
        `${f.name} on ${f.logGroup}, which this spec does not manage: the alarm counts its events too`,
    );
  }
  return { steps, changes, notes, conflicts };
}

function dedupe(filters: readonly ObservedFilter[]): ObservedFilter[] {
  const seen = new Set<string>();
  return filters.filter((f) => {
    const k = `${f.logGroup}\u0000${f.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function describeAlarm(a: AlarmConfig): string {
  return (
    `Sum of ${a.namespace}/${a.metricName} >= ${a.threshold} in ${a.period} s` +
    `${a.evaluationPeriods > 1 ? `, ${a.datapointsToAlarm} of ${a.evaluationPeriods} periods` : ""}, ` +
    `missing data ${a.treatMissingData}, notifies ${a.alarmActions.join(", ")}`
  );
}

function describeFilter(f: FilterConfig): string {
  return `pattern ${JSON.stringify(f.pattern)} publishes ${f.metric.value} to ${f.metric.namespace}/${f.metric.name}`;
}

const show = (v: unknown): string =>
  v === undefined ? "-" : typeof v === "string" ? JSON.stringify(v) : String(v);

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

/** What differs between the spec's alarm and the observed one, in words. */
export function alarmDiff(want: AlarmConfig, got: ObservedAlarm): string[] {
  const out: string[] = [];
  const fields = [
    ["description", want.description, got.description],
    ["namespace", want.namespace, got.namespace],
    ["metric", want.metricName, got.metricName],
    ["statistic", want.statistic, got.statistic],
    ["comparison", want.comparisonOperator, got.comparisonOperator],
    ["threshold", want.threshold, got.threshold],
    ["period", want.period, got.period],
    ["evaluationPeriods", want.evaluationPeriods, got.evaluationPeriods],
    ["datapointsToAlarm", want.datapointsToAlarm, got.datapointsToAlarm],
    ["treatMissingData", want.treatMissingData, got.treatMissingData ?? "missing"],
  ] as const;
  for (const [name, w, g] of fields) if (w !== g) out.push(`${name} ${show(g)} -> ${show(w)}`);
  if (got.actionsEnabled === false) out.push("actions disabled -> enabled");
  if (!sameSet(want.alarmActions, got.alarmActions)) {
    out.push(`actions [${got.alarmActions.join(", ")}] -> [${want.alarmActions.join(", ")}]`);
  }
  if (!sameSet(want.okActions, got.okActions)) {
    out.push(`okActions [${got.okActions.join(", ")}] -> [${want.okActions.join(", ")}]`);
  }
  if (got.insufficientDataActions.length > 0) out.push(`insufficientDataActions removed`);
  for (const extra of got.extras) out.push(`${extra} removed`);
  return out;
}

/** What differs between the spec's filter and the observed one, in words. */
export function filterDiff(want: FilterConfig, got: ObservedFilter): string[] {
  const out: string[] = [];
  if (want.pattern !== got.pattern) out.push(`pattern ${show(got.pattern)} -> ${show(want.pattern)}`);
  const t = got.transformations[0];
  if (t === undefined || got.transformations.length !== 1) {
    out.push(`metric transformations (${got.transformations.length}) -> 1`);
  } else {
    const m = want.metric;
    if (m.namespace !== t.namespace || m.name !== t.name) {
      out.push(`metric ${t.namespace}/${t.name} -> ${m.namespace}/${m.name}`);
    }
    if (m.value !== t.value) out.push(`value ${show(t.value)} -> ${show(m.value)}`);
    if (m.defaultValue !== t.defaultValue)
      out.push(`defaultValue ${show(t.defaultValue)} -> ${show(m.defaultValue)}`);
    for (const extra of t.extras) out.push(`${extra} removed`);
  }
  for (const extra of got.extras) out.push(`${extra} removed`);
  return out;
}

/** An alarm of this owner whose spec is gone, with its tags and the filters of its metric. */
export interface OrphanAlarm {
  readonly alarm: ObservedAlarm;
  readonly tags: Readonly<Record<string, string>>;
  readonly filters: readonly ObservedFilter[];
}

export type OrphanDecision =
  | { readonly type: "keep"; readonly reason?: string }
  | {
      readonly type: "delete";
      /** Deleted before the alarm, which proves them ours. */
      readonly filters: readonly { readonly logGroup: string; readonly name: string }[];
      readonly changes: readonly Change[];
    };

/**
 * What to do with an alarm of this owner whose spec is gone: delete it and its filters when its spec asked for
 * pruning and this operator created it; otherwise leave both. Pure.
 */
export function decideOrphanAlarm(
  orphan: OrphanAlarm,
  ownerId: string,
  liveResources: ReadonlySet<string>,
): OrphanDecision {
  const own = readOwnership(orphan.tags);
  if (own.owner !== ownerId || own.resource === undefined || liveResources.has(own.resource))
    return { type: "keep" };
  if (!own.prune) return { type: "keep" };
  if (!own.created) {
    return {
      type: "keep",
      reason: `alarm ${orphan.alarm.name} existed before ${own.resource}; prune leaves it`,
    };
  }
  const filters = dedupe(orphan.filters).filter((f) => f.name === orphan.alarm.name);
  return {
    type: "delete",
    filters: filters.map((f) => ({ logGroup: f.logGroup, name: f.name })),
    changes: [
      ...filters.map((f): Change => ({
        action: "delete",
        target: `metric filter ${f.name} on ${f.logGroup}`,
        detail: `${own.resource} was removed`,
        write: "logs:DeleteMetricFilter",
      })),
      {
        action: "delete",
        target: `alarm ${orphan.alarm.name}`,
        detail: `${own.resource} was removed and asked for prune`,
        write: "cloudwatch:DeleteAlarms",
      },
    ],
  };
}
