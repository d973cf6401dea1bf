import { describe, expect, it } from "vitest";
import { formatDiagnostic, parseSpecText } from "../../controllers/spec/load.ts";
import { SidecarVolumeKind } from "./sidecar-volume-kind.ts";

const kinds = [SidecarVolumeKind];
function load(spec: string): string[] {
  const text = `apiVersion: ecs-log-operator/v1alpha1\nkind: SidecarVolume\nmetadata: { name: batch }\nspec:\n${spec}`;
  return parseSpecText("sv.yaml", text, kinds).diagnostics.map(formatDiagnostic);
}

describe("SidecarVolume schema and checks", () => {
  it("accepts the documented spec", () => {
    expect(
      load(
        "  family: log-batch\n  source: { container: fluentd, volume: fluentd-log, path: /fluentd/log }\n" +
          "  consumers:\n    - { container: batch, readOnly: false, dependsOn: START }\n",
      ),
    ).toEqual([]);
  });

  it("needs volume and path together", () => {
    expect(
      load("  family: f\n  source: { container: fluentd, volume: v }\n  consumers: [{ container: b }]\n"),
    ).toEqual([expect.stringMatching(/^sv\.yaml:6:\d+: /)]);
    expect(
      load("  family: f\n  source: { container: fluentd, volume: v }\n  consumers: [{ container: b }]\n")[0],
    ).toContain(
      [
        'SidecarVolume "batch": source.volume and source.path go together: give both, or neither to share the image\'s VOLUMEs',
      ].join(),
    );
  });

  it("rejects the source as its own consumer, a consumer twice, and an unknown dependsOn", () => {
    expect(load("  family: f\n  source: { container: a }\n  consumers: [{ container: a }]\n")[0]).toContain(
      '"a" is the source',
    );
    expect(
      load("  family: f\n  source: { container: a }\n  consumers: [{ container: b }, { container: b }]\n")[0],
    ).toContain("listed twice");
    expect(
      load(
        "  family: f\n  source: { container: a }\n  consumers: [{ container: b, dependsOn: COMPLETE }]\n",
      )[0],
    ).toContain('must be one of: "START", "HEALTHY", "none"');
  });

  it.each([
    ["family", '  family: "f\\n[x]"\n  source: { container: a }\n  consumers: [{ container: b }]\n'],
    [
      "source.container",
      '  family: f\n  source: { container: "@INCLUDE" }\n  consumers: [{ container: b }]\n',
    ],
    [
      "source.path",
      '  family: f\n  source: { container: a, volume: v, path: "/x\\n[y]" }\n  consumers: [{ container: b }]\n',
    ],
    ["consumer", '  family: f\n  source: { container: a }\n  consumers: [{ container: "${HOME}" }]\n'],
  ])("rejects an injection attempt in %s at its line", (_f, spec) => {
    expect(load(spec)[0]).toMatch(/^sv\.yaml:\d+:\d+: SidecarVolume "batch"/);
  });
});
