import { Type, type Static, type TProperties } from "@sinclair/typebox";
import { defineKind } from "../../controllers/spec/document.ts";
import { prunePatchField } from "../task-definition/prune-field.ts";
import { EcsName, SafeText, SecretFreeString } from "../task-definition/spec-safety.ts";
import { checkLogRouter } from "./log-router-checks.ts";

const Region = Type.String({
  pattern: "^[a-z]{2}(-[a-z]+)+-\\d$",
  description: "AWS region; default: the region the operator runs in.",
  errorHint: "a region such as ap-northeast-1",
});

const AwslogsTarget = Type.Object(
  {
    group: SafeText({ description: "CloudWatch Logs group (`awslogs-group`)." }),
    streamPrefix: SafeText({ description: "Stream prefix (`awslogs-stream-prefix`)." }),
    createGroup: Type.Optional(
      Type.Boolean({
        description:
          "Create the group if missing (`awslogs-create-group`); the execution role needs logs:CreateLogGroup.",
      }),
    ),
    region: Type.Optional(Region),
  },
  { additionalProperties: false },
);

export const OUTPUT_KINDS = [
  "datadog",
  "cloudwatch",
  "firehose",
  "s3",
  "opensearch",
  "forward",
  "awslogs",
] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
/** The outputs that go through FireLens (Fluent Bit): every kind but awslogs. */
export type FireLensKind = Exclude<OutputKind, "awslogs">;
export const FIRELENS_KINDS = OUTPUT_KINDS.filter((k): k is FireLensKind => k !== "awslogs");

/** A secret by reference: ECS reads it with the task execution role when the task starts. */
const SecretOption = Type.Object(
  {
    name: Type.String({
      pattern: "^[A-Za-z][A-Za-z0-9_.-]*$",
      description: "The Fluent Bit property of this output that receives the secret, e.g. `http_passwd`.",
      errorHint: "a Fluent Bit property name: letters, digits, _ . -",
    }),
    valueFrom: SecretFreeString("Secrets Manager secret or SSM parameter ARN."),
  },
  { additionalProperties: false },
);

// Strings only, as ECS takes log options: a number or a boolean is quoted (`retry_limit: "5"`). One type keeps
// the schema's errors precise: a value that looks like a key fails its format and is named as such.
const OptionValue = SafeText({ description: "A property value." });

function options(plugin: string) {
  return Type.Optional(
    Type.Record(Type.String({ pattern: "^[A-Za-z][A-Za-z0-9_.-]*$" }), OptionValue, {
      additionalProperties: false,
      description:
        `More properties of Fluent Bit's \`${plugin}\` output, as strings: e.g. \`retry_limit: "5"\`. ` +
        "Checked against the plugin's properties (Fluent Bit 5.1.1): an unknown or misspelled one is an error, as it " +
        "would stop the router. Credentials are not options: give them by ARN in `secretOptions`.",
    }),
  );
}

function outputObject<T extends TProperties>(plugin: string, fields: T, description: string) {
  return Type.Object({ ...fields, options: options(plugin) }, { additionalProperties: false, description });
}

