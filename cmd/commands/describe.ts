import { documentNow } from "../../controllers/status-text.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";
import { controllerNote, fetchStatusWith, SERVER_OPTIONS, SERVER_OPTIONS_HELP } from "../status-client.ts";
import {
  formatDescribe,
  kindsOf,
  notFound,
  outputFormat,
  parseSelection,
  select,
  serialise,
  servicesOf,
} from "../status-output.ts";

export const describeHelp: CommandHelp = {
  usage: "ecs-log-operator describe KIND/NAME [--server URL] [-o text|json|yaml]",
  summary: [
    "Shows one resource of a running controller, from its /status: its conditions, the last changes it made, its",
    "targets, and for every ECS service or family it watches the counts, the running tasks with their addresses,",
    "the stopped tasks with their stop codes and reasons, and the latest events with what they mean (a placement",
    "failure's RESOURCE:ENI, a task that went PENDING and vanished). Exit code: 0, 1 if the controller cannot be",
    "asked or the resource is unknown.",
  ].join("\n"),
  options: [
    ["-o, --output text|json|yaml", "output format (default text)"],
    ...SERVER_OPTIONS_HELP,
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator describe CloudMapService/fluentd",
    "npx ecs-log-operator describe weightedrecordset/fluentd-nodes -o json",
  ],
  examplesNote: controllerNote(
    "npx ecs-log-operator describe weightedrecordset/fluentd-nodes --server http://10.0.1.7:9464 -o json",
  ),
};

export async function describeCommand(
  args: string[],
  io: Output,
  now: () => number = Date.now,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", short: "o", default: "text" },
    ...SERVER_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(describeHelp));
    return 0;
  }
  const target = positionals[0];
  if (target === undefined || positionals.length > 1 || !target.includes("/")) {
    throw new UsageError("describe takes one KIND/NAME, e.g. CloudMapService/fluentd");
  }
  const format = outputFormat(values.output);
  const doc = await fetchStatusWith(values);
  const kinds = kindsOf(
    doc,
    allKinds().map((k) => k.kind),
  );
  const selection = parseSelection(target, kinds);
  const resource = select(doc, selection)[0];
  if (resource === undefined) {
    io.err(notFound("describe", doc, selection));
    return 1;
  }
  if (format !== "text") {
    io.out(
      serialise(
        {
          resource,
          services: servicesOf(doc, resource),
          decisions: doc.decisions.filter((d) => d.resource === resource.key),
        },
        format,
      ),
    );
    return 0;
  }
  io.out(formatDescribe(doc, resource, documentNow(doc, now)));
  return 0;
}
