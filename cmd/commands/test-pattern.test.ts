import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import type { Output } from "../cli-support.ts";
import { allKinds } from "../kinds.ts";
import { testPatternCommand } from "./test-pattern.ts";

async function run(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const code = await testPatternCommand(args, io, async () => stdin);
  return { code, out, err };
}

interface JsonResult {
  results: {
    key: string;
    matches: { eventNumber: number; metricValue: number | null }[];
    metricSum: number;
  }[];
}

/** The seeds' LogAlarms and the events of their NAME.log that must match, by line number. */
const EXAMPLES = [
  ["manifests/examples/seeds/000-log-cluster", "middleware-errors", [1, 4, 5]],
  ["manifests/examples/seeds/000-log-cluster", "fluentd-logger-errors", [1, 2]],
  ["manifests/examples/seeds/002-cloudwatch-logs", "access-denied", [2, 4]],
] as const;

describe("test-pattern", () => {
  it.each(EXAMPLES)("matches %s's %s alarm against its sample events", async (dir, name, lines) => {
    const r = await run([dir, "--name", name, "--logs", join(dir, `${name}.log`), "--output", "json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const [result] = (JSON.parse(r.out) as JsonResult).results;
    expect(result?.key).toBe(`LogAlarm/${name}`);
    expect(result?.matches.map((m) => m.eventNumber)).toEqual(lines);
    expect(result?.metricSum).toBe(lines.length);
  });

  it("has a sample file for every LogAlarm of the examples", async () => {
    const loaded = await loadSpecDirectory("manifests/examples/seeds", allKinds());
    const alarms = loaded.documents.filter((d) => d.kind === "LogAlarm");
    expect(alarms.length).toBeGreaterThanOrEqual(EXAMPLES.length);
    for (const d of alarms) {
      expect(existsSync(join(dirname(d.source.file), `${d.metadata.name}.log`)), d.metadata.name).toBe(true);
      expect(
        EXAMPLES.some(([, name]) => name === d.metadata.name),
        d.metadata.name,
      ).toBe(true);
    }
  });

  it("prints each event with its match and value, reading stdin", async () => {
    const r = await run(
      ["manifests/examples/seeds/002-cloudwatch-logs"],
      '{"errorCode":"AccessDenied"}\n{"errorCode":"Throttling"}\n',
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'LogAlarm/access-denied: {$.errorCode = "AccessDenied"}',
        '  1 match +1     {"errorCode":"AccessDenied"}',
        '  2 -            {"errorCode":"Throttling"}',
        "1 of 2 event(s) match; the metric's sum over them is 1 (the alarm fires when the sum reaches 1 within 5m).",
        "",
        "",
      ].join("\n"),
    );
  });

  it("shows a space-delimited pattern's fields and publishes the field it names", async () => {
    const dir = await mkdtemp(join(tmpdir(), "test-pattern-"));
    await writeFile(
      join(dir, "bytes.yaml"),
      `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: big-errors }
spec:
  logGroup: /ecs/web
  pattern: "[ip, user, username, timestamp, request, status_code = 5*, bytes]"
  metric: { value: $bytes, defaultValue: 0 }
  threshold: 100000
  period: 1m
  actions: [arn:aws:sns:eu-west-1:123456789012:ops]
`,
    );
    const events =
      '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324\n' +
      '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534\n';
    const r = await run([dir], events);
    expect(r.code).toBe(0);
    expect(r.out).toContain("  1 match +5324  127.0.0.1");
    expect(r.out).toContain('$status_code="500" $bytes="5324"');
    expect(r.out).toContain("  2 -     +0     127.0.0.1");
    expect(r.out).toContain("1 of 2 event(s) match; the metric's sum over them is 5324");
  });

  it("tests a pattern without a spec, and fails when --expect-matches is not met", async () => {
    const ok = await run(["--pattern", "?ERROR ?WARN", "--expect-matches", "2"], "ERROR a\nWARN b\nINFO c\n");
    expect(ok.code).toBe(0);
    const off = await run(["--pattern", "ERROR", "--expect-matches", "2"], "ERROR a\nWARN b\n");
    expect(off.code).toBe(1);
    expect(off.err).toBe("--pattern: 1 event(s) match, expected 2\n");
  });

  it("reports an invalid pattern at its file, line and column, and tests nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "test-pattern-"));
    await writeFile(
      join(dir, "bad.yaml"),
      `apiVersion: ecs-log-operator/v1alpha1
kind: LogAlarm
metadata: { name: bad }
spec:
  logGroup: /ecs/web
  pattern: '{ $.errorCode = "AccessDenied"'
  threshold: 1
  period: 1m
  actions: [arn:aws:sns:eu-west-1:123456789012:ops]
`,
    );
    const r = await run([dir], "x\n");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`${join(dir, "bad.yaml")}:6:43: LogAlarm "bad": invalid filter pattern:`);
    const adhoc = await run(["--pattern", "ERROR:"], "x\n");
    expect(adhoc.code).toBe(1);
    expect(adhoc.err).toContain("--pattern: invalid filter pattern at character 6: ':' needs quotes");
  });
});
