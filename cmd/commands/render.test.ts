import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Output } from "../cli-support.ts";
import { renderCommand } from "./render.ts";

async function render(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const code = await renderCommand(args, io);
  return { code, out, err };
}

const TD = "test/fixtures/task-definitions";
const GOLDEN = "test/fixtures/golden";

/** Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it. */
function golden(name: string, text: string): void {
  const path = `${GOLDEN}/${name}`;
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, "utf8"));
}

// Every case renders offline (--from) and twice, to prove the output is deterministic.
const cases: [golden: string, args: string[]][] = [
  [
    "gaze-heatmap.render.json",
    [
      "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml",
      "--from",
      `${TD}/gaze-heatmap.base.json`,
      "--region",
      "ap-northeast-1",
    ],
  ],
  [
    "gaze-heatmap.development.render.json",
    [
      "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml",
      "--from",
      `${TD}/gaze-heatmap.expected.json`,
      "--region",
      "ap-northeast-1",
      "--environment",
      "development",
    ],
  ],
  [
    "log-batch.render.json",
    ["manifests/examples/seeds/001-sidecar-batch/log-batch.yaml", "--from", `${TD}/log-batch.base.json`],
  ],
  [
    "payments.render.json",
    ["test/fixtures/specs/payments", "--from", `${TD}/payments.base.json`, "--region", "eu-west-1"],
  ],
  // Fargate through the init image, Grace from stopTimeout, filesystem buffering, Datadog and S3.
  [
    "log-router-kind.render.json",
    [
      "manifests/examples/kinds/log-router.yaml",
      "--from",
      `${TD}/gaze-heatmap.base.json`,
      "--region",
      "ap-northeast-1",
    ],
  ],
];

describe("render golden files", () => {
  it.each(cases)("%s", async (name, args) => {
    const first = await render(args);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const second = await render(args);
    expect(second.out).toBe(first.out);
    golden(name, first.out);
  });

  it.each([
    ["payments.fluent-bit.conf", cases[3]![1]],
    ["log-router-kind.fluent-bit.conf", cases[4]![1]],
  ])("%s: the extra Fluent Bit config, rendered twice", async (name, args) => {
    const text = async (): Promise<string> => {
      const parsed = JSON.parse((await render(args)).out) as {
        taskDefinitions: { fluentBitConfig: { text: string } }[];
      };
      return parsed.taskDefinitions[0]!.fluentBitConfig.text;
    };
    const first = await text();
    expect(await text()).toBe(first);
    golden(name, first);
  });

  it("renders the seed task definitions exactly (--family prints RegisterTaskDefinition input)", async () => {
    const seed003 = await render([
      "manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml",
      "--from",
      `${TD}/gaze-heatmap.base.json`,
      "--region",
      "ap-northeast-1",
      "--family",
      "gaze-heatmap",
    ]);
    const { tags, ...td } = JSON.parse(seed003.out) as Record<string, unknown>;
    expect(td).toEqual(JSON.parse(readFileSync(`${TD}/gaze-heatmap.expected.json`, "utf8")));
    expect(tags).toContainEqual({
      key: "ecs-log-operator/generation",
      value: expect.stringMatching(/^LogRouter\/gaze-heatmap:/),
    });
    const seed001 = await render([
      "manifests/examples/seeds/001-sidecar-batch/log-batch.yaml",
      "--from",
      `${TD}/log-batch.base.json`,
      "--family",
      "log-batch",
    ]);
    const { tags: _t, ...batch } = JSON.parse(seed001.out) as Record<string, unknown>;
    expect(batch).toEqual(JSON.parse(readFileSync(`${TD}/log-batch.expected.json`, "utf8")));
  });
});

describe("render errors", () => {
  it("says a family cannot be read from AWS and suggests --from", async () => {
    const r = await render([
      "manifests/examples/seeds/001-sidecar-batch/log-batch.yaml",
      "--endpoint-url",
      "http://127.0.0.1:9",
      "--region",
      "us-east-1",
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/family log-batch cannot be read from AWS .*--from FILE/);
  });

  it("names the spec line of a container the family does not have, and renders nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "render-"));
    writeFileSync(
      join(dir, "lr.yaml"),
      [
        "apiVersion: ecs-log-operator/v1alpha1",
        "kind: LogRouter",
        "metadata: { name: heatmap }",
        "spec:",
        "  family: gaze-heatmap",
        "  containers: [gaze-heatmap, sidecar]",
        "  router: {}",
        "  output: { forward: { host: fluentd.local } }",
        "",
      ].join("\n"),
    );
    const r = await render([dir, "--from", `${TD}/gaze-heatmap.base.json`, "--region", "us-east-1"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(
      `${join(dir, "lr.yaml")}:6:30: LogRouter/heatmap: family gaze-heatmap has no container "sidecar" (it has gaze-heatmap)`,
    );
  });

  it("rejects a plaintext key at its line without printing it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "render-"));
    const key = "0123456789abcdef0123456789abcdef";
    writeFileSync(
      join(dir, "lr.yaml"),
      [
        "apiVersion: ecs-log-operator/v1alpha1",
        "kind: LogRouter",
        "metadata: { name: heatmap }",
        "spec:",
        "  family: gaze-heatmap",
        "  router: {}",
        "  output:",
        `    datadog: { apiKeySecretArn: "${key}" }`,
        "",
      ].join("\n"),
    );
    const r = await render([dir, "--from", `${TD}/gaze-heatmap.base.json`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${join(dir, "lr.yaml")}:8:33: LogRouter "heatmap": spec.output.datadog.apiKeySecretArn: `,
    );
    expect(r.err).toContain("looks like a plaintext key");
    expect(r.err + r.out).not.toContain(key);
  });
});
