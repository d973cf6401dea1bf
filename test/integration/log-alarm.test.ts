import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  PutMetricAlarmCommand,
  type MetricAlarm,
  type PutMetricAlarmCommandInput,
} from "@aws-sdk/client-cloudwatch";
import {
  CreateLogGroupCommand,
  DescribeMetricFiltersCommand,
  PutMetricFilterCommand,
  type MetricFilter,
  type PutMetricFilterCommandInput,
} from "@aws-sdk/client-cloudwatch-logs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Output } from "../../cmd/cli-support.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import { AwsCallCounter, createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { runPass, type PassResult } from "../../controllers/pass.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { AwsCloudWatchAlarmsApi } from "../../reconcilers/log-alarm/aws-cloudwatch-alarms-api.ts";
import { AwsCloudWatchLogsApi } from "../../reconcilers/log-alarm/aws-cloudwatch-logs-api.ts";
import { logAlarmClients, type LogAlarmClients } from "../../reconcilers/log-alarm/log-alarm-clients.ts";
import { LogAlarmKind } from "../../reconcilers/log-alarm/log-alarm-kind.ts";
import { LogAlarmReconciler } from "../../reconcilers/log-alarm/reconciler.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { startEmulator } from "./harness.ts";
import { LogsEmulatorProxy } from "./logs-emulator-proxy.ts";

/*
 * LogAlarm against the emulator. CloudWatch Logs calls go through LogsEmulatorProxy, which makes moto replace a
 * metric filter on PutMetricFilter as AWS does (moto appends a second one) and refuse an unknown log group; the
 * CloudWatch alarm calls reach moto directly.
 */
const REGION = "ap-northeast-1";
const TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:log-alerts";
const OPS = "arn:aws:sns:ap-northeast-1:123456789012:ops";

let moto: MotoEmulator;
let proxy: LogsEmulatorProxy;
/** Straight to the emulator: building the scene and reading what AWS holds. */
let aws: AwsClients;
let awsAlarms: LogAlarmClients;
/** CloudWatch Logs through the proxy, as a person in the console would change it. */
let logsAws: AwsClients;
let logsThroughProxy: LogAlarmClients;
/** The operator's clients, counted. */
let operator: AwsClients;
let operatorLogs: AwsClients;
/** The operator's CloudWatch Logs through the proxy, its CloudWatch straight to the emulator. */
let operatorLogAlarm: LogAlarmClients;
const counter = new AwsCallCounter();

beforeAll(async () => {
  ({ moto, clients: aws } = await startEmulator({ region: REGION }));
  proxy = await LogsEmulatorProxy.start(moto.endpoint);
  logsAws = createAwsClients({ region: REGION, endpoint: proxy.endpoint });
  operator = createAwsClients({ region: REGION, endpoint: moto.endpoint, observer: counter });
  operatorLogs = createAwsClients({ region: REGION, endpoint: proxy.endpoint, observer: counter });
  awsAlarms = logAlarmClients(aws);
  logsThroughProxy = logAlarmClients(logsAws);
  operatorLogAlarm = {
    logs: logAlarmClients(operatorLogs).logs,
    cloudWatch: logAlarmClients(operator).cloudWatch,
  };
});

afterAll(async () => {
  for (const c of [aws, logsAws, operator, operatorLogs]) c?.destroy();
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  counter.reset();
  const logs = await logsThroughProxy.logs();
  for (const g of ["/ecs/api", "/ecs/other"]) await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
});

function reconciler(): LogAlarmReconciler {
  return new LogAlarmReconciler({
    logs: new AwsCloudWatchLogsApi(operatorLogAlarm),
    alarms: new AwsCloudWatchAlarmsApi(operatorLogAlarm),
  });
}

interface SpecOptions {
  readonly name?: string;
  readonly logGroup?: string;
  readonly pattern?: string;
  readonly threshold?: string;
  readonly period?: string;
  readonly actions?: string;
  readonly metric?: string;
  readonly prune?: string;
}

function specText(o: SpecOptions = {}): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata:
  name: ${o.name ?? "access-denied"}
spec:
  logGroup: ${o.logGroup ?? "/ecs/api"}
  pattern: ${o.pattern ?? `'{ $.errorCode = "AccessDenied" }'`}
  threshold: ${o.threshold ?? "5"}
  period: ${o.period ?? "5m"}
${o.metric ?? "  metric: { namespace: LogAlarms, name: api-access-denied }\n"}  actions: ${o.actions ?? `[${TOPIC}]`}
  okActions: [${OPS}]
  prune: ${o.prune ?? "true"}
`;
}

function docs(...texts: string[]): SpecDocument[] {
  const r = parseSpecText("alarms.yaml", texts.join("---\n"), [LogAlarmKind]);
  expect(r.diagnostics).toEqual([]);
  return r.documents;
}

async function pass(
  documents: SpecDocument[],
  apply = true,
  ownerId = "it",
  r = reconciler(),
): Promise<PassResult> {
  return runPass(
    {
      reconcilers: [r],
      documents,
      complete: true,
      ownerId,
      logger: silentLogger,
      signal: AbortSignal.timeout(60_000),
      // The kind's own removal rule, apart from the prune guard (which has its tests in prune-guard.test.ts).
      pruneGuard: { allowEmpty: true, maxCount: 1, maxFraction: 1 },
    },
    apply,
  );
}

function changes(r: PassResult): string[] {
  return r.plans.flatMap((p) => p.changes.map((c) => `${c.action} ${c.target}`));
}

function failures(r: PassResult): string[] {
  return r.failures.map((f) => `${f.key}: ${f.error.message}`);
}

async function filtersOf(logGroup: string): Promise<MetricFilter[]> {
  const logs = await logsThroughProxy.logs();
  const out = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: logGroup }));
  return (out.metricFilters ?? []).map(({ creationTime: _t, ...f }) => f);
}

async function alarms(): Promise<(MetricAlarm & { tags: Record<string, string> })[]> {
  const cw = await awsAlarms.cloudWatch();
  const out = await cw.send(new DescribeAlarmsCommand({}));
  return Promise.all(
    (out.MetricAlarms ?? []).map(async (a) => {
      const tags = await cw.send(new ListTagsForResourceCommand({ ResourceARN: a.AlarmArn }));
      const {
        StateValue: _s,
        StateReason: _r,
        StateReasonData: _d,
        StateUpdatedTimestamp: _u,
        AlarmConfigurationUpdatedTimestamp: _c,
        StateTransitionedTimestamp: _t,
        ...rest
      } = a;
      return { ...rest, tags: Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value])) };
    }),
  );
}

/** Everything the tests look at: every filter of both groups and every alarm, with its tags. */
async function snapshot(): Promise<unknown> {
  return { api: await filtersOf("/ecs/api"), other: await filtersOf("/ecs/other"), alarms: await alarms() };
}

const NAME = "ecs-log-operator/it/access-denied";

/** An alarm made by hand (as in the console), at this spec's name unless told otherwise. */
async function alarmByHand(input: Partial<PutMetricAlarmCommandInput>): Promise<void> {
  const cw = await awsAlarms.cloudWatch();
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: NAME,
      Namespace: "LogAlarms",
      MetricName: "api-access-denied",
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 5,
      Period: 300,
      EvaluationPeriods: 1,
      ...input,
    }),
  );
}

/** A metric filter made by hand on /ecs/api, through the proxy: it replaces one of its name, as in AWS. */
async function filterByHand(input: Partial<PutMetricFilterCommandInput>): Promise<void> {
  const logs = await logsThroughProxy.logs();
  await logs.send(
    new PutMetricFilterCommand({
      logGroupName: "/ecs/api",
      filterName: NAME,
      filterPattern: "AccessDenied",
      metricTransformations: [
        { metricNamespace: "LogAlarms", metricName: "api-access-denied", metricValue: "1" },
      ],
      ...input,
    }),
  );
}

describe("LogAlarm against the emulator", () => {
  it("creates its metric filter and its alarm with the declared pattern, threshold, period and actions; a second pass writes nothing", async () => {
    const first = await pass(docs(specText()));
    expect(failures(first)).toEqual([]);
    expect(changes(first)).toEqual([`create alarm ${NAME}`, `create metric filter ${NAME} on /ecs/api`]);
    expect(await filtersOf("/ecs/api")).toEqual([
      {
        filterName: NAME,
        logGroupName: "/ecs/api",
        filterPattern: '{ $.errorCode = "AccessDenied" }',
        metricTransformations: [
          { metricNamespace: "LogAlarms", metricName: "api-access-denied", metricValue: "1" },
        ],
      },
    ]);
    const [alarm, ...more] = await alarms();
    expect(more).toEqual([]);
    expect(alarm).toMatchObject({
      AlarmName: NAME,
      Namespace: "LogAlarms",
      MetricName: "api-access-denied",
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 5,
      Period: 300,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: "notBreaching",
      ActionsEnabled: true,
      AlarmActions: [TOPIC],
      OKActions: [OPS],
      tags: {
        "ecs-log-operator/owner": "it",
        "ecs-log-operator/resource": "LogAlarm/access-denied",
        "ecs-log-operator/prune": "true",
        "ecs-log-operator/created": "true",
      },
    });

    counter.reset();
    const second = await pass(docs(specText()));
    expect(failures(second)).toEqual([]);
    expect(changes(second)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    // One listing of this owner's alarms serves the spec and the sweep.
    expect(counter.count("cloudwatch", "DescribeAlarms")).toBe(1);
  });

  it("puts back a filter and an alarm edited or deleted by hand", async () => {
    expect(failures(await pass(docs(specText())))).toEqual([]);
    const converged = await snapshot();
    await filterByHand({
      metricTransformations: [
        { metricNamespace: "LogAlarms", metricName: "api-access-denied", metricValue: "2" },
      ],
    });
    await alarmByHand({ Threshold: 99, Period: 60 });
    const planned = await pass(docs(specText()), false);
    // An existing alarm is written after its filters: while it still watches the old metric, a filter left behind
    // by an interrupted apply can be found again.
    expect(planned.plans[0]?.changes).toEqual([
      {
        action: "update",
        target: `metric filter ${NAME} on /ecs/api`,
        detail: `pattern "AccessDenied" -> "{ $.errorCode = \\"AccessDenied\\" }", value "2" -> "1"`,
        write: "logs:PutMetricFilter",
      },
      {
        action: "update",
        target: `alarm ${NAME}`,
        detail: expect.stringMatching(
          /^description .*threshold 99 -> 5, period 60 -> 300, .*actions \[\] -> \[arn:aws:sns:.*:log-alerts\]/,
        ),
        write: "cloudwatch:PutMetricAlarm",
      },
    ]);
    expect(failures(await pass(docs(specText())))).toEqual([]);
    expect(await snapshot()).toEqual(converged);

    await (await awsAlarms.cloudWatch()).send(new DeleteAlarmsCommand({ AlarmNames: [NAME] }));
    const healed = await pass(docs(specText()));
    expect(changes(healed)).toEqual([`create alarm ${NAME}`]);
    expect(await snapshot()).toEqual(converged);
    counter.reset();
    expect(changes(await pass(docs(specText())))).toEqual([]);
    expect(counter.writes()).toEqual([]);
  });

  it("never touches another owner's alarm of the same log group, nor filters and alarms it did not make", async () => {
    const unnamedMetric = { metric: "" };
    // Another operator on the same log group; one whose owner id extends ours ("it/eu" starts like "it/").
    for (const owner of ["staging", "it/eu"]) {
      expect(failures(await pass(docs(specText(unnamedMetric)), true, owner))).toEqual([]);
    }
    // A filter and an alarm made by hand, on the same group and metric.
    await filterByHand({
      filterName: "AccessDenied-by-hand",
      metricTransformations: [
        { metricNamespace: "ecs-log-operator/it", metricName: "access-denied", metricValue: "1" },
      ],
    });
    await alarmByHand({
      AlarmName: "AccessDenied-by-hand",
      Namespace: "ecs-log-operator/it",
      MetricName: "access-denied",
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
      Period: 60,
    });
    const before = await snapshot();

    const ours = await pass(docs(specText(unnamedMetric)));
    expect(failures(ours)).toEqual([]);
    expect(changes(ours)).toEqual([`create alarm ${NAME}`, `create metric filter ${NAME} on /ecs/api`]);
    // The hand-made filter publishes to the metric this spec defaults to: said, and left alone.
    expect(ours.plans[0]?.notes).toEqual([
      expect.stringContaining("also published by metric filter AccessDenied-by-hand"),
    ]);
    // Removed with prune: true, ours go; everything else stays as it was.
    const removed = await pass([]);
    expect(failures(removed)).toEqual([]);
    expect(changes(removed)).toEqual([`delete metric filter ${NAME} on /ecs/api`, `delete alarm ${NAME}`]);
    expect(await snapshot()).toEqual(before);
  });

  it("keeps both when a spec without prune is removed, and never prunes an alarm it only adopted", async () => {
    expect(failures(await pass(docs(specText({ prune: "false" }))))).toEqual([]);
    const kept = await snapshot();
    counter.reset();
    expect(changes(await pass([]))).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(await snapshot()).toEqual(kept);

    await moto.reset();
    const logs = await logsThroughProxy.logs();
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/ecs/api" }));
    await alarmByHand({});
    const adopted = await pass(docs(specText()));
    expect(adopted.plans[0]?.changes.find((c) => c.target.endsWith("ownership tags"))?.detail).toContain(
      "adopt",
    );
    const removed = await pass([]);
    expect(changes(removed)).toEqual([]);
    expect(removed.plans.flatMap((p) => p.notes ?? [])).toEqual([
      `alarm ${NAME} existed before LogAlarm/access-denied; prune leaves it`,
    ]);
    expect((await alarms()).map((a) => a.AlarmName)).toEqual([NAME]);
  });

  it("moves its filter when the spec's log group changes", async () => {
    expect(failures(await pass(docs(specText())))).toEqual([]);
    const moved = await pass(docs(specText({ logGroup: "/ecs/other" })));
    expect(failures(moved)).toEqual([]);
    expect(changes(moved)).toEqual([
      `create metric filter ${NAME} on /ecs/other`,
      `delete metric filter ${NAME} on /ecs/api`,
      // The default description names the log group. Written last: the alarm is what finds the old filter.
      `update alarm ${NAME}`,
    ]);
    expect(await filtersOf("/ecs/api")).toEqual([]);
    expect((await filtersOf("/ecs/other")).map((f) => f.filterName)).toEqual([NAME]);
    expect(changes(await pass(docs(specText({ logGroup: "/ecs/other" }))))).toEqual([]);
  });
});

describe("LogAlarm from the command line", () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
    const env = {
      ...moto.env(REGION),
      // The SDK takes a service's own endpoint before the shared one.
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: proxy.endpoint,
    };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      const code = await main(argv, io);
      return { code, out, err };
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  function dir(text: string): { dir: string; file: string } {
    const d = mkdtempSync(join(tmpdir(), "log-alarm-"));
    const file = join(d, "alarms.yaml");
    writeFileSync(file, text);
    return { dir: d, file };
  }

  it("rejects an invalid pattern, a period not a multiple of 60 s, an action that is no SNS topic and an unknown log group, at their file and line, changing nothing", async () => {
    const good = dir(specText());
    const applied = await cli("apply", good.dir, "--owner-id", "it");
    expect(applied.err).toBe("");
    expect(applied.code).toBe(0);
    const converged = await snapshot();

    const cases: [SpecOptions, string][] = [
      [
        { pattern: `'{ $.errorCode = "AccessDenied"'` },
        `:7:43: LogAlarm "access-denied": invalid filter pattern: a JSON pattern that starts with '{' must end with '}'`,
      ],
      [{ period: "90s" }, `:9:11: LogAlarm "access-denied": period 90s is not a multiple of 60 s`],
      [
        { actions: "[arn:aws:lambda:ap-northeast-1:123456789012:function:notify]" },
        `:11:13: LogAlarm "access-denied": spec.actions[0]: "arn:aws:lambda:ap-northeast-1:123456789012:function:notify" is not valid (an SNS topic ARN`,
      ],
    ];
    for (const [options, message] of cases) {
      const bad = dir(specText(options));
      const validated = await cli("validate", bad.dir);
      expect(validated.code).toBe(1);
      expect(validated.err).toContain(`${bad.file}${message}`);
      const r = await cli("apply", bad.dir, "--owner-id", "it");
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${bad.file}${message}`);
      expect(r.err).toContain("nothing is deleted this run");
      expect(await snapshot()).toEqual(converged);
    }

    const missing = dir(specText({ logGroup: "/ecs/missing" }));
    expect((await cli("validate", missing.dir)).code).toBe(0);
    const r = await cli("apply", missing.dir, "--owner-id", "it");
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `${missing.file}:6:13: LogAlarm/access-denied: log group /ecs/missing does not exist; nothing was changed.`,
    );
    expect(await snapshot()).toEqual(converged);

    const plan = await cli("plan", good.dir, "--owner-id", "it");
    expect(plan.code).toBe(0);
    expect(plan.out).toContain("LogAlarm/access-denied: up to date");
  });
});
