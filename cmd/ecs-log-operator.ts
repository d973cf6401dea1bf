#!/usr/bin/env node
import { AwsError } from "../controllers/aws/errors.ts";
import { closest } from "../controllers/did-you-mean.ts";
import { processOutput, UsageError, type Output } from "./cli-support.ts";

type Command = (args: string[], io: Output) => Promise<number>;

// Each command's module is imported only when that command runs: the offline ones (validate, schema, render
// --from) must not pay for loading the AWS SDK clients that plan, apply and run need.
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  validate: {
    load: async () => (await import("./commands/validate.ts")).validateCommand,
    summary: "check every spec in a directory, offline",
  },
  plan: {
    load: async () => {
      const { planOrApplyCommand } = await import("./commands/plan-apply.ts");
      return (a, io) => planOrApplyCommand("plan", a, io);
    },
    summary: "show the changes apply would make",
  },
  apply: {
    load: async () => {
      const { planOrApplyCommand } = await import("./commands/plan-apply.ts");
      return (a, io) => planOrApplyCommand("apply", a, io);
    },
    summary: "make AWS match the specs, once",
  },
  run: {
    load: async () => (await import("./commands/run.ts")).runCommand,
    summary: "the controller: watch, reconcile, serve /metrics until SIGTERM",
  },
  render: {
    load: async () => (await import("./commands/render.ts")).renderCommand,
    summary: "print the task definitions apply would register, as JSON",
  },
  "iam-policy": {
    load: async () => (await import("./commands/iam-policy.ts")).iamPolicyCommand,
    summary: "print the least-privilege IAM policy the specs need",
  },
  schema: {
    load: async () => (await import("./commands/schema.ts")).schemaCommand,
    summary: "print the JSON Schema of spec documents (for editors)",
  },
  "test-pattern": {
    load: async () => (await import("./commands/test-pattern.ts")).testPatternCommand,
    summary: "run LogAlarm patterns on sample log lines, offline",
  },
  get: {
    load: async () => (await import("./commands/get.ts")).getCommand,
    summary: "list a running controller's resources and their conditions",
  },
  describe: {
    load: async () => (await import("./commands/describe.ts")).describeCommand,
    summary: "explain one resource of a running controller, and its tasks",
  },
  inspect: {
    load: async () => (await import("./commands/inspect.ts")).inspectCommand,
    summary: "every ECS service of a cluster, live: tasks, images, events",
  },
};

function mainHelp(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length));
  return [
    "Usage: ecs-log-operator COMMAND DIR [options]",
    "",
    "Keeps Cloud Map, Route 53 and ECS log routing converged to GitOps specs.",
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(w)}  ${COMMANDS[n]?.summary ?? ""}`),
    "",
    "Run `ecs-log-operator COMMAND --help` for a command's options and examples.",
    "",
  ].join("\n");
}

export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(mainHelp());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    const suggestion = closest(name, Object.keys(COMMANDS));
    io.err(
      `ecs-log-operator: unknown command "${name}"` +
        (suggestion !== undefined
          ? ` (did you mean ${suggestion}?)\n`
          : `. Commands: ${Object.keys(COMMANDS).join(", ")}.\n`),
    );
    return 1;
  }
  try {
    return await (
      await command.load()
    )(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`ecs-log-operator ${name}: ${error.message}. See \`ecs-log-operator ${name} --help\`.\n`);
    } else if (error instanceof AwsError) {
      io.err(`ecs-log-operator ${name}: AWS said no: ${error.message}\n`);
    } else {
      io.err(`ecs-log-operator ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    return 1;
  }
}

if (import.meta.main) {
  // `... | head` closes the pipe early: that is the reader being done, not an error to print a stack for.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await main(process.argv.slice(2));
}
