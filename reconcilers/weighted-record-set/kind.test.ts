import { describe, expect, it } from "vitest";
import { crossCheck, formatDiagnostic, parseSpecText } from "../../controllers/spec/load.ts";
import { weightedRecordSetKind } from "./kind.ts";

const kinds = [weightedRecordSetKind];

function doc(spec: string, name = "fluentd"): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata:
  name: ${name}
spec:
${spec
  .trim()
  .split("\n")
  .map((l) => `  ${l}`)
  .join("\n")}
`;
}

const valid = `
hostedZone: logs.internal
name: fluentd.logs.internal
type: A
ttl: 10
weight: 10
targets:
  autoScalingGroup: log-asg
drain:
  lifecycleHook: drain-dns
  seconds: 30
`;

function diagnostics(text: string): string[] {
  return parseSpecText("specs/wrs.yaml", text, kinds).diagnostics.map(formatDiagnostic);
}

describe("WeightedRecordSet spec", () => {
  it("accepts the documented example, and ECS tasks as targets, and a zone id", () => {
    expect(diagnostics(doc(valid))).toEqual([]);
    const tasks = valid
      .replace("  autoScalingGroup: log-asg", "  ecsTasks: { cluster: logs, service: fluentd }")
      .replace(/drain:\n.*\n.*\n/, "");
    expect(diagnostics(doc(tasks))).toEqual([]);
    expect(
      diagnostics(doc(valid.replace("hostedZone: logs.internal", "hostedZone: Z0123456789ABC"))),
    ).toEqual([]);
  });

  it.each([
    [
      "ttl: 10",
      "ttl: -1",
      /specs\/wrs\.yaml:9:8: WeightedRecordSet "fluentd": spec\.ttl: expected integer to be greater or equal to 0/,
    ],
    ["ttl: 10", "ttl: 100000", /:9:8: .*spec\.ttl: expected integer to be less or equal to 86400/],
    ["weight: 10", "weight: 256", /:10:11: .*spec\.weight: expected integer to be less or equal to 255/],
    ["weight: 10", "weight: ten", /:10:11: .*spec\.weight: expected integer, got string "ten"/],
    ["type: A", "type: CNAME", /:8:9: .*spec\.type/],
    [
      "hostedZone: logs.internal",
      "hostedZone: Logs_Internal!",
      /:6:15: .*spec\.hostedZone: "Logs_Internal!" is not valid \(a lower-case zone name/,
    ],
    [
      "name: fluentd.logs.internal",
      "name: fluentd.other.internal",
      /:7:9: .*name: fluentd\.other\.internal is not inside the hosted zone logs\.internal/,
    ],
    [
      "  autoScalingGroup: log-asg",
      "  autoScalingGroup: log-asg\n  ecsTasks: { cluster: logs, service: x }",
      /:12:5: .*targets: give exactly one of autoScalingGroup or ecsTasks/,
    ],
    [
      "  autoScalingGroup: log-asg",
      "  ecsTasks: { cluster: logs }",
      /drain: lifecycle hooks belong to Auto Scaling groups/,
    ],
    [
      "ttl: 10",
      "ttl: 7200",
      /:15:14: .*drain: ttl \+ seconds is 7230, longer than a lifecycle hook can hold an instance \(7200 s\)/,
    ],
    ["  seconds: 30", "  seconds: 30\n  extra: 1", /:16:5: .*spec\.drain\.extra: unknown field/],
  ])("rejects %s -> %s with file and line", (from, to, message) => {
    const found = diagnostics(doc(valid.replace(from, to)));
    expect(found.join("\n")).toMatch(message);
  });

  it("rejects a second spec claiming the same record name and zone, naming both places", () => {
    const text = doc(valid, "first") + "---\n" + doc(valid.replace("log-asg", "other-asg"), "second");
    const parsed = parseSpecText("specs/wrs.yaml", text, kinds);
    expect(parsed.diagnostics).toEqual([]);
    const cross = crossCheck(parsed.documents, kinds);
    expect(cross.rejected.map((d) => d.metadata.name)).toEqual(["second"]);
    expect(cross.diagnostics.map(formatDiagnostic)).toEqual([
      "specs/wrs.yaml:23:9: WeightedRecordSet/second and WeightedRecordSet/first (specs/wrs.yaml:7:9) both manage route53:logs.internal/fluentd.logs.internal/A",
    ]);
  });
});
