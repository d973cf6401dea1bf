import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../test/cli.ts";
// main() imports a command's module when it runs; loading it here keeps that out of the tests' time.
import "./validate.ts";
import "./render.ts";

const cli = runCli;

function specDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "validate-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const RECORDS = (name: string, body: string) => `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: ${name} }
spec:
${body}`;

const EDGE = `  hostedZone: shop.internal
  name: edge.shop.internal
  type: A
  ttl: 10
  weight: 10
  targets:
    ecsTasks: { cluster: edge, service: edge }
`;

describe("validate reports every problem of a file in one run", () => {
  it("a type error, the kind's cross-field check and a duplicate name, together", async () => {
    // Before: the type error alone; fixing it showed the drain check; fixing that, the duplicate.
    const dir = specDir({
      "edge.yaml":
        RECORDS("edge", EDGE + "  drain: { lifecycleHook: drain-dns, seconds: 30s }\n") +
        "---\n" +
        RECORDS("edge", EDGE.replace("edge.shop", "edge2.shop")),
    });
    const r = await cli("validate", dir);
    expect(r.code).toBe(1);
    expect(r.err.split("\n").filter((l) => l !== "")).toEqual([
      `${dir}/edge.yaml:12:10: WeightedRecordSet "edge": drain: lifecycle hooks belong to Auto Scaling groups; use it with targets.autoScalingGroup`,
      `${dir}/edge.yaml:12:47: WeightedRecordSet "edge": spec.drain.seconds: expected integer, got string "30s"`,
      `${dir}/edge.yaml:16:19: duplicate WeightedRecordSet "edge": already declared at ${dir}/edge.yaml:3:19`,
      `3 problem(s) in ${dir}.`,
    ]);
  });

  it("a misspelt field is one line with the field it was meant to be", async () => {
    const dir = specDir({ "edge.yaml": RECORDS("edge", EDGE.replace("hostedZone:", "hostedZon:")) });
    const r = await cli("validate", dir);
    expect(r.err).toBe(
      `${dir}/edge.yaml:5:3: WeightedRecordSet "edge": spec.hostedZon: unknown field (did you mean hostedZone?)\n` +
        `1 problem(s) in ${dir}.\n`,
    );
  });

  it("an unknown kind gets the kind it was meant to be", async () => {
    const dir = specDir({
      "edge.yaml": RECORDS("edge", EDGE).replace("WeightedRecordSet", "WeightedRecordSt"),
    });
    expect((await cli("validate", dir)).err).toContain(
      'edge.yaml:2:7: unknown kind "WeightedRecordSt" (did you mean WeightedRecordSet?)',
    );
  });
});

describe("validate --environment", () => {
  const SEED = "manifests/examples/seeds/003-firelens-datadog";

  it("is an error when no spec declares the environment, with the name it was meant to be", async () => {
    // Before: exit 0, and no overlay applied.
    const r = await cli("validate", SEED, "--environment", "developmnt");
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `--environment developmnt: no spec under ${SEED} declares it (did you mean development?)`,
    );
  });

  it("names the declared environments when none is close", async () => {
    const r = await cli("validate", SEED, "--environment", "production");
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `--environment production: no spec under ${SEED} declares it (they declare: development)`,
    );
  });

  it("accepts a declared one", async () => {
    expect((await cli("validate", SEED, "--environment", "development")).code).toBe(0);
  });
});

describe("validate of what is not a spec directory", () => {
  it("says plainly that the directory is missing, without a position or 'nothing was changed'", async () => {
    const r = await cli("validate", "specs/");
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "specs/: no such file or directory\n" +
        "Nothing to read at specs/: give a directory of spec files (*.yaml, *.yml), e.g. manifests/examples/kinds.\n",
    );
  });
});

describe("validate's warnings", () => {
  it("gives the shipped SidecarVolume example the advice plan gives, without failing", async () => {
    const r = await cli("validate", "manifests/examples/kinds");
    expect(r.code).toBe(0);
    expect(r.out).toBe("6 spec(s) in 6 file(s) are valid, 1 warning(s).\n");
    // What plan and render say once they patch the family (render --from shows it offline).
    const all = await cli(
      "render",
      "manifests/examples/kinds",
      "--from",
      "test/fixtures/task-definitions/log-batch.base.json",
      "--from",
      "test/fixtures/task-definitions/gaze-heatmap.base.json",
      "--region",
      "ap-northeast-1",
    );
    const planWarnings = (
      JSON.parse(all.out) as { taskDefinitions: { warnings: string[] }[] }
    ).taskDefinitions
      .flatMap((t) => t.warnings)
      // FILE:LINE:COL: Kind/name: message -> FILE:LINE:COL and message
      .map((w) => w.replace(/^([^:]+:\d+:\d+): \w+\/[\w-]+: /, "$1: "));
    expect(planWarnings.length).toBeGreaterThan(0);
    const validateWarnings = r.err
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.replace(/^([^:]+:\d+:\d+): warning: \w+ "[\w-]+": /, "$1: "));
    expect(validateWarnings).toEqual(planWarnings);
  });

  it("prints problems and warnings as data with --output json", async () => {
    const r = await cli("validate", "manifests/examples/kinds", "--output", "json");
    const data = JSON.parse(r.out) as {
      valid: boolean;
      specs: number;
      problems: unknown[];
      warnings: unknown[];
    };
    expect(data).toMatchObject({ valid: true, specs: 6, problems: [] });
    expect(data.warnings).toEqual([
      expect.objectContaining({ file: "manifests/examples/kinds/sidecar-volume.yaml", line: 17, col: 55 }),
    ]);
  });
});
