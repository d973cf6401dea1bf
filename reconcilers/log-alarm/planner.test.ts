import { describe, expect, it } from "vitest";
import type { ObservedAlarm, ObservedFilter } from "./log-alarm-api.ts";
import type { LogAlarmSpec } from "./log-alarm-kind.ts";
import { CREATED_TAG, ownershipTags } from "./ownership.ts";
import { decideOrphanAlarm, desiredLogAlarm, planLogAlarm, type DesiredLogAlarm } from "./planner.ts";

const OWNER = "prod";
const TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:log-alerts";
const spec: LogAlarmSpec = {
  logGroup: "/aws/ecs/api",
  pattern: '{ $.errorCode = "AccessDenied" }',
  threshold: 5,
  period: "5m",
  actions: [TOPIC],
};
const desired = desiredLogAlarm(spec, "access-denied", "LogAlarm/access-denied", OWNER);

/** The alarm AWS holds once `d` was applied. */
function alarmOf(d: DesiredLogAlarm, tags: Record<string, string> = { ...d.tags, [CREATED_TAG]: "true" }) {
  const a: ObservedAlarm = {
    name: d.name,
    arn: `arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:${d.name}`,
    ...d.alarm,
    actionsEnabled: true,
    insufficientDataActions: [],
    extras: [],
  };
  return { ...a, tags };
}

function filterOf(d: DesiredLogAlarm, logGroup = d.logGroup, name = d.name): ObservedFilter {
  return {
    name,
    logGroup,
    pattern: d.filter.pattern,
    transformations: [{ ...d.filter.metric, extras: [] }],
    extras: [],
  };
}

describe("desiredLogAlarm", () => {
  it("sends the metric value as validate read it, trimmed", () => {
    const padded = desiredLogAlarm(
      { ...spec, metric: { value: " 2 " } },
      "access-denied",
      "LogAlarm/access-denied",
      OWNER,
    );
    expect(padded.filter.metric.value).toBe("2");
  });

  it("names both objects after the owner and the spec, and defaults the metric to the owner's namespace", () => {
    expect(desired.name).toBe("ecs-log-operator/prod/access-denied");
    expect(desired.filter.metric).toEqual({
      namespace: "ecs-log-operator/prod",
      name: "access-denied",
      value: "1",
      defaultValue: undefined,
    });
    expect(desired.alarm).toMatchObject({
      statistic: "Sum",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 5,
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: "notBreaching",
      alarmActions: [TOPIC],
      okActions: [],
    });
    expect(desiredLogAlarm(spec, "a", "LogAlarm/a", "team:eu").name).toBe("ecs-log-operator/team%3Aeu/a");
  });
});

