import { describe, expect, it } from "vitest";
import { parseSpecText } from "../../controllers/spec/load.ts";
import type { TaskDefinitionJson } from "../task-definition/task-definition.ts";
import { LogRouterKind, type LogRouterSpec } from "./log-router-kind.ts";
import { applyLogRouter, fluentBitConfigFor } from "./log-router-patch.ts";
import { graceFor, routerStopTimeout } from "./router-shape.ts";

const region = "eu-west-1";
const CFG = "arn:aws:s3:::cfg-bucket/app/extra.conf";
const DD = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd";

function spec(body: string): LogRouterSpec {
  const r = parseSpecText(
    "t.yaml",
    `apiVersion: ecs-log-operator/v1alpha1\nkind: LogRouter\nmetadata: { name: app }\nspec:\n${body}`,
    [LogRouterKind],
  );
  expect(r.diagnostics).toEqual([]);
  return r.documents[0]!.spec as LogRouterSpec;
}

const base = (): TaskDefinitionJson => ({
  family: "app",
  taskRoleArn: "arn:aws:iam::123456789012:role/app",
  executionRoleArn: "arn:aws:iam::123456789012:role/exec",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  containerDefinitions: [
    { name: "app", image: "app:1", essential: true },
    { name: "worker", image: "worker:1", essential: true, stopTimeout: 45 },
  ],
});

const fargateInit = `  family: app
  router:
    configFile: { type: init-s3, value: "${CFG}" }
    buffer: { type: filesystem, maxChunksUp: 64 }
  output:
    datadog: { apiKeySecretArn: "${DD}", service: app }
  multiline: { parsers: [java] }
  additionalOutputs:
    - s3: { bucket: archive, options: { compression: gzip } }
    - opensearch: { endpoint: search.local, index: app }
      containers: [app]
      secretOptions: [{ name: http_passwd, valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/os" }]
`;

