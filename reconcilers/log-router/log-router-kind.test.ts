import { describe, expect, it } from "vitest";
import { crossCheck, formatDiagnostic, parseSpecText } from "../../controllers/spec/load.ts";
import { SidecarVolumeKind } from "../sidecar-volume/sidecar-volume-kind.ts";
import { LogRouterKind } from "./log-router-kind.ts";

const kinds = [LogRouterKind, SidecarVolumeKind];
const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-api-key";

function load(spec: string, environment?: string): string[] {
  const text = `apiVersion: ecs-log-operator/v1alpha1\nkind: LogRouter\nmetadata: { name: app }\nspec:\n${spec}`;
  return parseSpecText("lr.yaml", text, kinds, { environment }).diagnostics.map(formatDiagnostic);
}

const minimal = `  family: app
  router: {}
  output:
    datadog: { apiKeySecretArn: "${ARN}" }
`;

describe("LogRouter schema and checks", () => {
  it("accepts the minimal spec", () => {
    expect(load(minimal)).toEqual([]);
  });

  it("rejects a plaintext apiKey field without printing it", () => {
    const errors = load(
      minimal.replace("{ apiKeySecretArn", '{ apiKey: "0123456789abcdef0123456789abcdef", apiKeySecretArn'),
    );
    expect(errors).toEqual([
      expect.stringMatching(
        /^lr\.yaml:8:\d+: LogRouter "app": spec\.output\.datadog\.apiKey: .*a plaintext API key is not allowed/,
      ),
    ]);
    expect(errors.join()).not.toContain("0123456789abcdef");
  });

  it("rejects a value that looks like a key in any field, without printing it", () => {
    const errors = load(
      minimal.replace("{ apiKeySecretArn", '{ tags: "0123456789ABCDEF0123456789abcdef", apiKeySecretArn'),
    );
    expect(errors).toEqual([
      expect.stringContaining("spec.output.datadog.tags: expected string to match 'not-a-plaintext-key'"),
    ]);
    expect(errors.join()).not.toMatch(/0123456789/);
    const inArn = load(minimal.replace(ARN, "0123456789abcdef0123456789abcdef"));
    expect(inArn.join()).not.toMatch(/0123456789/);
    expect(inArn.length).toBeGreaterThan(0);
  });

  it("rejects a key in an environment overlay that is not selected", () => {
    const spec =
      minimal +
      '  environments:\n    dev:\n      output: { forward: { host: "0123456789abcdef0123456789abcdef" } }\n';
    const errors = load(spec);
    expect(errors).toEqual([
      expect.stringMatching(
        /^lr\.yaml:11:\d+: .*environments\.dev\.output\.forward\.host: .*not-a-plaintext-key/,
      ),
    ]);
    expect(errors.join()).not.toContain("0123456789");
  });

  it("needs exactly one output", () => {
    expect(load(`  family: app\n  router: {}\n  output: {}\n`)).toEqual([
      'lr.yaml:7:11: LogRouter "app": output needs exactly one of datadog, cloudwatch, firehose, s3, opensearch, forward, awslogs',
    ]);
    expect(
      load(
        `  family: app\n  router: {}\n  output: { forward: { host: a.local }, firehose: { deliveryStream: s } }\n`,
      )[0],
    ).toContain("output has firehose and forward: choose exactly one");
  });

  it("asks for a config file with multiline, and refuses multiline with awslogs", () => {
    expect(load(minimal + "  multiline: { parsers: [java] }\n")[0]).toContain(
      "multiline needs an extra Fluent Bit config file",
    );
    expect(
      load(
        `  family: app\n  router: {}\n  output: { awslogs: { group: g, streamPrefix: p } }\n  multiline: { parsers: [go] }\n`,
      )[0],
    ).toContain("multiline needs FireLens");
  });

  it("rejects the router in its own container list, and unknown parsers", () => {
    expect(load(minimal + "  containers: [app, log_router]\n")[0]).toContain(
      '"log_router" is the router itself',
    );
    expect(
      load(
        minimal.replace("router: {}", "router: { configFile: { type: file, value: /x.conf } }") +
          "  multiline: { parsers: [cobol] }\n",
      )[0],
    ).toMatch(/multiline\.parsers\[0\]/);
  });

  it.each([
    ["arn:aws:s3:::example-log-config/api/extra.conf", true],
    ["arn:aws-cn:s3:::example-log-config/api/extra.conf", true],
    ["arn:aws-us-gov:s3:::example-log-config/api/extra.conf", true],
    ["arn:awsx:s3:::example-log-config/api/extra.conf", false],
    ["arn:aws:s3:::example-log-config", false],
    ["s3://example-log-config/api/extra.conf", false],
    ["arn:aws:s3:::my..bucket/extra.conf", false],
  ])("checks the s3 configFile ARN %s (valid: %s)", (arn, valid) => {
    const errors = load(
      minimal.replace("router: {}", `router: { configFile: { type: s3, value: "${arn}" } }`),
    );
    if (valid) expect(errors).toEqual([]);
    else
      expect(errors.join("\n")).toMatch(
        /^lr\.yaml:6:\d+: LogRouter "app": an s3 config file is given as an object ARN/,
      );
  });

  it("applies an environment overlay and validates it", () => {
    const withEnv =
      minimal + "  environments:\n    dev:\n      output: { awslogs: { group: /g, streamPrefix: dev } }\n";
    expect(load(withEnv, "dev")).toEqual([]);
    expect(load(withEnv.replace("streamPrefix: dev", "streamPrefx: dev"), "dev")).toContain(
      'lr.yaml:11:39: LogRouter "app": spec.environments.dev.output.awslogs.streamPrefx: unknown field (did you mean streamPrefix?)',
    );
  });
});