describe("planLogAlarm", () => {
  it("creates the alarm, tagged as created here, before its filter", () => {
    const p = planLogAlarm(desired, { alarm: undefined, groupFilters: [], metricFilters: [] }, OWNER);
    expect(p.conflicts).toEqual([]);
    expect(p.steps.map((s) => s.type)).toEqual(["put-alarm", "put-filter"]);
    expect(p.steps[0]).toMatchObject({
      tags: { ...ownershipTags(OWNER, desired.resource, false), [CREATED_TAG]: "true" },
    });
    expect(p.changes.map((c) => `${c.action} ${c.target}`)).toEqual([
      "create alarm ecs-log-operator/prod/access-denied",
      "create metric filter ecs-log-operator/prod/access-denied on /aws/ecs/api",
    ]);
  });

  it("changes nothing when AWS matches", () => {
    const p = planLogAlarm(
      desired,
      { alarm: alarmOf(desired), groupFilters: [filterOf(desired)], metricFilters: [filterOf(desired)] },
      OWNER,
    );
    expect(p).toEqual({ steps: [], changes: [], notes: [], conflicts: [] });
  });

  it("puts back a filter and an alarm edited by hand, saying what differs", () => {
    const edited = { ...filterOf(desired), pattern: "AccessDenied" };
    const alarm = { ...alarmOf(desired), threshold: 50, alarmActions: [], extras: ["dimensions a=b"] };
    const p = planLogAlarm(desired, { alarm, groupFilters: [edited], metricFilters: [edited] }, OWNER);
    // An existing alarm is written last (see the next test).
    expect(p.steps.map((s) => s.type)).toEqual(["put-filter", "put-alarm"]);
    expect(p.steps[1]).toMatchObject({ tags: undefined });
    expect(p.changes.map((c) => c.detail)).toEqual([
      `pattern "AccessDenied" -> ${JSON.stringify(spec.pattern)}`,
      `threshold 50 -> 5, actions [] -> [${TOPIC}], dimensions a=b removed`,
    ]);
  });

  it("leaves no filter behind when an edit moving log group and metric stops after any of its writes", () => {
    // Applied as AWS would, with the filters found as the reconciler finds them: the ones in the spec's log group, and
    // every one publishing the spec's metric or the metric the alarm watches now.
    type World = { alarm: ObservedAlarm & { tags: Record<string, string> }; filters: ObservedFilter[] };
    const observe = (w: World, d: DesiredLogAlarm) => ({
      alarm: w.alarm,
      groupFilters: w.filters.filter((f) => f.logGroup === d.logGroup),
      metricFilters: w.filters.filter((f) =>
        f.transformations.some(
          (t) =>
            (t.namespace === d.filter.metric.namespace && t.name === d.filter.metric.name) ||
            (t.namespace === w.alarm.namespace && t.name === w.alarm.metricName),
        ),
      ),
    });
    const step = (
      w: World,
      s: ReturnType<typeof planLogAlarm>["steps"][number],
      d: DesiredLogAlarm,
    ): World => {
      if (s.type === "put-alarm") return { ...w, alarm: { ...w.alarm, ...s.alarm } };
      if (s.type === "tag-alarm")
        return { ...w, alarm: { ...w.alarm, tags: { ...w.alarm.tags, ...s.tags } } };
      const rest = w.filters.filter((f) => !(f.logGroup === s.logGroup && f.name === d.name));
      return s.type === "delete-filter" ? { ...w, filters: rest } : { ...w, filters: [...rest, filterOf(d)] };
    };
    const before: World = { alarm: alarmOf(desired), filters: [filterOf(desired)] };
    const moved = desiredLogAlarm(
      { ...spec, logGroup: "/aws/ecs/api-v2", metric: { name: "denied" } },
      "access-denied",
      desired.resource,
      OWNER,
    );
    const steps = planLogAlarm(moved, observe(before, moved), OWNER).steps;
    expect(steps.length).toBe(3);
    for (let done = 0; done <= steps.length; done++) {
      // The apply stops (AWS refuses, the process dies) after `done` writes; the next pass plans from what is there.
      let w = steps.slice(0, done).reduce((acc, s) => step(acc, s, moved), before);
      for (const s of planLogAlarm(moved, observe(w, moved), OWNER).steps) w = step(w, s, moved);
      expect(
        w.filters.map((f) => f.logGroup),
        `stopped after ${done} write(s)`,
      ).toEqual(["/aws/ecs/api-v2"]);
      expect(planLogAlarm(moved, observe(w, moved), OWNER).steps, `converged after ${done}`).toEqual([]);
    }
  });

  it("adopts an untagged alarm of its name (never to be pruned), and re-tags one whose prune choice changed", () => {
    const untagged = alarmOf(desired, {});
    const adopt = planLogAlarm(
      desired,
      { alarm: untagged, groupFilters: [filterOf(desired)], metricFilters: [] },
      OWNER,
    );
    expect(adopt.steps).toEqual([{ type: "tag-alarm", arn: untagged.arn, tags: desired.tags }]);
    expect(adopt.changes[0]?.detail).toContain("adopt");
    const pruned = desiredLogAlarm({ ...spec, prune: true }, "access-denied", desired.resource, OWNER);
    const retag = planLogAlarm(
      pruned,
      { alarm: alarmOf(desired), groupFilters: [filterOf(desired)], metricFilters: [] },
      OWNER,
    );
    expect(retag.steps).toEqual([
      { type: "tag-alarm", arn: untagged.arn, tags: { "ecs-log-operator/prune": "true" } },
    ]);
  });

  it("never touches an alarm another operator owns", () => {
    const theirs = alarmOf(desired, ownershipTags("staging", desired.resource, false));
    const p = planLogAlarm(desired, { alarm: theirs, groupFilters: [], metricFilters: [] }, OWNER);
    expect(p.steps).toEqual([]);
    expect(p.conflicts[0]?.message).toContain('managed by another operator (owner id "staging")');
  });

  it("deletes its filter left on the previous log group once the alarm proves it ours, and only then", () => {
    const old = filterOf(desired, "/aws/ecs/old");
    const p = planLogAlarm(
      desired,
      { alarm: alarmOf(desired), groupFilters: [], metricFilters: [old] },
      OWNER,
    );
    expect(p.steps).toEqual([
      { type: "put-filter", logGroup: "/aws/ecs/api", filter: desired.filter },
      { type: "delete-filter", logGroup: "/aws/ecs/old", name: desired.name },
    ]);
    const unproven = planLogAlarm(
      desired,
      { alarm: undefined, groupFilters: [], metricFilters: [old] },
      OWNER,
    );
    expect(unproven.steps.map((s) => s.type)).toEqual(["put-alarm", "put-filter"]);
    expect(unproven.notes[0]).toContain("no alarm of this operator proves it ours yet");
  });

  it("warns when another filter publishes to the same metric, and leaves it", () => {
    const other = filterOf(desired, "/aws/ecs/api", "hand-made");
    const p = planLogAlarm(
      desired,
      {
        alarm: alarmOf(desired),
        groupFilters: [filterOf(desired), other],
        metricFilters: [filterOf(desired), other],
      },
      OWNER,
    );
    expect(p.steps).toEqual([]);
    expect(p.notes).toEqual([
      expect.stringContaining("also published by metric filter hand-made on /aws/ecs/api"),
    ]);
  });

  it("stops at CloudWatch Logs' quotas: 100 filters a log group, 5 of them with a regex", () => {
    const many = Array.from({ length: 100 }, (_, i) => filterOf(desired, desired.logGroup, `f${i}`));
    const full = planLogAlarm(desired, { alarm: undefined, groupFilters: many, metricFilters: [] }, OWNER);
    expect(full.steps).toEqual([]);
    expect(full.conflicts).toEqual([
      { path: ["logGroup"], message: expect.stringContaining("100 metric filters") },
    ]);
    const regex = desiredLogAlarm({ ...spec, pattern: "%ERR[0-9]+%" }, "errors", "LogAlarm/errors", OWNER);
    const five = Array.from({ length: 5 }, (_, i) => ({
      ...filterOf(regex, regex.logGroup, `r${i}`),
      pattern: `%r${i}%`,
    }));
    const p = planLogAlarm(regex, { alarm: undefined, groupFilters: five, metricFilters: [] }, OWNER);
    expect(p.conflicts).toEqual([{ path: ["pattern"], message: expect.stringContaining("allows 5") }]);
    // A filter that already has its regex does not count twice.
    const mine = { ...filterOf(regex), pattern: "%ERR%" };
    expect(
      planLogAlarm(
        regex,
        { alarm: undefined, groupFilters: [...five.slice(0, 4), mine], metricFilters: [] },
        OWNER,
      ).conflicts,
    ).toEqual([]);
  });
});