const firelensOutputs = {
  datadog: outputObject(
    "datadog",
    {
      host: Type.Optional(SafeText({ description: "Intake host (default http-intake.logs.datadoghq.com)." })),
      service: Type.Optional(SafeText({ description: "`dd_service`." })),
      source: Type.Optional(SafeText({ description: "`dd_source`." })),
      tags: Type.Optional(SafeText({ description: '`dd_tags`, e.g. "env:production,team:vr".' })),
      apiKeySecretArn: SecretFreeString(
        "ARN of the Secrets Manager secret (or SSM parameter) holding the API key; passed as the `apikey` " +
          "property by reference, never read by the operator. The execution role needs " +
          "secretsmanager:GetSecretValue on it.",
      ),
      apiKey: Type.Optional(
        Type.Never({
          description: "Rejected: a plaintext key. Use apiKeySecretArn.",
          errorHint:
            "a plaintext API key is not allowed in a spec: store it in Secrets Manager and set apiKeySecretArn",
        }),
      ),
    },
    "Datadog's HTTP intake (Fluent Bit `datadog` output).",
  ),
  cloudwatch: outputObject(
    "cloudwatch_logs",
    {
      group: SafeText({ description: "Log group (`log_group_name`)." }),
      streamPrefix: Type.Optional(SafeText({ description: "`log_stream_prefix` (default: the family)." })),
      createGroup: Type.Optional(Type.Boolean({ description: "`auto_create_group`." })),
      region: Type.Optional(Region),
    },
    "CloudWatch Logs through FireLens (`cloudwatch_logs`).",
  ),
  firehose: outputObject(
    "kinesis_firehose",
    {
      deliveryStream: SafeText({ description: "Kinesis Data Firehose delivery stream name." }),
      region: Type.Optional(Region),
    },
    "Kinesis Data Firehose (`kinesis_firehose`).",
  ),
  s3: outputObject(
    "s3",
    {
      bucket: SafeText({ description: "Bucket name." }),
      prefix: Type.Optional(
        Type.String({
          pattern: "^[A-Za-z0-9/_.-]+$",
          description: "Key prefix; objects are written under PREFIX/TAG/YYYY/MM/DD/.",
          errorHint: "letters, digits, / _ . -",
        }),
      ),
      region: Type.Optional(Region),
    },
    "Amazon S3 (`s3`).",
  ),
  opensearch: outputObject(
    "opensearch",
    {
      endpoint: SafeText({ description: "Domain endpoint host, without https://." }),
      index: SafeText({ description: "Index name." }),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Default 443." })),
      region: Type.Optional(Region),
    },
    "Amazon OpenSearch Service with SigV4 (`opensearch`).",
  ),
  forward: outputObject(
    "forward",
    {
      host: SafeText({ description: "Aggregator host, e.g. a Cloud Map name such as fluentd.local." }),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Default 24224." })),
    },
    "A Fluentd/Fluent Bit aggregator (`forward`).",
  ),
};

const optionalOutputs = {
  datadog: Type.Optional(firelensOutputs.datadog),
  cloudwatch: Type.Optional(firelensOutputs.cloudwatch),
  firehose: Type.Optional(firelensOutputs.firehose),
  s3: Type.Optional(firelensOutputs.s3),
  opensearch: Type.Optional(firelensOutputs.opensearch),
  forward: Type.Optional(firelensOutputs.forward),
};

