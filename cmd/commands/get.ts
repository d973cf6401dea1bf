import { documentNow } from "../../controllers/status-text.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";
import { controllerNote, fetchStatusWith, SERVER_OPTIONS, SERVER_OPTIONS_HELP } from "../status-client.ts";
import {
  formatGetTable,
  kindsOf,
  notFound,
  outputFormat,
  parseSelection,
  select,
  serialise,
} from "../status-output.ts";

export const getHelp: CommandHelp = {
  usage: "ecs-log-operator get [KIND[/NAME]] [--server URL] [-o text|json|yaml]",
  summary: [
    "Lists the resources a running controller manages, with their conditions, from its /status: READY (reconciled",
    "to the spec), DEGRADED (a watched ECS service is short of tasks or failing them), the REASON that says most,",
    "the AGE of the latest transition and how many TARGETS the resource points at. KIND matches case-insensitively",
    "(plural too). `describe KIND/NAME` says why. Exit code: 0, 1 if the controller cannot be asked or NAME is unknown.",
  ].join("\n"),
  options: [
    ["-o, --output text|json|yaml", "output format (default text: a table)"],
    ...SERVER_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator get",
    "npx ecs-log-operator get cloudmapservices",
    "npx ecs-log-operator get CloudMapService/fluentd -o yaml",
  ],
  examplesNote: controllerNote(
    "npx ecs-log-operator get --server https://ecs-log-operator.ops.local:9464 --token-file /run/secrets/token --ca-file ca.pem",
  ),
};

export async function getCommand(args: string[], io: Output, now: () => number = Date.now): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", short: "o", default: "text" },
    ...SERVER_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(getHelp));
    return 0;
  }
  if (positionals.length > 1) throw new UsageError("get takes at most one KIND or KIND/NAME");
  const format = outputFormat(values.output);
  const doc = await fetchStatusWith(values);
  const kinds = kindsOf(
    doc,
    allKinds().map((k) => k.kind),
  );
  const selection = parseSelection(positionals[0], kinds);
  const resources = select(doc, selection);
  if (selection.name !== undefined && resources.length === 0) {
    io.err(notFound("get", doc, selection));
    return 1;
  }
  if (format !== "text") {
    const single = selection.name !== undefined ? resources[0] : undefined;
    io.out(serialise(single ?? { phase: doc.phase, generatedAt: doc.generatedAt, resources }, format));
    return 0;
  }
  io.out(formatGetTable(resources, documentNow(doc, now), selection.kind !== undefined));
  return 0;
}
