import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../cli.ts";
import { freePort } from "../free-port.ts";

// A wrong endpoint or missing credentials is one sentence naming what to set, whatever the command: before, plan
// printed eight near-identical ECONNREFUSED lines (the orphan sweeps `Kind/*` among them), render printed the raw
// CredentialsProviderError once per family. Nothing listens on the port these tests use.
const cli = runCli;

const saved = { ...process.env };
let endpoint = "";

beforeEach(async () => {
  for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
  endpoint = `http://127.0.0.1:${await freePort()}`;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  });
});

afterEach(() => {
  process.env = { ...saved };
});

const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

describe("an endpoint that does not answer", () => {
  it.each([
    ["plan", ["plan", "manifests/examples/kinds"]],
    ["apply", ["apply", "manifests/examples/kinds"]],
    ["render", ["render", "manifests/examples/kinds"]],
    ["run's start", ["run", "manifests/examples/kinds", "--metrics-bind-address", "127.0.0.1:0"]],
  ])("is one line naming AWS_ENDPOINT_URL for %s", async (_name, argv) => {
    const r = await cli(...argv);
    expect(r.code).toBe(1);
    const said = lines(r.err);
    expect(said.filter((l) => /ECONNREFUSED/.test(l))).toHaveLength(1);
    expect(said.find((l) => /ECONNREFUSED/.test(l))).toContain(
      `cannot reach AWS at ${endpoint} (AWS_ENDPOINT_URL): connect ECONNREFUSED`,
    );
    expect(said.join("\n")).toContain("fix or unset AWS_ENDPOINT_URL");
    expect(r.out).not.toMatch(/ECONNREFUSED/);
  });

  it("names --endpoint-url when that is where it came from", async () => {
    delete process.env.AWS_ENDPOINT_URL;
    const r = await cli("plan", "manifests/examples/kinds", "--endpoint-url", endpoint);
    expect(lines(r.err)).toEqual([
      `ecs-log-operator plan: cannot reach AWS at ${endpoint} (--endpoint-url): connect ECONNREFUSED ` +
        `${endpoint.slice("http://".length)}; start the emulator there, or fix or unset --endpoint-url`,
    ]);
  });
});

describe("no credentials", () => {
  it("render says what plan says, once, and still prints the families given with --from", async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const plan = await cli("plan", "manifests/examples/kinds");
    expect(plan.code).toBe(1);
    const sentence = lines(plan.err)[0]!.replace(/^ecs-log-operator plan: /, "");
    expect(sentence).toMatch(/^no AWS credentials: /);

    const render = await cli(
      "render",
      "manifests/examples/kinds",
      "--from",
      "test/fixtures/task-definitions/log-batch.base.json",
    );
    expect(render.code).toBe(1);
    expect(lines(render.err)).toEqual([
      `family gaze-heatmap cannot be read from AWS (${sentence}); to render offline, give its task definition with --from FILE`,
      "1 family could not be rendered; the other 1 is printed above.",
    ]);
    const printed = JSON.parse(render.out) as { taskDefinitions: { family: string }[] };
    expect(printed.taskDefinitions.map((t) => t.family)).toEqual(["log-batch"]);
  });
});
