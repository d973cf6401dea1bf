import { silentLogger } from "../../controllers/logger.ts";
import { formatDiagnostic, loadSpecDirectory, type SpecDiagnostic } from "../../controllers/spec/load.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import {
  GIT_OPTIONS,
  GIT_OPTIONS_HELP,
  gitExamples,
  gitSourceSettings,
  specsLabel,
  withSpecs,
} from "../git-source.ts";
import { allKinds } from "../kinds.ts";
import { OUTPUT_OPTION, outputHelp, parseOutputFormat, printData } from "../output-format.ts";
import { environmentProblem, reportUnreadable } from "../spec-report.ts";

const FORMATS = ["table", "json", "yaml"] as const;

const validateGit = gitExamples(
  "validate",
  "npx ecs-log-operator validate --git-url https://github.com/acme/ecs-specs.git --git-ref main --git-path prod \\\n" +
    "      --git-token-file ~/.config/ecs-specs-token",
);

export const validateHelp: CommandHelp = {
  usage: "ecs-log-operator validate DIR|--git-url URL [--environment NAME] [--output table|json|yaml]",
  summary:
    "Parses and checks every spec under DIR (or in one fetch of a Git repository), offline but for the fetch, and\n" +
    "prints every problem at once as FILE:LINE:COL: message (warnings too, which do not fail it).\n" +
    "Exit code: 0 valid, 1 invalid.",
  options: [
    ["--environment NAME", "apply the specs' `environments.NAME` overlays before checking"],
    outputHelp(FORMATS, "table"),
    ...GIT_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator validate manifests/examples/kinds/",
    "npx ecs-log-operator validate manifests/examples/seeds/003-firelens-datadog/ --environment development",
    "npx ecs-log-operator validate manifests/examples/kinds/ --output json",
    validateGit.example,
  ],
  examplesNote: validateGit.note,
};

export async function validateCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    environment: { type: "string" },
    ...OUTPUT_OPTION,
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
  const format = parseOutputFormat(values.output, FORMATS, "table");
  return withSpecs(dir, git, { logger: silentLogger }, async (specs) => {
    const where = specsLabel(specs, dir);
    const result = await loadSpecDirectory(specs.dir, allKinds(), { environment: values.environment });
    const environment = environmentProblem(values.environment, result, where);
    const warnings = result.warnings ?? [];
    const valid = result.diagnostics.length === 0 && environment === undefined;
    const located = (d: SpecDiagnostic) => ({ ...d, file: specs.display(d.file) });
    if (format !== "table") {
      const fields = (d: SpecDiagnostic) => {
        const l = located(d);
        return { file: l.file, line: l.line, col: l.col, message: l.message };
      };
      printData(io, format, {
        valid,
        specs: result.documents.length,
        files: result.files.map(specs.display),
        problems: [
          ...result.diagnostics.map(fields),
          ...(environment !== undefined ? [{ message: environment }] : []),
        ],
        warnings: warnings.map(fields),
        ...(specs.revision !== undefined ? { source: specs.revision } : {}),
      });
      return valid ? 0 : 1;
    }
    if (reportUnreadable(result, specs.dir, io)) return 1;
    for (const d of result.diagnostics) io.err(formatDiagnostic(located(d)) + "\n");
    for (const w of warnings.map(located)) io.err(`${w.file}:${w.line}:${w.col}: warning: ${w.message}\n`);
    if (environment !== undefined) io.err(environment + "\n");
    const advice = warnings.length > 0 ? `, ${warnings.length} warning(s)` : "";
    if (!valid) {
      const count = result.diagnostics.length + (environment !== undefined ? 1 : 0);
      io.err(`${count} problem(s)${advice} in ${where}.\n`);
      return 1;
    }
    const at = specs.revision !== undefined ? ` at ${where}` : "";
    io.out(`${result.documents.length} spec(s) in ${result.files.length} file(s) are valid${at}${advice}.\n`);
    return 0;
  });
}
