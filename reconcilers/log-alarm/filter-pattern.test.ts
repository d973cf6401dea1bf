import { describe, expect, it } from "vitest";
import {
  matchEvent,
  metricValueOf,
  parseFilterPattern,
  parseMetricValue,
  PatternSyntaxError,
  type FilterPattern,
} from "./filter-pattern.ts";

/*
 * The emulator has no TestMetricFilter, so the matcher is checked against AWS's documented examples: each table row is
 * a pattern and events the CloudWatch Logs User Guide says it matches, or does not. Sources:
 *   [G] "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live Tail",
 *       https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 *   [A] its earlier text, kept in AWS's repository github.com/awsdocs/amazon-cloudwatch-logs-user-guide,
 *       doc_source/FilterAndPatternSyntax.md ("Filter and Pattern Syntax").
 *   [R] "Supported regular expressions (regex) syntax",
 *       https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html
 */

interface Row {
  readonly source: string;
  readonly pattern: string;
  readonly matches: readonly string[];
  readonly misses: readonly string[];
}

function parse(pattern: string): FilterPattern {
  return parseFilterPattern(pattern);
}

function checkRows(rows: readonly Row[]): void {
  it.each(rows.map((r) => [r.pattern, r] as const))("%s", (_p, row) => {
    const pattern = parse(row.pattern);
    for (const event of row.matches)
      expect(matchEvent(pattern, event).matched, `${row.source}: ${event}`).toBe(true);
    for (const event of row.misses)
      expect(matchEvent(pattern, event).matched, `${row.source}: ${event}`).toBe(false);
  });
}

function syntaxError(pattern: string): { index: number; message: string } {
  try {
    parseFilterPattern(pattern);
  } catch (error) {
    if (error instanceof PatternSyntaxError) return { index: error.index, message: error.message };
    throw error;
  }
  throw new Error(`${pattern} parsed`);
}

const or3 = ["ERROR WARN message", "ERROR message", "WARN message"] as const;

describe("terms in unstructured log events (AWS's documented examples)", () => {
  checkRows([
    { source: "[A] Example 1: Match everything", pattern: '""', matches: ["anything", ""], misses: [] },
    { source: "[A] an empty pattern", pattern: "", matches: ["anything"], misses: [] },
    {
      source: "[A] Example 2: Single term",
      pattern: "ERROR",
      matches: ["[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"],
      misses: ["[WARN] Retrying", "error in lower case"],
    },
    {
      source: "[A] Example 3: Include a term and exclude a term",
      pattern: '"ERROR" - "Exiting"',
      matches: ["[ERROR] A fatal exception has occurred"],
      misses: ["Exiting with ERRORCODE: -1"],
    },
    {
      source: "[A] Example 4: Multiple terms",
      pattern: "ERROR Exception",
      matches: ["[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception"],
      misses: ["[ERROR] A fatal exception has occurred"],
    },
    {
      source: "[A] Example 4: Multiple terms",
      pattern: "Failed to process the request",
      matches: [
        "[WARN] Failed to process the request",
        "[ERROR] Unable to continue: Failed to process the request",
      ],
      misses: ["[WARN] Failed to process"],
    },
    {
      source: "[A] (and awsdocs PR #31): a quoted phrase is one term",
      pattern: '"ERROR Exception"',
      matches: ["[ERROR Exception] in thread main"],
      misses: ["[ERROR] Unhandled Exception"],
    },
    { source: "[A] OR Pattern Matching", pattern: "ERROR", matches: [or3[0], or3[1]], misses: [or3[2]] },
    {
      source: "[A] OR Pattern Matching",
      pattern: "?ERROR ?WARN",
      matches: [...or3],
      misses: ["INFO message"],
    },
    { source: "[A] OR Pattern Matching", pattern: "ERROR WARN", matches: [or3[0]], misses: [or3[1], or3[2]] },
    {
      source: "[A] OR Pattern Matching",
      pattern: "ERROR -WARN",
      matches: [or3[1]],
      misses: [or3[0], or3[2]],
    },
    {
      source: "[R] %AUTHORIZED%",
      pattern: "%AUTHORIZED%",
      matches: ["[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST"],
      misses: ["[SUCCESS 200] OK"],
    },
    {
      source: "[R] %[Ee]rror|[Ff]ail%",
      pattern: "%[Ee]rror|[Ff]ail%",
      matches: ["Error: x", "an error", "Failed", "fail"],
      misses: ["ERROR", "FAIL"],
    },
  ]);

  it("reads term groups as AWS's CDK writes them: ?a b ?c d is (a and b) or (c and d)", () => {
    const p = parse('?"ERROR" "MainThread" ?"WARN" "Deadlock"');
    expect(matchEvent(p, "ERROR in MainThread").matched).toBe(true);
    expect(matchEvent(p, "WARN Deadlock found").matched).toBe(true);
    expect(matchEvent(p, "ERROR Deadlock").matched).toBe(false);
  });

  it.each([
    ['"ERROR', 0, "unterminated quoted string"],
    ["ERROR: failed", 5, "needs quotes"],
    ["ERROR log-router", 9, "needs quotes"],
    ["ERROR ?", 6, "must be followed by a term"],
    ["?-ERROR", 1, "one prefix"],
    ["%something!%", 10, "'!' is not supported"],
    ["%(ERROR)%", 1, "no groups"],
    ["%ERROR", 0, "unterminated regex"],
    ["%ERROR% WARN", 8, "stands alone"],
    ["%a{2,1}%", 1, "invalid regex"],
    ["%エラー%", 1, "multi-byte"],
  ])("rejects %s at index %i (%s)", (pattern, index, message) => {
    const e = syntaxError(pattern);
    expect(e.message).toContain(message);
    expect(e.index).toBe(index);
  });
});