const OutputSchema = Type.Object(
  {
    ...optionalOutputs,
    awslogs: Type.Optional(
      Type.Object(AwslogsTarget.properties, {
        additionalProperties: false,
        description:
          "Plain awslogs without FireLens (e.g. for development): the router container is removed from the family.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Where application logs go: exactly one of the fields. This first output is FireLens's: its properties become " +
      "the routed containers' `awsfirelens` log options.",
  },
);

const AdditionalOutputSchema = Type.Object(
  {
    ...optionalOutputs,
    containers: Type.Optional(
      Type.Array(EcsName("Container name."), {
        minItems: 1,
        uniqueItems: true,
        description:
          "The routed containers whose logs this output takes (Fluent Bit `Match_Regex` on FireLens's tags " +
          "`CONTAINER-firelens-TASKID`); default the same containers as `output`.",
      }),
    ),
    secretOptions: Type.Optional(
      Type.Array(SecretOption, {
        description:
          "Secrets for this output's properties, by ARN. Each becomes a `secrets` entry of the router container " +
          "(an environment variable ELO_OUTPUT_N_PROPERTY) that the rendered config reads as `${...}`.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "One more destination: exactly one output kind (awslogs is not one), and optionally its containers.",
  },
);

const RolloutSchema = Type.Object(
  {
    services: Type.Array(
      Type.Object(
        {
          cluster: EcsName("Cluster name."),
          service: EcsName("Service name."),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, description: "Services moved (UpdateService taskDefinition) to the new revision." },
    ),
  },
  { additionalProperties: false, description: "Optional: move these ECS services to the new revision." },
);

export const MULTILINE_PARSERS = ["docker", "cri", "go", "python", "java", "ruby"] as const;

/** A Fluent Bit size (`10M`, `1G`, `512KB`): what Mem_Buf_Limit and storage.total_limit_size take. */
const Size = (description: string) =>
  Type.String({
    pattern: "^[1-9][0-9]*([kKmMgG][bB]?)?$",
    description,
    errorHint: "a size such as 10M or 1G",
  });

export const ECS_DEFAULT_STOP_TIMEOUT = 30;
export const FARGATE_MAX_STOP_TIMEOUT = 120;
export const DEFAULT_STORAGE_PATH = "/var/log/flb-storage/";
export const DEFAULT_TOTAL_LIMIT_SIZE = "1G";

const BufferSchema = Type.Object(
  {
    type: Type.Optional(
      Type.Union([Type.Literal("memory"), Type.Literal("filesystem")], {
        description:
          "memory (Fluent Bit's default) or filesystem: chunks are kept on disk under `path` (`storage.type " +
          "filesystem`), so retries outlast a memory limit and a restart. FireLens's own inputs take it through " +
          "`storage.inherit` (Fluent Bit 4.0.4 or later in the router image; older ones ignore it and keep FireLens's " +
          "inputs in memory); the multiline filter's emitter through `emitter_storage.type`.",
      }),
    ),
    path: Type.Optional(
      Type.String({
        pattern: "^/[A-Za-z0-9/_.-]*$",
        description: `filesystem: \`storage.path\`, a writable directory in the router (default ${DEFAULT_STORAGE_PATH}).`,
        errorHint: "an absolute path",
      }),
    ),
    totalLimitSize: Type.Optional(
      Size(
        "filesystem: `storage.total_limit_size` of every output, the disk each may fill; the oldest chunks are " +
          `dropped beyond it (default ${DEFAULT_TOTAL_LIMIT_SIZE}; Fluent Bit's own default is no limit).`,
      ),
    ),
    maxChunksUp: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "filesystem: `storage.max_chunks_up`, the chunks (about 2 MB each) an input keeps in memory: the memory " +
          "limit of filesystem buffering (default Fluent Bit's, 128).",
      }),
    ),
    memBufLimit: Type.Optional(
      Size(
        "memory: `Mem_Buf_Limit` of the inputs the rendered config adds, i.e. the multiline filter's emitter " +
          "(`emitter_mem_buf_limit`, Fluent Bit's default 10M); above it the input pauses and drops records. " +
          "FireLens's own inputs take no Mem_Buf_Limit from a config file: bound their memory with type filesystem " +
          "and maxChunksUp.",
      ),
    ),
  },
  {
    additionalProperties: false,
    description: "Fluent Bit buffering, written into the rendered config (needs router.configFile).",
  },
);

const logRouterFields = {
  family: EcsName("Task definition family to patch; its latest ACTIVE revision is the starting point."),
  containers: Type.Optional(
    Type.Array(EcsName("Container name."), {
      minItems: 1,
      description:
        "Containers whose logs are routed; default every container but the router. Each gets `dependsOn` the " +
        "router (START), so the router starts before and stops after them.",
    }),
  ),
  router: Type.Object(
    {
      name: Type.Optional(EcsName("Router container name (default log_router).")),
      image: Type.Optional(
        SafeText({
          description:
            "Router image (default public.ecr.aws/aws-observability/aws-for-fluent-bit:stable, or its " +
            "`init-latest` tag when the router reads init variables).",
        }),
      ),
      enableEcsLogMetadata: Type.Optional(
        Type.Boolean({
          description: "`enable-ecs-log-metadata` (default true): adds cluster, task and container.",
        }),
      ),
      memoryReservation: Type.Optional(
        Type.Integer({
          minimum: 6,
          description:
            "Soft memory limit in MiB. Default: 50 when the task has no task-level memory (ECS then needs a limit " +
            "on every container), otherwise none.",
        }),
      ),
      essential: Type.Optional(
        Type.Boolean({ description: "Default true: the task stops if the router stops." }),
      ),
      stopTimeout: Type.Optional(
        Type.Integer({
          minimum: 10,
          maximum: FARGATE_MAX_STOP_TIMEOUT,
          description:
            "Seconds ECS waits between SIGTERM and SIGKILL for the router (container `stopTimeout`). Default: the " +
            `longest stopTimeout of the routed containers, at least ECS's default of ${ECS_DEFAULT_STOP_TIMEOUT} s; ` +
            `at most ${FARGATE_MAX_STOP_TIMEOUT} (Fargate's maximum). The rendered config sets Fluent Bit's Grace ` +
            "(default 5 s) to stopTimeout - 5, so Fluent Bit flushes what it holds and exits before the SIGKILL.",
        }),
      ),
      logs: Type.Optional(
        Type.Object(AwslogsTarget.properties, {
          additionalProperties: false,
          description: "The router's own logs, sent with awslogs.",
        }),
      ),
      configFile: Type.Optional(
        Type.Object(
          {
            type: Type.Union([Type.Literal("s3"), Type.Literal("file"), Type.Literal("init-s3")], {
              description:
                "init-s3: `apply` uploads the file to `value` and the router's init image downloads it through " +
                "`aws_fluent_bit_init_s3_1` (Fargate and EC2; the task role needs s3:GetObject on it and " +
                "s3:GetBucketLocation on its bucket, see `iam-policy --role task`). s3: FireLens reads it " +
                "(config-file-type s3, EC2 launch type only; the execution role needs s3:GetObject). file: a path " +
                "inside a custom router image you build.",
            }),
            value: SecretFreeString(
              "For s3 and init-s3, the object ARN (arn:aws:s3:::bucket/key); for file, an absolute path.",
            ),
          },
          {
            additionalProperties: false,
            description:
              "Where the router reads the extra Fluent Bit config that `render` prints: its [SERVICE] Grace and " +
              "buffering, multiline, throttle and the additional outputs. For s3 and init-s3, `apply` uploads it " +
              "before registering the revision that reads it.",
          },
        ),
      ),
      init: Type.Optional(
        Type.Object(
          {
            s3: Type.Optional(
              Type.Array(SecretFreeString("An S3 object ARN, arn:aws:s3:::bucket/key."), {
                minItems: 1,
                description:
                  "More config or parser files the init image downloads (`aws_fluent_bit_init_s3_N`); you keep " +
                  "them in S3, the operator does not upload them. Their file names must differ: the init process " +
                  "saves each under its name in one directory.",
              }),
            ),
            files: Type.Optional(
              Type.Array(SecretFreeString("An absolute path inside the router image."), {
                minItems: 1,
                description:
                  "Config or parser files inside the image (`aws_fluent_bit_init_file_N`), e.g. AWS's built-in " +
                  "ones. A path, never an S3 ARN (aws-for-fluent-bit #839).",
              }),
            ),
          },
          {
            additionalProperties: false,
            description:
              "Files for the aws-for-fluent-bit init image to include, besides `configFile` (needs an init image).",
          },
        ),
      ),
      buffer: Type.Optional(BufferSchema),
    },
    { additionalProperties: false, description: "The FireLens router container (Fluent Bit)." },
  ),
  output: OutputSchema,
  secretOptions: Type.Optional(
    Type.Array(SecretOption, {
      description:
        "More secrets for the first output's properties, by ARN, added after the output's own. FireLens makes " +
        "each one a property of that Fluent Bit output, so each name must be one (e.g. `http_passwd` of " +
        "opensearch): anything else stops the router. An application's own secrets belong in its container's " +
        "`secrets`, which the LogRouter leaves alone.",
    }),
  ),
  additionalOutputs: Type.Optional(
    Type.Array(AdditionalOutputSchema, {
      description:
        "More destinations for the same logs (e.g. S3 beside Datadog), written as [OUTPUT] sections of the rendered " +
        "config (needs router.configFile). Two outputs of one plugin taking the same containers are an error.",
    }),
  ),
  multiline: Type.Optional(
    Type.Object(
      {
        parsers: Type.Array(Type.Union(MULTILINE_PARSERS.map((p) => Type.Literal(p))), {
          minItems: 1,
          uniqueItems: true,
          description: "Fluent Bit's built-in multiline parsers to join stack traces.",
        }),
        keyContent: Type.Optional(
          Type.String({
            pattern: "^[A-Za-z0-9_]+$",
            description: "Record key holding the message (default log).",
          }),
        ),
      },
      { additionalProperties: false, description: "Join multi-line stack traces into one event." },
    ),
  ),
  throttle: Type.Optional(
    Type.Object(
      {
        rate: Type.Integer({
          minimum: 1,
          description: "Records allowed per interval, averaged over window.",
        }),
        window: Type.Optional(Type.Integer({ minimum: 1, description: "Intervals averaged (default 5)." })),
        interval: Type.Optional(
          Type.String({ pattern: "^\\d+(ms|s|m|h)?$", description: "Interval, e.g. 1s (default)." }),
        ),
      },
      {
        additionalProperties: false,
        description: "Drop records above a rate (Fluent Bit `throttle` filter).",
      },
    ),
  ),
  rollout: Type.Optional(RolloutSchema),
  prune: prunePatchField("the router and the routed containers' log configuration"),
};

const LogRouterBase = Type.Object(logRouterFields, { additionalProperties: false });

export const LogRouterSpecSchema = Type.Object(
  {
    ...logRouterFields,
    environments: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z0-9-]+$" }), Type.Partial(LogRouterBase), {
        description: "Overlays chosen with --environment; each replaces whole top-level fields.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type LogRouterSpec = Static<typeof LogRouterBase>;
export type LogRouterOutput = Static<typeof OutputSchema>;
export type AdditionalOutput = Static<typeof AdditionalOutputSchema>;
/** The fields of one FireLens output kind, as the spec gives them. */
export type FireLensOutputFields = NonNullable<LogRouterOutput[FireLensKind]> & {
  options?: Record<string, string> | undefined;
};

export const DEFAULT_ROUTER_NAME = "log_router";
export const DEFAULT_ROUTER_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable";

export function routerName(spec: LogRouterSpec): string {
  return spec.router.name ?? DEFAULT_ROUTER_NAME;
}

export function outputKind(output: LogRouterOutput | AdditionalOutput): OutputKind | undefined {
  return OUTPUT_KINDS.find((k) => (output as Record<string, unknown>)[k] !== undefined);
}

/** True when the spec asks for something only the extra Fluent Bit file `render` prints can give. */
export function needsConfigFile(spec: LogRouterSpec): boolean {
  return configFileReasons(spec).length > 0;
}

/** The spec fields that need the extra config file, for messages. */
export function configFileReasons(spec: LogRouterSpec): string[] {
  return [
    ...(spec.multiline !== undefined ? ["multiline"] : []),
    ...(spec.throttle !== undefined ? ["throttle"] : []),
    ...((spec.additionalOutputs ?? []).length > 0 ? ["additionalOutputs"] : []),
    ...(spec.router.buffer !== undefined ? ["router.buffer"] : []),
  ];
}

export const LogRouterKind = defineKind({
  kind: "LogRouter",
  description:
    "FireLens log routing for a task definition family: a Fluent Bit router container and the app containers' " +
    "awsfirelens log configuration, patched onto the family's latest revision. Every option and secret given to an " +
    "output must be a property of its Fluent Bit output plugin; the application's own secrets go into its " +
    "container's `secrets`, which the LogRouter leaves alone.",
  specSchema: LogRouterSpecSchema,
  check: (spec) => checkLogRouter(spec as LogRouterSpec),
  // A family has at most one FireLens router; a SidecarVolume on the same family is fine. A config object in S3 is
  // one router's: two uploading to one key would overwrite each other at every pass.
  claims: (spec) => {
    const file = spec.router.configFile;
    return [
      { key: `ecs:task-definition/${spec.family}/log-router`, path: ["family"] },
      ...(file !== undefined && file.type !== "file"
        ? [{ key: `s3 object ${file.value}`, path: ["router", "configFile", "value"] }]
        : []),
    ];
  },
});
