import { readFile } from "node:fs/promises";
import { isKind, resourceKey } from "../../controllers/spec/document.ts";
import { formatDiagnostic, loadSpecDirectory } from "../../controllers/spec/load.ts";
import { LogAlarmKind } from "../../reconcilers/log-alarm/log-alarm-kind.ts";
import {
  PatternSyntaxError,
  sampleEvents,
  testMetricFilter,
  type MetricFilterTest,
} from "../../reconcilers/log-alarm/test-metric-filter.ts";
import { formatHelp, parseCommandArgs, UsageError, type CommandHelp, type Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";

export const testPatternHelp: CommandHelp = {
  usage: "ecs-log-operator test-pattern PATH [--logs FILE] [--name NAME] [options]",
  summary: [
    "Runs LogAlarm filter patterns against sample log events, offline, one event a line: prints which events match",
    "and the value each publishes to the metric, the answer CloudWatch Logs' TestMetricFilter gives, without AWS.",
    "PATH is a spec file or directory: every LogAlarm in it is tested (or only --name). Events come from --logs",
    "FILE, or stdin. With --pattern, a pattern is tested without a spec (PATH is left out).",
    "Exit code: 0, 1 if a spec or pattern is invalid or --expect-matches is not met.",
  ].join("\n"),
  options: [
    ["--logs FILE", "the sample events, one a line (default: stdin; `-` is stdin too)"],
    ["--name NAME", "test only the LogAlarm of this metadata.name"],
    ["--pattern PATTERN", "test this pattern instead of specs'"],
    ["--expect-matches N", "fail (exit 1) unless exactly N events match each pattern tested"],
    ["--output text|json", "output format (default text)"],
    ["--environment NAME", "apply the specs' `environments.NAME` overlays"],
    ["-h, --help", "show this help"],
  ],
  examples: [
    "npx ecs-log-operator test-pattern manifests/examples/seeds/002-cloudwatch-logs/ \\\n" +
      "    --logs manifests/examples/seeds/002-cloudwatch-logs/access-denied.log",
    "kubectl logs ... | npx ecs-log-operator test-pattern specs/alarms.yaml --name access-denied",
    `npx ecs-log-operator test-pattern --pattern '{ $.errorCode = "AccessDenied" }' --logs events.log --expect-matches 2`,
  ],
};

/** One pattern to test, from a spec or from --pattern. */
interface Subject {
  readonly key: string;
  /** `FILE:LINE:COL` of the spec, for errors. */
  readonly at: string | undefined;
  readonly pattern: string;
  readonly value: string | undefined;
  readonly defaultValue: number | undefined;
  /** When the alarm fires: `5 within 5m`. */
  readonly alarm: string | undefined;
}

export async function testPatternCommand(
  args: string[],
  io: Output,
  stdin: () => Promise<string> = readStdin,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    logs: { type: "string" },
    name: { type: "string" },
    pattern: { type: "string" },
    "expect-matches": { type: "string" },
    output: { type: "string", default: "text" },
    environment: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(formatHelp(testPatternHelp));
    return 0;
  }
  if (values.output !== "text" && values.output !== "json") throw new UsageError("--output is text or json");
  const expect = values["expect-matches"] !== undefined ? Number(values["expect-matches"]) : undefined;
  if (expect !== undefined && !(Number.isInteger(expect) && expect >= 0)) {
    throw new UsageError("--expect-matches takes a whole number");
  }
  const subjects: Subject[] = [];
  if (values.pattern !== undefined) {
    if (positionals.length > 0) throw new UsageError("give either PATH or --pattern, not both");
    subjects.push({
      key: "--pattern",
      at: undefined,
      pattern: values.pattern,
      value: undefined,
      defaultValue: undefined,
      alarm: undefined,
    });
  } else {
    const path = positionals[0];
    if (path === undefined || positionals.length > 1) {
      throw new UsageError("test-pattern takes one spec file or directory (or --pattern)");
    }
    const loaded = await loadSpecDirectory(path, allKinds(), { environment: values.environment });
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d) + "\n");
    if (loaded.diagnostics.length > 0) {
      io.err(`${loaded.diagnostics.length} problem(s) in ${path}; nothing was tested.\n`);
      return 1;
    }
    for (const doc of loaded.documents) {
      if (!isKind(doc, LogAlarmKind)) continue;
      if (values.name !== undefined && doc.metadata.name !== values.name) continue;
      const s = doc.spec;
      subjects.push({
        key: resourceKey(doc),
        at: `${doc.source.file}:${doc.source.line}:${doc.source.col}`,
        pattern: s.pattern,
        value: s.metric?.value,
        defaultValue: s.metric?.defaultValue,
        alarm: `${s.threshold} within ${s.period}`,
      });
    }
    if (subjects.length === 0) {
      throw new UsageError(
        values.name !== undefined
          ? `no LogAlarm named ${values.name} under ${path}`
          : `no LogAlarm spec under ${path}`,
      );
    }
  }
  const text = values.logs === undefined || values.logs === "-" ? await stdin() : await readLogs(values.logs);
  const events = sampleEvents(text);

  const results: { subject: Subject; test: MetricFilterTest }[] = [];
  for (const subject of subjects) {
    try {
      results.push({ subject, test: testMetricFilter(subject.pattern, events, subject) });
    } catch (error) {
      const why =
        error instanceof PatternSyntaxError
          ? `invalid filter pattern at character ${error.index + 1}: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error);
      io.err(`${subject.at !== undefined ? `${subject.at}: ` : ""}${subject.key}: ${why}\n`);
      return 1;
    }
  }
  if (values.output === "json") {
    io.out(
      JSON.stringify(
        {
          results: results.map(({ subject, test }) => ({
            key: subject.key,
            pattern: subject.pattern,
            // The shape of TestMetricFilter's response, plus what each match publishes.
            matches: test.events
              .filter((e) => e.matched)
              .map((e) => ({
                eventNumber: e.eventNumber,
                eventMessage: e.eventMessage,
                extractedValues: e.extractedValues,
                metricValue: e.metricValue ?? null,
              })),
            metricSum: test.sum,
          })),
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    for (const { subject, test } of results) io.out(formatResult(subject, test));
  }
  if (expect !== undefined) {
    const off = results.filter((r) => r.test.events.filter((e) => e.matched).length !== expect);
    for (const r of off) {
      io.err(
        `${r.subject.key}: ${r.test.events.filter((e) => e.matched).length} event(s) match, expected ${expect}\n`,
      );
    }
    if (off.length > 0) return 1;
  }
  return 0;
}

function formatResult(subject: Subject, test: MetricFilterTest): string {
  const matched = test.events.filter((e) => e.matched);
  const width = String(test.events.length).length;
  const lines = [`${subject.key}: ${subject.pattern}`];
  for (const e of test.events) {
    const value = e.metricValue === undefined ? "" : `+${e.metricValue}`;
    const fields = Object.entries(e.extractedValues);
    lines.push(
      `  ${String(e.eventNumber).padStart(width)} ${e.matched ? "match" : "-    "} ${value.padEnd(6)} ${e.eventMessage}`,
    );
    if (e.matched && fields.length > 0) {
      lines.push(
        `  ${" ".repeat(width)}       ${" ".repeat(6)} ${fields.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}`,
      );
    }
  }
  lines.push(
    `${matched.length} of ${test.events.length} event(s) match; the metric's sum over them is ${test.sum}` +
      (subject.alarm !== undefined ? ` (the alarm fires when the sum reaches ${subject.alarm}).` : "."),
    "",
  );
  return lines.join("\n") + "\n";
}

async function readLogs(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read --logs ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError("give the sample events with --logs FILE, or pipe them in");
  }
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}