const trail = JSON.stringify({
  eventType: "UpdateTrail",
  sourceIPAddress: "111.111.111.111",
  arrayKey: ["value", "another value"],
  objectList: [
    { name: "a", id: 1 },
    { name: "b", id: 2 },
  ],
  SomeObject: null,
  ThisFlag: true,
});
const users = JSON.stringify({
  user: { id: 1, email: "John.Stiles@example.com" },
  users: [
    { id: 2, email: "John.Doe@example.com" },
    { id: 3, email: "Jane.Doe@example.com" },
  ],
  actions: ["GET", "PUT", "DELETE"],
  coordinates: [
    [0, 1, 2],
    [4, 5, 6],
    [7, 8, 9],
  ],
});

describe("JSON log events (AWS's documented examples)", () => {
  checkRows([
    {
      source: "[A] JSON Metric Filter Examples",
      pattern: '{ $.eventType = "UpdateTrail" }',
      matches: [trail],
      misses: [users, "UpdateTrail"],
    },
    {
      source: "[A]",
      pattern: "{ $.sourceIPAddress != 123.123.* }",
      matches: [trail],
      misses: [JSON.stringify({ sourceIPAddress: "123.123.1.1" })],
    },
    {
      source: "[A]",
      pattern: '{ $.arrayKey[0] = "value" }',
      matches: [trail],
      misses: [JSON.stringify({ arrayKey: "value" })],
    },
    {
      source: "[A]",
      pattern: "{ $.objectList[1].id = 2 }",
      matches: [trail],
      misses: [JSON.stringify({ objectList: { id: 2 } })],
    },
    {
      source: "[A]",
      pattern: "{ $.SomeObject IS NULL }",
      matches: [trail],
      misses: [JSON.stringify({ SomeObject: 1 }), "{}"],
    },
    {
      source: "[A]",
      pattern: "{ $.SomeOtherObject NOT EXISTS }",
      matches: [trail],
      misses: [JSON.stringify({ SomeOtherObject: null })],
    },
    {
      source: "[A]",
      pattern: "{ $.ThisFlag IS TRUE }",
      matches: [trail],
      misses: [JSON.stringify({ ThisFlag: false })],
    },
    {
      source: "[A] (... also FALSE)",
      pattern: "{ $.ThisFlag IS FALSE }",
      matches: [JSON.stringify({ ThisFlag: false })],
      misses: [trail],
    },
    {
      source: "[A] JSON Compound Conditions",
      pattern: '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }',
      matches: [users],
      misses: [],
    },
    {
      source: "[A] JSON Compound Conditions",
      pattern: '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
      matches: [],
      misses: [users],
    },
    {
      source: "[A] JSON Compound Conditions (&& before ||)",
      pattern:
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
      matches: [users],
      misses: [],
    },
    {
      source: "[A] JSON Compound Conditions (parentheses first)",
      pattern:
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
      matches: [],
      misses: [users],
    },
    {
      source: "[A] JSON Special Considerations",
      pattern: "{$.users = 1}",
      matches: [],
      misses: ['{"users": [1, 2, 3]}'],
    },
    {
      source: "[A] JSON Special Considerations",
      pattern: "{$.users != 1}",
      matches: [],
      misses: ['{"users": [1, 2, 3]}'],
    },
    {
      source: "[A] OR in JSON filters",
      pattern: "{$.foo = bar}",
      matches: ['{"foo": "bar"}'],
      misses: ['{"foo": "baz"}'],
    },
    {
      source: "[A] OR in JSON filters",
      pattern: "{$.foo = baz }",
      matches: ['{"foo": "baz"}'],
      misses: ['{"foo": "bar"}'],
    },
    {
      source: "[A] OR in JSON filters",
      pattern: "{$.foo = bar || $.foo = baz }",
      matches: ['{"foo": "bar"}', '{"foo": "baz"}'],
      misses: ['{"foo": "qux"}'],
    },
    {
      source: "[A] STRING wildcards",
      pattern: "{ $.name = *Event }",
      matches: ['{"name":"PutEvent"}', '{"name":"GetEvent"}'],
      misses: ['{"name":"EventId"}'],
    },
    {
      source: "[A] STRING wildcards",
      pattern: "{ $.name = Event* }",
      matches: ['{"name":"EventId"}', '{"name":"EventName"}'],
      misses: ['{"name":"PutEvent"}'],
    },
    {
      source: "[A] STRING wildcards (only at either end)",
      pattern: "{ $.name = Ev*ent }",
      matches: ['{"name":"Ev*ent"}'],
      misses: ['{"name":"Event"}', '{"name":"EvXent"}'],
    },
    {
      source: "[A] Publishing Numerical Values",
      pattern: "{ $.latency = * }",
      matches: ['{"latency": 50, "requestType": "GET"}'],
      misses: ['{"requestType": "GET"}'],
    },
    {
      source: "[A] Numeric Comparisons",
      pattern: "{ $.latency >= 500 }",
      matches: ['{"latency": 500}', '{"latency": 1e3}'],
      misses: ['{"latency": 499.9}', '{"latency": "slow"}'],
    },
    {
      source: "[A] Numeric Comparisons",
      pattern: "{ $.latency > +1000 }",
      matches: ['{"latency": 1001}'],
      misses: ['{"latency": 1000}'],
    },
    {
      source: "[A] Numeric Comparisons",
      pattern: "{ $.numbers[0] < 10e-3 }",
      matches: ['{"numbers": [0.001]}'],
      misses: ['{"numbers": [0.1]}'],
    },
    {
      source: "[A] Numeric Comparisons",
      pattern: "{ $.errorCode != 500 }",
      matches: ['{"errorCode": 400}'],
      misses: ['{"errorCode": 500}', "{}"],
    },
    {
      source: 'seed 002 (CON320): { $.errorCode = "AccessDenied" }',
      pattern: '{$.errorCode = "AccessDenied"}',
      matches: ['{"eventName":"GetObject","errorCode":"AccessDenied"}'],
      misses: [
        '{"eventName":"GetObject"}',
        "errorCode AccessDenied",
        '{"errorCode":"AccessDeniedException"}',
      ],
    },
    {
      source: "[G] regex in a JSON pattern",
      pattern: "{ $.eventType = %Trail$% }",
      matches: [trail],
      misses: ['{"eventType":"TrailUpdate"}'],
    },
  ]);

  it.each([
    ['{ $.errorCode = "AccessDenied"', 30, "must end with '}'"],
    ["{ }", 0, "empty JSON pattern"],
    ["{ errorCode = x }", 2, "expected a selector"],
    ["{ $.errorCode == x }", 14, "no operator"],
    ["{ $.a = 1 & $.b = 2 }", 10, "use && or ||"],
    ["{ $.a < abc }", 8, "compares numbers"],
    ["{ ($.a = 1 }", 11, "expected ')'"],
    ["{ $.a = b@c }", 9, "unquoted value"],
    ["{ $.a IS MAYBE }", 9, "NULL, TRUE or FALSE"],
    ["{ $.a = }", 8, "expected a value"],
    ["{ $[0] = 1 }", 3, "follows a property"],
    ["{ $.a = %x% && $.b = %y% && $.c = %z% }", 34, "at most 2"],
  ])("rejects %s at index %i (%s)", (pattern, index, message) => {
    const e = syntaxError(pattern);
    expect(e.message).toContain(message);
    expect(e.index).toBe(index);
  });
});

