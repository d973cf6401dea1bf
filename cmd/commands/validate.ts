import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";

export const validateHelp: CommandHelp = {
  usage: "ecs-log-operator validate DIR [--environment NAME]",
  summary:
    "Parses and checks every spec under DIR, offline. Prints every problem as FILE:LINE:COL: message.\nExit code: 0 valid, 1 invalid.",
  options: [
    ["--environment NAME", "apply the specs' `environments.NAME` overlays before checking"],
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator validate manifests/examples/kinds/",
    "npx ecs-log-operator validate specs/ --environment development",
  ],
};

export async function validateCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    environment: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(validateHelp));
    return 0;
  }
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1) throw new UsageError("validate takes one spec directory");
  const result = await loadSpecDirectory(dir, allKinds(), { environment: values.environment });
  for (const d of result.diagnostics) io.err(formatDiagnostic(d) + "\n");
  if (result.diagnostics.length > 0) {
    io.err(`${result.diagnostics.length} problem(s) in ${dir}; nothing was changed.\n`);
    return 1;
  }
  io.out(`${result.documents.length} spec(s) in ${result.files.length} file(s) are valid.\n`);
  return 0;
}
