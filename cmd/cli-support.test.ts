import { describe, expect, it } from "vitest";
import { parseCommandArgs, UsageError, type Output } from "./cli-support.ts";
import { main } from "./ecs-log-operator.ts";

const OPTIONS = {
  environment: { type: "string" },
  region: { type: "string" },
  "endpoint-url": { type: "string" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const;

function usageError(args: string[]): string {
  try {
    parseCommandArgs(args, OPTIONS);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`no usage error for ${JSON.stringify(args)}`);
}

describe("parseCommandArgs", () => {
  it.each([
    [["specs", "--regoin", "eu-west-1"], "unknown option --regoin (did you mean --region?)"],
    [["specs", "--regoin=eu-west-1"], "unknown option --regoin (did you mean --region?)"],
    [["specs", "--endpoint", "http://x"], "unknown option --endpoint (did you mean --endpoint-url?)"],
    [
      ["specs", "--frobnicate"],
      "unknown option --frobnicate (options: --environment, --region, --endpoint-url, --output, --help)",
    ],
    [["specs", "--output"], "--output needs a value"],
    [["specs", "--help=yes"], "--help takes no value"],
  ])("%j: %s", (args, message) => {
    expect(usageError(args)).toBe(message);
  });

  it("never shows Node's parser text", () => {
    expect(usageError(["--regoin"])).not.toMatch(/positional|place it at the end/);
  });

  it("reads what it knows, and takes a value starting with - after --", () => {
    const { values, positionals } = parseCommandArgs(["specs", "-o", "json", "--", "--weird"], OPTIONS);
    expect(values.output).toBe("json");
    expect(positionals).toEqual(["specs", "--weird"]);
  });
});

describe("main", () => {
  function capture(): Output & { text: () => string } {
    let text = "";
    return { out: (t) => (text += t), err: (t) => (text += t), color: false, text: () => text };
  }

  it("suggests the command a typo was meant to be", async () => {
    const io = capture();
    expect(await main(["valdate", "specs"], io)).toBe(1);
    expect(io.text()).toBe('ecs-log-operator: unknown command "valdate" (did you mean validate?)\n');
  });

  it("lists the commands when nothing is close", async () => {
    const io = capture();
    expect(await main(["frobnicate"], io)).toBe(1);
    expect(io.text()).toContain("Commands: validate, plan, apply, run, render, iam-policy, schema.");
  });

  it("suggests a flag through every command's parser", async () => {
    const io = capture();
    expect(await main(["plan", "manifests/examples/kinds", "--regoin", "eu-west-1"], io)).toBe(1);
    expect(io.text()).toBe(
      "ecs-log-operator plan: unknown option --regoin (did you mean --region?). " +
        "See `ecs-log-operator plan --help`.\n",
    );
  });
});