describe("injection in any string field", () => {
  const withConfigFile = minimal.replace(
    "router: {}",
    "router: { configFile: { type: file, value: /x.conf } }",
  );
  // Each row: a field, and a value that would break out of a Fluent Bit entry.
  const cases: [field: string, spec: string][] = [
    ["datadog.tags with LF", minimal.replace("{ apiKeySecretArn", '{ tags: "a\\n[OUTPUT]", apiKeySecretArn')],
    [
      "datadog.service with @INCLUDE",
      minimal.replace("{ apiKeySecretArn", '{ service: "@INCLUDE /etc/x", apiKeySecretArn'),
    ],
    [
      "datadog.host with ${",
      minimal.replace("{ apiKeySecretArn", '{ host: "h${AWS_SECRET}", apiKeySecretArn'),
    ],
    ["router.image with CR", minimal.replace("router: {}", 'router: { image: "fb\\r[INPUT]" }')],
    [
      "router.logs.group with [",
      minimal.replace("router: {}", 'router: { logs: { group: "[SERVICE]", streamPrefix: p } }'),
    ],
    [
      "forward.host with LF",
      `  family: app\n  router: {}\n  output: { forward: { host: "a\\n@SET x=1" } }\n`,
    ],
    [
      "cloudwatch.group with ${",
      `  family: app\n  router: {}\n  output: { cloudwatch: { group: "\${HOME}" } }\n`,
    ],
    [
      "opensearch.index with [",
      `  family: app\n  router: {}\n  output: { opensearch: { endpoint: e, index: "[x]" } }\n`,
    ],
    [
      "firehose.deliveryStream with CRLF",
      `  family: app\n  router: {}\n  output: { firehose: { deliveryStream: "s\\r\\n[x]" } }\n`,
    ],
    [
      "s3.prefix with LF",
      `  family: app\n  router: {}\n  output: { s3: { bucket: b, prefix: "p\\n[x]" } }\n`,
    ],
    [
      "multiline.keyContent with LF",
      withConfigFile + '  multiline: { parsers: [go], keyContent: "log\\n[x]" }\n',
    ],
    ["throttle.interval with LF", withConfigFile + '  throttle: { rate: 1, interval: "1s\\n[x]" }\n'],
    [
      "configFile.value with LF",
      minimal.replace("router: {}", 'router: { configFile: { type: file, value: "/x\\n[y]" } }'),
    ],
    ["container name with @", minimal + '  containers: ["@INCLUDE"]\n'],
  ];
  it.each(cases)("rejects %s at its file and line", (_field, spec) => {
    const errors = load(spec);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^lr\.yaml:\d+:\d+: LogRouter "app"/);
  });
});

describe("claims", () => {
  const doc = (kind: string, name: string, spec: string) =>
    `apiVersion: ecs-log-operator/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name} }\nspec:\n${spec}---\n`;
  const sidecar = "  family: app\n  source: { container: fluentd }\n  consumers: [{ container: app }]\n";

  it("rejects a second LogRouter on one family and allows a SidecarVolume beside it", () => {
    const text =
      doc("LogRouter", "a", minimal) + doc("LogRouter", "b", minimal) + doc("SidecarVolume", "c", sidecar);
    const parsed = parseSpecText("x.yaml", text, kinds);
    expect(parsed.diagnostics).toEqual([]);
    const cross = crossCheck(parsed.documents, kinds);
    expect(cross.diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /^x\.yaml:14:11: LogRouter\/b and LogRouter\/a \(x\.yaml:5:11\) both manage ecs:task-definition\/app\/log-router$/,
      ),
    ]);
    expect(cross.rejected.map((d) => d.metadata.name)).toEqual(["b"]);
  });
});
