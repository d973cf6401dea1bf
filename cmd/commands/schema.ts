import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { OUTPUT_OPTION, outputHelp, parseOutputFormat, printData } from "../output-format.ts";

// A schema is a document, not a table.
const FORMATS = ["json", "yaml"] as const;
import { allKinds } from "../kinds.ts";
import { documentJsonSchema } from "../schema.ts";

export const schemaHelp: CommandHelp = {
  usage: "ecs-log-operator schema",
  summary: "Prints the JSON Schema of spec documents, generated from the same source as the validator.",
  options: [outputHelp(FORMATS, "json"), ["-h, --help", "show this help"]],
  examples: [
    "npx ecs-log-operator schema > manifests/schema/ecs-log-operator.schema.json",
    "npx ecs-log-operator schema --output yaml",
  ],
};

export async function schemaCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...OUTPUT_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(schemaHelp));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError("schema takes no arguments");
  const format = parseOutputFormat(values.output, FORMATS, "json");
  printData(io, format === "yaml" ? "yaml" : "json", documentJsonSchema(allKinds()));
  return 0;
}
