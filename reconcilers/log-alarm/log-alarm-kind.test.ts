import { describe, expect, it } from "vitest";
import { crossCheck, formatDiagnostic, parseSpecText } from "../../controllers/spec/load.ts";
import { LogAlarmKind, periodSeconds } from "./log-alarm-kind.ts";

const kinds = [LogAlarmKind];

function yaml(spec: string): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: access-denied }
spec:
  logGroup: /aws/ecs/api
${spec}`;
}

const base = `  threshold: 5
  period: 5m
  actions: [arn:aws:sns:ap-northeast-1:123456789012:log-alerts]
`;

function diagnostics(text: string): string[] {
  return parseSpecText("alarms.yaml", text, kinds).diagnostics.map(formatDiagnostic);
}

describe("LogAlarm specs", () => {
  it("accepts the contract's example", () => {
    const r = parseSpecText(
      "alarms.yaml",
      yaml(`  pattern: '{ $.errorCode = "AccessDenied" }'
  threshold: 5
  period: 5m
  evaluationPeriods: 1
  datapointsToAlarm: 1
  treatMissingData: notBreaching
  metric: { namespace: LogAlarms, name: access-denied, value: "1" }
  actions: [arn:aws:sns:ap-northeast-1:123456789012:log-alerts]
  okActions: []
  description: AccessDenied from any task
  prune: false
`),
      kinds,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.documents).toHaveLength(1);
  });

  // The column points at the character at fault inside the YAML scalar, whatever its quoting.
  // The column points at the character at fault inside the YAML scalar, whatever its quoting.
  it.each([
    ["a single-quoted scalar", `  pattern: '{ $.errorCode = "AccessDenied"'\n`, "6:43", "must end with '}'"],
    ["a double-quoted scalar", `  pattern: "{ $.errorCode == \\"AccessDenied\\" }"\n`, "6:27", "no operator"],
    ["a plain scalar", "  pattern: ERROR log-router\n", "6:21", "needs quotes"],
    [
      "a block scalar",
      "  pattern: >-\n    [ip, user,\n    status = 4* && bytes > 1]\n",
      "8:20",
      "compare that field",
    ],
  ])("reports a syntax error in %s as FILE:LINE:COL inside the pattern", (_style, pattern, at, message) => {
    const d = diagnostics(yaml(pattern + base));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(
      new RegExp(`^alarms\\.yaml:${at}: LogAlarm "access-denied": invalid filter pattern: .*${message}`),
    );
  });

  it("says to quote a JSON pattern that YAML read as a mapping", () => {
    const d = diagnostics(yaml(`  pattern: { $.errorCode = "AccessDenied" }\n` + base));
    expect(d[0]).toMatch(
      /^alarms\.yaml:6:12: .*spec\.pattern: expected string, got a mapping \(a filter pattern as a YAML string/,
    );
  });

  const sns = "arn:aws:sns:ap-northeast-1:123456789012:log-alerts";
  it.each([
    [
      "a period that is not a multiple of 60 s",
      `  period: 90s\n  actions: [${sns}]\n`,
      /8:11: .*period 90s is not a multiple of 60 s/,
    ],
    [
      "a period that is no duration",
      `  period: five\n  actions: [${sns}]\n`,
      /8:11: .*"five" is not valid \(a duration such as 5m/,
    ],
    [
      "an action that is not an SNS topic",
      "  period: 5m\n  actions: [arn:aws:lambda:ap-northeast-1:123456789012:function:notify]\n",
      /9:13: .*spec\.actions\[0\]: "arn:aws:lambda:.*" is not valid \(an SNS topic ARN/,
    ],
    [
      "too long an evaluation",
      `  period: 30m\n  evaluationPeriods: 49\n  actions: [${sns}]\n`,
      /9:22: .*at most 86400 s/,
    ],
    [
      "more datapoints than periods",
      `  period: 5m\n  evaluationPeriods: 2\n  datapointsToAlarm: 3\n  actions: [${sns}]\n`,
      /10:22: .*M out of N/,
    ],
    [
      "a JSON metric value with a terms pattern",
      `  period: 5m\n  metric: { value: "$.latency" }\n  actions: [${sns}]\n`,
      /9:20: .*needs a JSON pattern/,
    ],
  ])("rejects %s at its line", (_what, rest, expected) => {
    const d = diagnostics(yaml(`  pattern: ERROR\n  threshold: 5\n${rest}`));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(expected);
  });

  it("reads periods in seconds, minutes and hours", () => {
    expect([periodSeconds("300s"), periodSeconds("5m"), periodSeconds("1h")]).toEqual([300, 300, 3600]);
  });

  it("rejects two specs publishing to one metric", () => {
    const one = (name: string) => `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: ${name} }
spec:
  logGroup: /aws/ecs/api
  pattern: ERROR
  metric: { namespace: LogAlarms, name: errors }
${base}`;
    const parsed = parseSpecText("a.yaml", `${one("a")}---\n${one("b")}`, kinds);
    expect(parsed.diagnostics).toEqual([]);
    const cross = crossCheck(parsed.documents, kinds);
    expect(cross.rejected.map((d) => d.metadata.name)).toEqual(["b"]);
    expect(cross.diagnostics.map(formatDiagnostic)).toEqual([
      "a.yaml:18:41: LogAlarm/b and LogAlarm/a (a.yaml:7:41) both manage cloudwatch:metric/LogAlarms/errors",
    ]);
  });

  it("rejects a spec naming the metric another spec publishes by default, its own name", () => {
    const doc = (name: string, metric: string) => `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: ${name} }
spec:
  logGroup: /aws/ecs/api
  pattern: ERROR
${metric}${base}`;
    const text = `${doc("errors", "")}---\n${doc("other", "  metric: { name: errors }\n")}`;
    const parsed = parseSpecText("a.yaml", text, kinds);
    expect(parsed.diagnostics).toEqual([]);
    const cross = crossCheck(parsed.documents, kinds);
    expect(cross.rejected.map((d) => d.metadata.name)).toEqual(["other"]);
    expect(cross.diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /LogAlarm\/other and LogAlarm\/errors \(a\.yaml:5:\d+\) both manage cloudwatch:metric\/\(owner\)\/errors$/,
      ),
    ]);
  });
});
