import { silentLogger } from "../../controllers/logger.ts";
import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { GIT_OPTIONS, GIT_OPTIONS_HELP, gitSourceSettings, specsLabel, withSpecs } from "../git-source.ts";
import { allKinds } from "../kinds.ts";

export const validateHelp: CommandHelp = {
  usage: "ecs-log-operator validate DIR|--git-url URL [--environment NAME]",
  summary:
    "Parses and checks every spec under DIR (or in one fetch of a Git repository), offline but for the fetch.\n" +
    "Prints every problem as FILE:LINE:COL: message.\nExit code: 0 valid, 1 invalid.",
  options: [
    ["--environment NAME", "apply the specs' `environments.NAME` overlays before checking"],
    ...GIT_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator validate manifests/examples/kinds/",
    "npx ecs-log-operator validate specs/ --environment development",
    "npx ecs-log-operator validate --git-url https://github.com/acme/ecs-specs.git --git-ref main --git-path prod \\\n" +
      "    --git-token-file ~/.config/ecs-specs-token",
  ],
};

export async function validateCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    environment: { type: "string" },
    ...GIT_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(validateHelp));
    return 0;
  }
  const git = gitSourceSettings(values, positionals);
  const dir = positionals[0];
  if (git === undefined && (dir === undefined || positionals.length > 1)) {
    throw new UsageError("validate takes one spec directory (or --git-url)");
  }
  return withSpecs(dir, git, { logger: silentLogger }, async (specs) => {
    const where = specsLabel(specs, dir);
    const result = await loadSpecDirectory(specs.dir, allKinds(), { environment: values.environment });
    for (const d of result.diagnostics)
      io.err(formatDiagnostic({ ...d, file: specs.display(d.file) }) + "\n");
    if (result.diagnostics.length > 0) {
      io.err(`${result.diagnostics.length} problem(s) in ${where}; nothing was changed.\n`);
      return 1;
    }
    const at = specs.revision !== undefined ? ` at ${where}` : "";
    io.out(`${result.documents.length} spec(s) in ${result.files.length} file(s) are valid${at}.\n`);
    return 0;
  });
}
