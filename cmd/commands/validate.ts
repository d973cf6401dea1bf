import { formatDiagnostic, loadSpecDirectory, type SpecDiagnostic } from "../../controllers/spec/load.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";
import { OUTPUT_OPTION, outputHelp, parseOutputFormat, printData } from "../output-format.ts";
import { environmentProblem, reportUnreadable } from "../spec-report.ts";

const FORMATS = ["table", "json", "yaml"] as const;

export const validateHelp: CommandHelp = {
  usage: "ecs-log-operator validate DIR [--environment NAME] [--output table|json|yaml]",
  summary:
    "Parses and checks every spec under DIR, offline, and prints every problem at once as FILE:LINE:COL: message\n" +
    "(warnings too, which do not fail it). Exit code: 0 valid, 1 invalid.",
  options: [
    ["--environment NAME", "apply the specs' `environments.NAME` overlays before checking"],
    outputHelp(FORMATS, "table"),
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator validate manifests/examples/kinds/",
    "npx ecs-log-operator validate manifests/examples/seeds/003-firelens-datadog/ --environment development",
    "npx ecs-log-operator validate manifests/examples/kinds/ --output json",
  ],
};

export async function validateCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    environment: { type: "string" },
    ...OUTPUT_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(validateHelp));
    return 0;
  }
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1) throw new UsageError("validate takes one spec directory");
  const format = parseOutputFormat(values.output, FORMATS, "table");
  const result = await loadSpecDirectory(dir, allKinds(), { environment: values.environment });
  const environment = environmentProblem(values.environment, result, dir);
  const warnings = result.warnings ?? [];
  const valid = result.diagnostics.length === 0 && environment === undefined;
  if (format !== "table") {
    const located = (d: SpecDiagnostic) => ({ file: d.file, line: d.line, col: d.col, message: d.message });
    printData(io, format, {
      valid,
      specs: result.documents.length,
      files: result.files,
      problems: [
        ...result.diagnostics.map(located),
        ...(environment !== undefined ? [{ message: environment }] : []),
      ],
      warnings: warnings.map(located),
    });
    return valid ? 0 : 1;
  }
  if (reportUnreadable(result, dir, io)) return 1;
  for (const d of result.diagnostics) io.err(formatDiagnostic(d) + "\n");
  for (const w of warnings) io.err(`${w.file}:${w.line}:${w.col}: warning: ${w.message}\n`);
  if (environment !== undefined) io.err(environment + "\n");
  const advice = warnings.length > 0 ? `, ${warnings.length} warning(s)` : "";
  if (!valid) {
    const count = result.diagnostics.length + (environment !== undefined ? 1 : 0);
    io.err(`${count} problem(s)${advice} in ${dir}.\n`);
    return 1;
  }
  io.out(`${result.documents.length} spec(s) in ${result.files.length} file(s) are valid${advice}.\n`);
  return 0;
}
