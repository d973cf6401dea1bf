import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readGolden } from "../../test/golden.ts";
import {
  FLUENT_BIT_GOLDENS,
  render,
  RENDER_GOLDENS,
  renderedFluentBitConfig,
} from "../../test/render-goldens.ts";

const TD = "test/fixtures/task-definitions";

// Every case renders offline (--from) and twice, to prove the output is deterministic. A missing golden file fails
// the test; `npm run golden` writes them.
describe("render golden files", () => {
  it.each(RENDER_GOLDENS)("%s", async (name, args) => {
    const first = await render(args);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const second = await render(args);
    expect(second.out).toBe(first.out);
    expect(first.out).toBe(readGolden(name));
  });

  it.each(FLUENT_BIT_GOLDENS)("%s: the extra Fluent Bit config, rendered twice", async (name, args) => {
    const first = await renderedFluentBitConfig(args);
    expect(await renderedFluentBitConfig(args)).toBe(first);
    expect(first).toBe(readGolden(name));
  });

  it("fails, and says how to write it, when a golden file is missing", () => {
    expect(() => readGolden("no-such.render.json")).toThrow(/is missing: run `npm run golden`/);
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
