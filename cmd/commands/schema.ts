import { formatHelp, parseCommandArgs, type CommandHelp, type Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";
import { documentJsonSchema } from "../schema.ts";

export const schemaHelp: CommandHelp = {
  usage: "ecs-log-operator schema",
  summary: "Prints the JSON Schema of spec documents, generated from the same source as the validator.",
  options: [["-h, --help", "show this help"]],
  examples: ["npx ecs-log-operator schema > manifests/schema/ecs-log-operator.schema.json"],
};

export async function schemaCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseCommandArgs(args, { help: { type: "boolean", short: "h" } });
  if (values.help) {
    io.out(formatHelp(schemaHelp));
    return 0;
  }
  io.out(JSON.stringify(documentJsonSchema(allKinds()), null, 2) + "\n");
  return 0;
}
