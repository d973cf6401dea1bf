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

  it("rejects two LogRouters of different families uploading their config to one S3 object", () => {
    const withConfig = (family: string) =>
      `  family: ${family}\n  router:\n    configFile: { type: init-s3, value: "arn:aws:s3:::log-config/router.conf" }\n` +
      `  output:\n    datadog: { apiKeySecretArn: "${ARN}" }\n`;
    const text = doc("LogRouter", "a", withConfig("api")) + doc("LogRouter", "b", withConfig("worker"));
    const parsed = parseSpecText("x.yaml", text, kinds);
    expect(parsed.diagnostics).toEqual([]);
    const cross = crossCheck(parsed.documents, kinds);
    expect(cross.diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /^x\.yaml:\d+:\d+: LogRouter\/b and LogRouter\/a \(x\.yaml:\d+:\d+\) both manage s3 object arn:aws:s3:::log-config\/router\.conf$/,
      ),
    ]);
    expect(cross.rejected.map((d) => d.metadata.name)).toEqual(["b"]);
  });
});

describe("bad input names its file and line (table)", () => {
  const S3CF = 'router: { configFile: { type: init-s3, value: "arn:aws:s3:::cfg-bucket/app/extra.conf" } }';
  const DD2 = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd2";
  const withConfig = minimal.replace("router: {}", S3CF);
  // Each row: what is wrong, the spec, the text on the line the error must point at, and what it must say.
  const cases: [what: string, spec: string, line: string, message: RegExp][] = [
    [
      "a plaintext key in a second output",
      // Its own containers: a second datadog output of the same containers is a problem of its own.
      withConfig +
        `  additionalOutputs:\n    - datadog: { apiKey: "0123456789abcdef0123456789abcdef", apiKeySecretArn: "${DD2}" }\n` +
        "      containers: [audit]\n",
      "apiKey:",
      /spec\.additionalOutputs\[0\]\.datadog\.apiKey: .*a plaintext API key is not allowed/,
    ],
    [
      "a plaintext credential as an option of a second output",
      withConfig +
        '  additionalOutputs:\n    - opensearch: { endpoint: e, index: i, options: { http_passwd: "hunter2hunter2" } }\n',
      "http_passwd",
      /"http_passwd" holds a credential: give it by ARN \(additionalOutputs\[0\]\.secretOptions\)/,
    ],
    [
      "an S3 ARN in a file variable",
      minimal.replace(
        "router: {}",
        'router:\n    init:\n      files: ["arn:aws:s3:::cfg-bucket/parsers.conf"]',
      ),
      "arn:aws:s3:::cfg-bucket/parsers.conf",
      /an S3 ARN in an aws_fluent_bit_init_file variable: .*aws-for-fluent-bit #839/,
    ],
    [
      "a path in an S3 variable",
      minimal.replace(
        "router: {}",
        "router: { configFile: { type: init-s3, value: /fluent-bit/etc/x.conf } }",
      ),
      "init-s3",
      /aws_fluent_bit_init_s3 variable takes an S3 object ARN .*not a path/,
    ],
    [
      "an s3:// URL in an S3 variable",
      minimal.replace("router: {}", 'router:\n    init:\n      s3: ["s3://cfg-bucket/parsers.conf"]'),
      "s3://cfg-bucket",
      /aws_fluent_bit_init_s3 variable takes an S3 object ARN: arn:aws:s3:::BUCKET\/KEY/,
    ],
    [
      "two init S3 files of one name",
      withConfig.replace("} }", '}, init: { s3: ["arn:aws:s3:::other-bucket/shared/extra.conf"] } }'),
      "other-bucket",
      /"extra\.conf" would overwrite arn:aws:s3:::cfg-bucket\/app\/extra\.conf/,
    ],
    [
      "an aws-for-fluent-bit image without init asked to read init variables",
      withConfig.replace(
        "router: {",
        "router: { image: public.ecr.aws/aws-observability/aws-for-fluent-bit:stable,",
      ),
      "aws-for-fluent-bit:stable",
      /aws-for-fluent-bit:stable is an aws-for-fluent-bit image without the init process/,
    ],
    [
      "an unknown output property",
      minimal.replace("{ apiKeySecretArn", "{ options: { Hots: intake.example }, apiKeySecretArn"),
      "Hots",
      /unknown property "Hots" of Fluent Bit's datadog output \(plugins\/out_datadog\/datadog\.c\).*did you mean "host"\?/,
    ],
    [
      "an unknown property of a second output",
      withConfig + "  additionalOutputs:\n    - s3: { bucket: b, options: { compresion: gzip } }\n",
      "compresion",
      /unknown property "compresion" of Fluent Bit's s3 output .*did you mean "compression"\?/,
    ],
    [
      "an unquoted number as an option",
      minimal.replace("{ apiKeySecretArn", "{ options: { retry_limit: 5 }, apiKeySecretArn"),
      "retry_limit",
      /spec\.output\.datadog\.options\.retry_limit: expected string, got number 5/,
    ],
    [
      "a credential property as an option, once",
      minimal.replace("{ apiKeySecretArn", '{ options: { apikey: "not-shaped-like-a-key" }, apiKeySecretArn'),
      "apikey:",
      /a plaintext secret \("apikey"\) is not allowed in a spec/,
    ],
    [
      "a property the operator sets from a field",
      minimal.replace("{ apiKeySecretArn", "{ options: { host: intake.example }, apiKeySecretArn"),
      "host: intake",
      /"host" is set by the operator from output\.datadog's fields/,
    ],
    [
      "an application secret in secretOptions",
      minimal +
        "  secretOptions:\n    - name: GCP_SERVICE_ACCOUNT\n      valueFrom: arn:aws:secretsmanager:us-east-1:123456789012:secret:gcp\n",
      "GCP_SERVICE_ACCOUNT",
      /secret option "GCP_SERVICE_ACCOUNT" is no property of Fluent Bit's datadog output .*belongs in its container's `secrets`/,
    ],
    [
      "a secret option that misspells a property",
      `  family: app\n  router: {}\n  output: { opensearch: { endpoint: e, index: i } }\n` +
        "  secretOptions:\n    - name: http_passwrd\n      valueFrom: arn:aws:secretsmanager:us-east-1:123456789012:secret:os\n",
      "http_passwrd",
      /secret option "http_passwrd" is no property .*did you mean "http_passwd"\?/,
    ],
    [
      "two outputs with the same match",
      withConfig + "  additionalOutputs:\n    - s3: { bucket: archive-a }\n    - s3: { bucket: archive-b }\n",
      "archive-b",
      /additionalOutputs\[1\]\.s3 takes the same containers' logs \(all routed\) as additionalOutputs\[0\]\.s3/,
    ],
    [
      "a second output of the first output's plugin on the same containers",
      withConfig + `  additionalOutputs:\n    - datadog: { apiKeySecretArn: "${DD2}" }\n`,
      "dd2",
      /additionalOutputs\[0\]\.datadog takes the same containers' logs \(all routed\) as output\.datadog/,
    ],
    [
      "a second output without a config file",
      minimal + "  additionalOutputs:\n    - s3: { bucket: archive }\n",
      "bucket: archive",
      /additionalOutputs needs an extra Fluent Bit config file: set router\.configFile/,
    ],
    [
      "a second output beside awslogs",
      `  family: app\n  router: {}\n  output: { awslogs: { group: g, streamPrefix: p } }\n` +
        "  additionalOutputs:\n    - s3: { bucket: archive }\n",
      "bucket: archive",
      /additional outputs go through the FireLens router, which the awslogs output removes/,
    ],
    [
      "a second output for a container that is not routed",
      withConfig +
        "  containers: [app]\n  additionalOutputs:\n    - s3: { bucket: archive }\n      containers: [worker]\n",
      "containers: [worker]",
      /"worker" is not one of the routed containers \(app\)/,
    ],
    [
      "a FireLens option on a second output",
      withConfig +
        '  additionalOutputs:\n    - s3: { bucket: b, options: { log-driver-buffer-limit: "4096" } }\n',
      "log-driver-buffer-limit",
      /"log-driver-buffer-limit" is an option of FireLens itself, read only on the first output/,
    ],
    [
      "Mem_Buf_Limit with filesystem buffering",
      withConfig.replace("} }", "}, buffer: { type: filesystem, memBufLimit: 10M } }") +
        "  multiline: { parsers: [go] }\n",
      "memBufLimit",
      /Mem_Buf_Limit limits memory-buffered inputs only; with filesystem buffering, maxChunksUp limits memory/,
    ],
    [
      "Mem_Buf_Limit with no input to limit",
      withConfig.replace("} }", "}, buffer: { memBufLimit: 10M } }"),
      "memBufLimit",
      /without multiline it adds none; FireLens's own inputs take no Mem_Buf_Limit/,
    ],
    [
      "a filesystem setting on memory buffering",
      withConfig.replace("} }", "}, buffer: { totalLimitSize: 1G } }"),
      "totalLimitSize",
      /totalLimitSize applies to filesystem buffering/,
    ],
    [
      "buffering without a config file",
      minimal.replace("router: {}", "router: { buffer: { type: filesystem } }"),
      "buffer:",
      /router\.buffer needs an extra Fluent Bit config file/,
    ],
    [
      "a stop timeout beyond Fargate's maximum",
      minimal.replace("router: {}", "router: { stopTimeout: 600 }"),
      "stopTimeout",
      /spec\.router\.stopTimeout: .*120/,
    ],
  ];

  const lineOf = (text: string, needle: string): number =>
    text.split("\n").findIndex((l) => l.includes(needle)) + 1;

  it.each(cases)("%s", (_what, spec, line, message) => {
    const text = `apiVersion: ecs-log-operator/v1alpha1\nkind: LogRouter\nmetadata: { name: app }\nspec:\n${spec}`;
    const errors = load(spec);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^lr\\.yaml:${lineOf(text, line)}:\\d+: LogRouter "app": `));
    expect(errors[0]).toMatch(message);
    // A key or password is never echoed back.
    expect(errors[0]).not.toMatch(/0123456789abcdef|hunter2/);
  });

  it("accepts the shipped shapes: two outputs, init, buffering, stop timeout", () => {
    const spec =
      withConfig.replace("} }", "}, stopTimeout: 60, buffer: { type: filesystem, totalLimitSize: 512M } }") +
      "  multiline: { parsers: [java] }\n" +
      "  additionalOutputs:\n" +
      "    - s3: { bucket: archive, options: { compression: gzip, storage_class: STANDARD_IA } }\n" +
      `    - datadog: { apiKeySecretArn: "${DD2}", tags: "copy:eu" }\n      containers: [app]\n` +
      "      secretOptions: [{ name: tls.key_passwd, valueFrom: arn:aws:ssm:us-east-1:123456789012:parameter/k }]\n";
    expect(load(spec)).toEqual([]);
  });
});
