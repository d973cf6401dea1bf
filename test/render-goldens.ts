import { renderCommand } from "../cmd/commands/render.ts";
import type { Output } from "../cmd/cli-support.ts";

const TD = "test/fixtures/task-definitions";

/** Runs `render` in process, offline (every case gives --from). */
export async function render(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const code = await renderCommand(args, io);
  return { code, out, err };
}

/** The `render` invocations whose whole output is a golden file. */
export const RENDER_GOLDENS: readonly (readonly [golden: string, args: string[]])[] = [
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

/** The golden files holding a family's extra Fluent Bit config, each with the render that gives it. */
export const FLUENT_BIT_GOLDENS: readonly (readonly [golden: string, args: string[]])[] = [
  ["payments.fluent-bit.conf", RENDER_GOLDENS[3]![1]],
  ["log-router-kind.fluent-bit.conf", RENDER_GOLDENS[4]![1]],
];

/** The first family's extra Fluent Bit config, as `render` prints it. */
export async function renderedFluentBitConfig(args: readonly string[]): Promise<string> {
  const parsed = JSON.parse((await render([...args])).out) as {
    taskDefinitions: { fluentBitConfig: { text: string } }[];
  };
  return parsed.taskDefinitions[0]!.fluentBitConfig.text;
}