describe("applyLogRouter: stop order, stop timeout, init variables, secrets", () => {
  it("makes every routed container depend on the router and gives the router the longest stop timeout", () => {
    const td = base();
    expect(applyLogRouter(td, spec(fargateInit), { region })).toEqual([]);
    const [app, worker, router] = td.containerDefinitions;
    expect(app?.dependsOn).toEqual([{ containerName: "log_router", condition: "START" }]);
    expect(worker?.dependsOn).toEqual([{ containerName: "log_router", condition: "START" }]);
    expect(router?.name).toBe("log_router");
    expect(router?.stopTimeout).toBe(45);
    expect(router?.image).toBe("public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest");
    // The init process reads the file; FireLens's own config-file options are not set.
    expect(router?.firelensConfiguration).toEqual({
      type: "fluentbit",
      options: { "enable-ecs-log-metadata": "true" },
    });
    expect(router?.environment).toEqual([{ name: "aws_fluent_bit_init_s3_1", value: CFG }]);
    expect(router?.secrets).toEqual([
      { name: "ELO_OUTPUT_2_HTTP_PASSWD", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/os" },
    ]);
    expect(app?.logConfiguration?.options?.["storage.total_limit_size"]).toBe("1G");
  });

  it("keeps what it does not own and replaces what it does, so a removed output leaves nothing behind", () => {
    const td = base();
    applyLogRouter(td, spec(fargateInit), { region });
    const router = td.containerDefinitions[2]!;
    router.environment = [...(router.environment as object[]), { name: "TZ", value: "UTC" }];
    router.secrets = [...(router.secrets as object[]), { name: "MINE", valueFrom: DD }];
    td.containerDefinitions[0]!.dependsOn!.push({ containerName: "worker", condition: "START" });

    const smaller = spec(
      fargateInit.replace(/ {2}additionalOutputs:[\s\S]*$/, "").replace("type: init-s3", "type: s3"),
    );
    expect(applyLogRouter(td, smaller, { region })).toEqual([]);
    expect(router.environment).toEqual([{ name: "TZ", value: "UTC" }]);
    expect(router.secrets).toEqual([{ name: "MINE", valueFrom: DD }]);
    expect(router.firelensConfiguration?.options).toMatchObject({ "config-file-type": "s3" });
    expect(td.containerDefinitions[0]!.dependsOn).toEqual([
      { containerName: "log_router", condition: "START" },
      { containerName: "worker", condition: "START" },
    ]);
  });

  it("keeps a HEALTHY dependency on the router and replaces a condition the router can never meet", () => {
    const td = base();
    td.containerDefinitions[0]!.dependsOn = [{ containerName: "log_router", condition: "HEALTHY" }];
    td.containerDefinitions[1]!.dependsOn = [{ containerName: "log_router", condition: "COMPLETE" }];
    applyLogRouter(td, spec(fargateInit), { region });
    expect(td.containerDefinitions[0]!.dependsOn).toEqual([
      { containerName: "log_router", condition: "HEALTHY" },
    ]);
    expect(td.containerDefinitions[1]!.dependsOn).toEqual([
      { containerName: "log_router", condition: "START" },
    ]);
  });

  it("removes the dependencies on a router that the awslogs output removes", () => {
    const td = base();
    applyLogRouter(td, spec(fargateInit), { region });
    applyLogRouter(
      td,
      spec("  family: app\n  router: {}\n  output: { awslogs: { group: g, streamPrefix: p } }\n"),
      { region },
    );
    expect(td.containerDefinitions.map((c) => [c.name, c.dependsOn])).toEqual([
      ["app", undefined],
      ["worker", undefined],
    ]);
  });

  it("refuses a router that depends on a container it routes", () => {
    const td = base();
    td.containerDefinitions.push({
      name: "log_router",
      image: "x",
      dependsOn: [{ containerName: "app", condition: "START" }],
      firelensConfiguration: { type: "fluentbit" },
    });
    const issues = applyLogRouter(td, spec(fargateInit), { region });
    expect(issues.map((i) => i.message)).toEqual([
      expect.stringContaining("the router log_router depends on a container it routes (app)"),
    ]);
  });

  it("refuses an additional output for a container the family does not route", () => {
    const issues = applyLogRouter(
      base(),
      spec(fargateInit.replace("containers: [app]", "containers: [web]")),
      {
        region,
      },
    );
    expect(issues.map((i) => [i.path.join("."), i.message])).toEqual([
      [
        "additionalOutputs.1.containers.0",
        '"web" is not a container this LogRouter routes in family app (it routes app, worker)',
      ],
    ]);
  });

  it("warns when the init process has no task role to download with", () => {
    const td = base();
    delete td.taskRoleArn;
    const issues = applyLogRouter(td, spec(fargateInit), { region });
    expect(issues).toEqual([
      expect.objectContaining({ severity: "warning", message: expect.stringMatching(/has no taskRoleArn/) }),
    ]);
  });

  it("warns that a stop timeout without a config file leaves Fluent Bit's 5 s Grace", () => {
    const td = base();
    const issues = applyLogRouter(
      td,
      spec(`  family: app\n  router: { stopTimeout: 90 }\n  output: { forward: { host: f.local } }\n`),
      { region },
    );
    expect(td.containerDefinitions[2]!.stopTimeout).toBe(90);
    expect(issues).toEqual([
      expect.objectContaining({
        severity: "warning",
        message: expect.stringMatching(/default Grace of 5 s/),
      }),
    ]);
  });

  it("needs a region for every output, additional ones included", () => {
    const issues = applyLogRouter(base(), spec(fargateInit), { region: undefined });
    expect(issues.map((i) => i.path.join("."))).toContain("additionalOutputs.0.s3.region");
    expect(
      fluentBitConfigFor(spec(fargateInit), base(), "LogRouter/app", { region: undefined }),
    ).toBeUndefined();
  });
});

describe("stop timeout and Grace", () => {
  it.each([
    [{}, [], 30, 25],
    [{}, [45], 45, 40],
    [{}, [300], 120, 115],
    [{ stopTimeout: 10 }, [60], 10, 5],
  ] as const)("router %j with routed stop timeouts %j: %i s, Grace %i", (router, timeouts, stop, grace) => {
    const s = { family: "f", router, output: {} } as LogRouterSpec;
    const t = routerStopTimeout(
      s,
      timeouts.map((stopTimeout, i) => ({ name: `c${i}`, stopTimeout })),
    );
    expect(t).toBe(stop);
    expect(graceFor(t)).toBe(grace);
  });
});

describe("fluentBitConfigFor", () => {
  it("writes Grace, filesystem buffering, the multiline emitter and each additional output", () => {
    const td = base();
    const s = spec(fargateInit);
    applyLogRouter(td, s, { region });
    const config = fluentBitConfigFor(s, td, "LogRouter/app", { region })!;
    expect(config.s3).toEqual({ partition: "aws", bucket: "cfg-bucket", key: "app/extra.conf" });
    expect(config.delivery).toMatch(/downloads it at task start through aws_fluent_bit_init_s3_1/);
    const body = config.text.slice(config.text.indexOf("[SERVICE]"));
    expect(body).toBe(
      [
        "[SERVICE]",
        "    Grace                 40",
        "    storage.path          /var/log/flb-storage/",
        "    storage.type          filesystem",
        "    storage.inherit       On",
        "    storage.max_chunks_up 64",
        "",
        "[FILTER]",
        "    name                  multiline",
        "    match                 *",
        "    multiline.key_content log",
        "    multiline.parser      java",
        "    emitter_storage.type  filesystem",
        "",
        "[OUTPUT]",
        "    Name                     s3",
        "    Match_Regex              ^(app|worker)-firelens-[0-9a-f-]+$",
        "    region                   eu-west-1",
        "    bucket                   archive",
        "    total_file_size          1M",
        "    upload_timeout           1m",
        "    use_put_object           On",
        "    compression              gzip",
        "    storage.total_limit_size 1G",
        "",
        "[OUTPUT]",
        "    Name                     opensearch",
        "    Match_Regex              ^(app)-firelens-[0-9a-f-]+$",
        "    Host                     search.local",
        "    Port                     443",
        "    Index                    app",
        "    AWS_Auth                 On",
        "    AWS_Region               eu-west-1",
        "    tls                      On",
        "    Suppress_Type_Name       On",
        "    storage.total_limit_size 1G",
        "    http_passwd              ${ELO_OUTPUT_2_HTTP_PASSWD}",
        "",
      ].join("\n"),
    );
    // The init process would take a file with a parser section for a parsers file and not include it.
    expect(config.text).not.toMatch(/\[(MULTILINE_)?PARSER\]/);
  });

  it("renders a file for a config file alone (Grace), and none without one or for awslogs", () => {
    const alone = spec(
      `  family: app\n  router: { configFile: { type: init-s3, value: "${CFG}" } }\n  output: { forward: { host: f.local } }\n`,
    );
    expect(fluentBitConfigFor(alone, base(), "x", { region })?.text).toMatch(/\[SERVICE\]\n {4}Grace 40\n$/);
    const none = spec("  family: app\n  router: {}\n  output: { forward: { host: f.local } }\n");
    expect(fluentBitConfigFor(none, base(), "x", { region })).toBeUndefined();
    const awslogs = spec(
      `  family: app\n  router: { configFile: { type: init-s3, value: "${CFG}" } }\n` +
        "  output: { awslogs: { group: g, streamPrefix: p } }\n",
    );
    expect(fluentBitConfigFor(awslogs, base(), "x", { region })).toBeUndefined();
  });
});
