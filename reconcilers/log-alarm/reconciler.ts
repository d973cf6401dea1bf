import { AwsError } from "../../controllers/aws/errors.ts";
import { PassMemo } from "../../controllers/pass-memo.ts";
import {
  sweepKey,
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { isKind, resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import { AwsCloudWatchAlarmsApi } from "./aws-cloudwatch-alarms-api.ts";
import { AwsCloudWatchLogsApi } from "./aws-cloudwatch-logs-api.ts";
import type { LogAlarmClients } from "./log-alarm-clients.ts";
import type {
  CloudWatchAlarmsApi,
  CloudWatchLogsApi,
  ObservedAlarm,
  ObservedFilter,
} from "./log-alarm-api.ts";
import { LogAlarmKind } from "./log-alarm-kind.ts";
import { invalidOwnerId, ownerPrefix, RESOURCE_TAG, specNameOf } from "./ownership.ts";
import { decideOrphanAlarm, desiredLogAlarm, planLogAlarm, type LogAlarmStep } from "./planner.ts";

export interface LogAlarmReconcilerDeps {
  readonly logs: CloudWatchLogsApi;
  readonly alarms: CloudWatchAlarmsApi;
}

/**
 * LogAlarm: one metric filter and one alarm per spec. Observes the spec's log group, its filters, the filters that
 * publish to its metric and this owner's alarms (one listing a pass, shared with the orphan sweep), plans with the
 * pure `planLogAlarm`, and writes the alarm before its filter. A log group is no watched object: the resync is enough.
 */
export class LogAlarmReconciler implements Reconciler {
  readonly kind = LogAlarmKind.kind;
  /** After the kinds that route logs: nothing depends on an alarm. */
  readonly order = 40;
  private readonly logs: CloudWatchLogsApi;
  private readonly alarms: CloudWatchAlarmsApi;
  private readonly groups = new PassMemo<boolean>();
  private readonly groupFilters = new PassMemo<ObservedFilter[]>();
  private readonly ownAlarms = new PassMemo<ObservedAlarm[]>();

  constructor(deps: LogAlarmReconcilerDeps) {
    this.logs = deps.logs;
    this.alarms = deps.alarms;
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    if (!isKind(doc, LogAlarmKind)) throw new TerminalError(`not a ${this.kind}: ${resourceKey(doc)}`);
    const key = resourceKey(doc);
    const fail = (path: readonly (string | number)[], message: string): TerminalError => {
      const p = doc.positionOf(path[0] === "metadata" ? path : ["spec", ...path]);
      return new TerminalError(`${p.file}:${p.line}:${p.col}: ${key}: ${message}`);
    };
    const badOwner = invalidOwnerId(ctx.ownerId);
    if (badOwner !== undefined) throw new TerminalError(`${key}: ${badOwner}`);
    const desired = desiredLogAlarm(doc.spec, doc.metadata.name, key, ctx.ownerId);

    const exists = await this.groups.get(ctx, desired.logGroup, () =>
      this.logs.logGroupExists(desired.logGroup, ctx.signal),
    );
    if (!exists) {
      throw fail(
        ["logGroup"],
        `log group ${desired.logGroup} does not exist; nothing was changed. Create it, or let what writes the logs ` +
          `create it (awslogs-create-group, a LogRouter's createGroup), then apply again`,
      );
    }
    const [groupFilters, alarms] = await Promise.all([
      this.groupFilters.get(ctx, desired.logGroup, () =>
        this.logs.filtersOfGroup(desired.logGroup, ctx.signal),
      ),
      this.ownAlarmsOf(ctx),
    ]);
    const alarm = alarms.find((a) => a.name === desired.name);
    const metrics = new Map<string, [string, string]>();
    const m = desired.filter.metric;
    metrics.set(`${m.namespace}\u0000${m.name}`, [m.namespace, m.name]);
    if (alarm?.namespace !== undefined && alarm.metricName !== undefined) {
      metrics.set(`${alarm.namespace}\u0000${alarm.metricName}`, [alarm.namespace, alarm.metricName]);
    }
    const [tags, metricFilters] = await Promise.all([
      alarm !== undefined ? this.alarms.alarmTags(alarm.arn, ctx.signal) : Promise.resolve(undefined),
      Promise.all([...metrics.values()].map(([ns, name]) => this.logs.filtersOfMetric(ns, name, ctx.signal))),
    ]);
    const planned = planLogAlarm(
      desired,
      {
        // An alarm deleted between the listing and the tag read is gone: plan its creation.
        alarm: alarm !== undefined && tags !== undefined ? { ...alarm, tags } : undefined,
        groupFilters,
        metricFilters: metricFilters.flat(),
      },
      ctx.ownerId,
    );
    const conflict = planned.conflicts[0];
    if (conflict !== undefined) {
      throw fail(conflict.path, planned.conflicts.map((c) => c.message).join("; ") + "; nothing was changed");
    }
    ctx.logger.debug("planned", { resource: key, alarm: desired.name, changes: planned.changes.length });
    return {
      key,
      kind: this.kind,
      changes: planned.changes,
      notes: planned.notes,
      apply: async (signal) => {
        // What this pass read of the log group and the alarms no longer holds.
        this.groupFilters.forget(ctx, desired.logGroup);
        this.ownAlarms.forget(ctx);
        for (const step of planned.steps) await this.applyStep(desired.name, step, signal);
      },
    };
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    if (invalidOwnerId(ctx.ownerId) !== undefined) return [];
    const docs = ctx.documents.filter((d) => isKind(d, LogAlarmKind));
    const liveNames = new Set(docs.map((d) => d.metadata.name));
    const live = new Set(docs.map(resourceKey));
    let alarms: ObservedAlarm[];
    try {
      alarms = await this.ownAlarmsOf(ctx);
    } catch (error) {
      // A pass with no LogAlarm spec must not fail for want of a permission the kind alone needs.
      if (docs.length === 0 && error instanceof AwsError && /AccessDenied|Unauthorized/.test(error.code)) {
        return [
          {
            key: sweepKey(this.kind),
            kind: this.kind,
            changes: [],
            notes: [
              `alarms cannot be listed (${error.code}): alarms of removed LogAlarm specs are not looked for; ` +
                `grant what \`iam-policy\` prints to sweep them`,
            ],
            apply: async () => {},
          },
        ];
      }
      throw error;
    }
    const plans: ResourcePlan[] = [];
    for (const alarm of alarms) {
      const specName = specNameOf(alarm.name, ctx.ownerId);
      // A live spec's own plan looks after the alarm of its name; another owner whose id extends ours is not us.
      if (specName === undefined || liveNames.has(specName)) continue;
      const tags = await this.alarms.alarmTags(alarm.arn, ctx.signal);
      if (tags === undefined) continue;
      const first = decideOrphanAlarm({ alarm, tags, filters: [] }, ctx.ownerId, live);
      if (first.type === "keep") {
        if (first.reason !== undefined) {
          plans.push({
            key: tags[RESOURCE_TAG] ?? alarm.name,
            kind: this.kind,
            changes: [],
            notes: [first.reason],
            apply: async () => {},
          });
        }
        continue;
      }
      const filters =
        alarm.namespace !== undefined && alarm.metricName !== undefined
          ? await this.logs.filtersOfMetric(alarm.namespace, alarm.metricName, ctx.signal)
          : [];
      const decision = decideOrphanAlarm({ alarm, tags, filters }, ctx.ownerId, live);
      if (decision.type === "keep") continue;
      plans.push({
        key: tags[RESOURCE_TAG] ?? alarm.name,
        kind: this.kind,
        changes: decision.changes,
        apply: async (signal) => {
          this.ownAlarms.forget(ctx);
          // The filters first: the alarm is what proves them ours, so it goes last.
          for (const f of decision.filters) await this.logs.deleteFilter(f.logGroup, f.name, signal);
          await this.alarms.deleteAlarm(alarm.name, signal);
        },
      });
    }
    return plans;
  }

  /** This owner's alarms, listed once a pass for every spec and the sweep. */
  private ownAlarmsOf(ctx: ReconcileContext): Promise<ObservedAlarm[]> {
    return this.ownAlarms.get(ctx, ctx.ownerId, () =>
      this.alarms.alarmsWithPrefix(ownerPrefix(ctx.ownerId), ctx.signal),
    );
  }

  private async applyStep(name: string, step: LogAlarmStep, signal: AbortSignal): Promise<void> {
    switch (step.type) {
      case "put-alarm":
        await this.alarms.putAlarm({ ...step.alarm, name, tags: step.tags }, signal);
        return;
      case "tag-alarm":
        await this.alarms.tagAlarm(step.arn, step.tags, signal);
        return;
      case "put-filter":
        await this.logs.putFilter({ ...step.filter, logGroup: step.logGroup, name }, signal);
        return;
      case "delete-filter":
        await this.logs.deleteFilter(step.logGroup, step.name, signal);
        return;
    }
  }
}

/** The reconciler over the SDK adapters; the SDK clients load on first use. */
export function createLogAlarmReconciler(clients: LogAlarmClients): LogAlarmReconciler {
  return new LogAlarmReconciler({
    logs: new AwsCloudWatchLogsApi(clients),
    alarms: new AwsCloudWatchAlarmsApi(clients),
  });
}
