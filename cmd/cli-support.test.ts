import { describe, expect, it } from "vitest";
import { awsSettings, logLevelOption, parseCommandArgs, UsageError, type Output } from "./cli-support.ts";
import { main } from "./ecs-log-operator.ts";
// main() imports a command's module when it runs; loading it here keeps that out of the tests' time.
import "./commands/plan-apply.ts";

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
    expect(io.text()).toContain(
      "Commands: validate, plan, apply, run, render, iam-policy, schema, test-pattern, get, describe, inspect.",
    );
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

describe("awsSettings", () => {
  it("rejects a bad --owner-id once, when the flags are read", () => {
    expect(() => awsSettings({ "owner-id": "bad owner!" })).toThrow(
      new UsageError('--owner-id: owner id "bad owner!" must be 1 to 100 letters, digits or _.:/@+-'),
    );
  });

  it("names the environment variable when the owner id came from there", () => {
    const saved = process.env.ECS_LOG_OPERATOR_OWNER_ID;
    process.env.ECS_LOG_OPERATOR_OWNER_ID = "a;b";
    try {
      expect(() => awsSettings({})).toThrow(/^ECS_LOG_OPERATOR_OWNER_ID: owner id "a;b"/);
    } finally {
      if (saved === undefined) delete process.env.ECS_LOG_OPERATOR_OWNER_ID;
      else process.env.ECS_LOG_OPERATOR_OWNER_ID = saved;
    }
  });

  it("plan says so once, before reading AWS, without a resource's prefix", async () => {
    let text = "";
    const io: Output = { out: (t) => (text += t), err: (t) => (text += t), color: false };
    expect(await main(["plan", "manifests/examples/kinds", "--owner-id", "bad owner!"], io)).toBe(1);
    expect(text).toBe(
      'ecs-log-operator plan: --owner-id: owner id "bad owner!" must be 1 to 100 letters, digits or _.:/@+-. ' +
        "See `ecs-log-operator plan --help`.\n",
    );
  });
});

describe("logLevelOption", () => {
  const io = (): Output & { text: () => string } => {
    let text = "";
    return { out: (t) => (text += t), err: (t) => (text += t), color: false, text: () => text };
  };

  it("reads --log-level, and takes --verbose as its deprecated debug", () => {
    expect(logLevelOption({ "log-level": "warn" }, io())).toBe("warn");
    expect(logLevelOption({}, io())).toBeUndefined();
    const out = io();
    expect(logLevelOption({ verbose: true }, out)).toBe("debug");
    expect(out.text()).toBe("--verbose is deprecated: use --log-level debug\n");
  });

  it("suggests a level for a typo", () => {
    expect(() => logLevelOption({ "log-level": "wran" }, io())).toThrow(
      "--log-level is one of debug, info, warn, error (did you mean warn?)",
    );
  });
});