const apache = [
  '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
  '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
  '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
] as const;

describe("space-delimited log events (AWS's documented examples)", () => {
  checkRows([
    {
      source: "[A] fields with a name",
      pattern: "[ip, user, username, timestamp, request, status_code, bytes]",
      matches: [...apache],
      misses: ["too few fields"],
    },
    { source: "[A] ellipsis", pattern: "[..., status_code, bytes]", matches: [...apache], misses: ["one"] },
    {
      source: "[A] ellipsis",
      pattern: "[ip, user, ..., status_code, bytes]",
      matches: [...apache],
      misses: ["a b c"],
    },
    { source: "[A] ellipsis", pattern: "[ip, user, ...]", matches: [...apache], misses: ["one"] },
    {
      source: "[A] conditions",
      pattern: "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
      matches: [...apache],
      misses: [apache[0].replace("1534", "999")],
    },
    {
      source: "[A] conditions",
      pattern: "[ip, user, username, timestamp, request, status_code = 200, bytes]",
      matches: [apache[0], apache[2]],
      misses: [apache[1]],
    },
    {
      source: "[A] conditions",
      pattern: "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
      matches: [apache[0].replace(" 200 ", " 404 ")],
      misses: [...apache],
    },
    {
      source: "[A] conditions",
      pattern: "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
      matches: [apache[0].replace("apache_pb.gif", "index.html").replace(" 200 ", " 404 ")],
      misses: [...apache],
    },
    {
      source: "[A] && on one field",
      pattern: "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
      matches: [apache[0].replace(" 200 ", " 404 ")],
      misses: [apache[0].replace(" 200 ", " 403 ")],
    },
    {
      source: "[A] || on one field",
      pattern: "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
      matches: [apache[0].replace(" 200 ", " 404 "), apache[0].replace(" 200 ", " 403 ")],
      misses: [...apache],
    },
    // The guide's third claim here ("[w1!=ERROR&&w1!=WARN, w2] matches ... pattern 1") contradicts its own field rules
    // (pattern 1 has three fields and begins with ERROR), so it is left out.
    {
      source: "[A] OR Pattern Matching",
      pattern: "[w1=ERROR, w2]",
      matches: [or3[1]],
      misses: [or3[0], or3[2]],
    },
    {
      source: "[A] OR Pattern Matching",
      pattern: "[w1=ERROR || w1=WARN, w2]",
      matches: [or3[1], or3[2]],
      misses: [or3[0]],
    },
    {
      source: "[G] regex in a space-delimited pattern",
      pattern: "[ip, user, username = %^fr%, ...]",
      matches: [...apache],
      misses: ['127.0.0.1 - alfred [x] "GET /" 200 1'],
    },
  ]);

  it("extracts the fields as TestMetricFilter reports them ([A]: the example filter and event)", () => {
    const p = parse("[..., request=*.html*, status_code=4*,]");
    const m = matchEvent(
      p,
      '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    );
    expect(m).toEqual({
      matched: true,
      extractedValues: {
        $status_code: "404",
        $request: "GET /index.html HTTP/1.0",
        $7: "1534",
        $4: "10/Oct/2000:13:25:15 -0700",
        $3: "frank",
        $2: "-",
        $1: "127.0.0.1",
      },
    });
  });

  it.each([
    // awsdocs issue #21: AWS answers "Invalid filter pattern" to this example of the guide.
    ["[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]", 61, "compare that field"],
    ["[a, ..., b, ...]", 12, "may appear once"],
    ["[a, b, a]", 7, "used twice"],
    ["[a, b", 5, "must end with ']'"],
    ["[a b]", 3, "expected ',' or ']'"],
    ["[a, status_code => 4]", 16, "no operator"],
    ["[a, b = %x%, c = %y%, d = %z%]", 26, "at most 2"],
  ])("rejects %s at index %i (%s)", (pattern, index, message) => {
    const e = syntaxError(pattern);
    expect(e.message).toContain(message);
    expect(e.index).toBe(index);
  });
});

describe("limits and metric values", () => {
  it("rejects a pattern over PutMetricFilter's 1024 characters, at the first character too many", () => {
    const e = syntaxError(`"${"x".repeat(1030)}"`);
    expect(e.index).toBe(1024);
    expect(e.message).toContain("at most 1024");
  });

  it("publishes the value a metric filter would: a number, a JSON field, a space-delimited field, the default", () => {
    const json = parse("{ $.latency = * }");
    const latency = parseMetricValue("$.latency", json);
    const event = '{"latency": 50, "requestType": "GET"}';
    // [A] "The following log event would publish a value of 50 to the metric myMetric".
    expect(metricValueOf(latency as never, event, matchEvent(json, event), 0)).toBe(50);
    expect(metricValueOf(latency as never, "{}", matchEvent(json, "{}"), 0)).toBe(0);
    const apacheP = parse("[ip, user, username, timestamp, request, status_code, bytes]");
    const bytes = parseMetricValue("$bytes", apacheP);
    expect(metricValueOf(bytes as never, apache[1], matchEvent(apacheP, apache[1]), undefined)).toBe(5324);
    const one = parseMetricValue("1", parse("ERROR"));
    expect(metricValueOf(one as never, "ERROR x", matchEvent(parse("ERROR"), "ERROR x"), undefined)).toBe(1);
    expect(metricValueOf(one as never, "ok", matchEvent(parse("ERROR"), "ok"), undefined)).toBeUndefined();
  });

  it("rejects a metric value that does not fit the pattern", () => {
    expect(parseMetricValue("$.latency", parse("ERROR"))).toContain("needs a JSON pattern");
    expect(parseMetricValue("$bytes", parse("{ $.a = 1 }"))).toContain("needs a space-delimited pattern");
    expect(parseMetricValue("$nope", parse("[a, b]"))).toContain("not a field of the pattern");
    expect(parseMetricValue("one", parse("ERROR"))).toContain("not a metric value");
  });
});
