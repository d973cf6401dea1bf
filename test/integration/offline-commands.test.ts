import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// The offline commands run on every CI push and in editors: they must not load the AWS SDK clients that only
// plan, apply and run call (a quarter of validate's 132 MiB before). Each command runs in a fresh process that
// records every module it resolves.
const run = promisify(execFile);
const NODE = "node_modules/.bin/node";
const TD = "test/fixtures/task-definitions";

async function modulesLoadedBy(args: string[]): Promise<{ modules: string[]; stdout: string }> {
  const list = join(mkdtempSync(join(tmpdir(), "modules-")), "resolved.txt");
  const env: NodeJS.ProcessEnv = { ...process.env, RECORD_MODULES_TO: list };
  // No region, credentials or endpoint: an offline command needs none of them.
  for (const k of Object.keys(env)) if (k.startsWith("AWS_")) delete env[k];
  const { stdout } = await run(
    NODE,
    ["--import", "./test/integration/record-modules.ts", "cmd/ecs-log-operator.ts", ...args],
    { env },
  );
  return { modules: readFileSync(list, "utf8").trim().split("\n"), stdout };
}

const sdk = (modules: string[]): string[] =>
  modules.filter((m) => /\/node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//.test(m));

describe("offline commands", () => {
  it.each([
    [["validate", "manifests/examples/kinds"]],
    [
      [
        "render",
        "manifests/examples/kinds",
        "--from",
        `${TD}/gaze-heatmap.base.json`,
        "--from",
        `${TD}/log-batch.base.json`,
        "--region",
        "ap-northeast-1",
      ],
    ],
    [["schema"]],
    // Offline too: the policy comes from the kinds' entries, which say statically which kinds sweep.
    [["iam-policy", "manifests/examples/kinds", "--account", "123456789012", "--region", "eu-west-1"]],
    [
      [
        "test-pattern",
        "manifests/examples/seeds/002-cloudwatch-logs/",
        "--logs",
        "manifests/examples/seeds/002-cloudwatch-logs/access-denied.log",
      ],
    ],
  ])("%j loads no AWS SDK module", async (args) => {
    const { modules, stdout } = await modulesLoadedBy(args);
    expect(stdout).not.toBe("");
    // The recorder works: it saw the schema library every one of them uses.
    expect(modules.some((m) => m.includes("/node_modules/@sinclair/typebox/"))).toBe(true);
    expect(sdk(modules)).toEqual([]);
  });

  it("the recorder sees the SDK where a command does load it", async () => {
    const { modules } = await modulesLoadedBy(["plan", "--help"]);
    expect(sdk(modules).length).toBeGreaterThan(0);
  });
});
