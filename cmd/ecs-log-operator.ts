#!/usr/bin/env node
import { AwsError } from "../controllers/aws/errors.ts";
import { processOutput, UsageError, type Output } from "./cli-support.ts";
import { iamPolicyCommand } from "./commands/iam-policy.ts";
import { planOrApplyCommand } from "./commands/plan-apply.ts";
import { renderCommand } from "./commands/render.ts";
import { runCommand } from "./commands/run.ts";
import { schemaCommand } from "./commands/schema.ts";
import { testPatternCommand } from "./commands/test-pattern.ts";
import { validateCommand } from "./commands/validate.ts";

type Command = (args: string[], io: Output) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  validate: { run: validateCommand, summary: "check every spec in a directory, offline" },
  plan: { run: (a, io) => planOrApplyCommand("plan", a, io), summary: "show the changes apply would make" },
  apply: { run: (a, io) => planOrApplyCommand("apply", a, io), summary: "make AWS match the specs, once" },
  run: { run: runCommand, summary: "the controller: watch, reconcile, serve /metrics until SIGTERM" },
  render: { run: renderCommand, summary: "print the task definitions apply would register, as JSON" },
  "iam-policy": { run: iamPolicyCommand, summary: "print the least-privilege IAM policy the specs need" },
  schema: { run: schemaCommand, summary: "print the JSON Schema of spec documents (for editors)" },
  "test-pattern": { run: testPatternCommand, summary: "run LogAlarm patterns on sample log lines, offline" },
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
    io.err(`ecs-log-operator: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(", ")}.\n`);
    return 1;
  }
  try {
    return await command.run(rest, io);
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
  process.exitCode = await main(process.argv.slice(2));
}