describe("decideOrphanAlarm", () => {
  const live = new Set<string>();
  const gone = (prune: boolean, created: boolean, owner = OWNER) => ({
    alarm: alarmOf(desired),
    tags: { ...ownershipTags(owner, desired.resource, prune), ...(created ? { [CREATED_TAG]: "true" } : {}) },
    filters: [
      filterOf(desired),
      filterOf(desired, "/aws/ecs/old"),
      filterOf(desired, desired.logGroup, "other"),
    ],
  });

  it("deletes what it created for a removed spec that asked for prune: its filters, then the alarm", () => {
    const d = decideOrphanAlarm(gone(true, true), OWNER, live);
    expect(d.type).toBe("delete");
    if (d.type !== "delete") return;
    expect(d.filters).toEqual([
      { logGroup: "/aws/ecs/api", name: desired.name },
      { logGroup: "/aws/ecs/old", name: desired.name },
    ]);
    expect(d.changes.map((c) => `${c.action} ${c.target}`).at(-1)).toBe(`delete alarm ${desired.name}`);
  });

  it("keeps it without prune, when only adopted, while its spec lives, or when another owner's", () => {
    expect(decideOrphanAlarm(gone(false, true), OWNER, live)).toEqual({ type: "keep" });
    expect(decideOrphanAlarm(gone(true, false), OWNER, live)).toEqual({
      type: "keep",
      reason: expect.stringContaining("existed before LogAlarm/access-denied"),
    });
    expect(decideOrphanAlarm(gone(true, true), OWNER, new Set([desired.resource]))).toEqual({ type: "keep" });
    expect(decideOrphanAlarm(gone(true, true, "staging"), OWNER, live)).toEqual({ type: "keep" });
  });
});
