import { Type, type Static } from "@sinclair/typebox";
import { defineKind, type SpecIssue } from "../../controllers/spec/document.ts";
import {
  EcsName,
  isSecretArn,
  plaintextSecretIssues,
  SafeText,
  SecretFreeString,
} from "../task-definition/spec-safety.ts";
import { parseS3ObjectArn } from "../task-definition/s3-object-arn.ts";

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

const OutputSchema = Type.Object(
  {
    datadog: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(
            SafeText({ description: "Intake host (default http-intake.logs.datadoghq.com)." }),
          ),
          service: Type.Optional(SafeText({ description: "`dd_service`." })),
          source: Type.Optional(SafeText({ description: "`dd_source`." })),
          tags: Type.Optional(SafeText({ description: '`dd_tags`, e.g. "env:production,team:vr".' })),
          apiKeySecretArn: SecretFreeString(
            "ARN of the Secrets Manager secret (or SSM parameter) holding the API key; passed as the " +
              "`apikey` secretOption, never read by the operator. The execution role needs " +
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
        { additionalProperties: false, description: "Datadog's HTTP intake (Fluent Bit `datadog` output)." },
      ),
    ),
    cloudwatch: Type.Optional(
      Type.Object(
        {
          group: SafeText({ description: "Log group (`log_group_name`)." }),
          streamPrefix: Type.Optional(
            SafeText({ description: "`log_stream_prefix` (default: the family)." }),
          ),
          createGroup: Type.Optional(Type.Boolean({ description: "`auto_create_group`." })),
          region: Type.Optional(Region),
        },
        { additionalProperties: false, description: "CloudWatch Logs through FireLens (`cloudwatch_logs`)." },
      ),
    ),
    firehose: Type.Optional(
      Type.Object(
        {
          deliveryStream: SafeText({ description: "Kinesis Data Firehose delivery stream name." }),
          region: Type.Optional(Region),
        },
        { additionalProperties: false, description: "Kinesis Data Firehose (`kinesis_firehose`)." },
      ),
    ),
    s3: Type.Optional(
      Type.Object(
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
        { additionalProperties: false, description: "Amazon S3 (`s3`)." },
      ),
    ),
    opensearch: Type.Optional(
      Type.Object(
        {
          endpoint: SafeText({ description: "Domain endpoint host, without https://." }),
          index: SafeText({ description: "Index name." }),
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Default 443." })),
          region: Type.Optional(Region),
        },
        { additionalProperties: false, description: "Amazon OpenSearch Service with SigV4 (`opensearch`)." },
      ),
    ),
    forward: Type.Optional(
      Type.Object(
        {
          host: SafeText({ description: "Aggregator host, e.g. a Cloud Map name such as fluentd.local." }),
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Default 24224." })),
        },
        { additionalProperties: false, description: "A Fluentd/Fluent Bit aggregator (`forward`)." },
      ),
    ),
    awslogs: Type.Optional(
      Type.Object(AwslogsTarget.properties, {
        additionalProperties: false,
        description:
          "Plain awslogs without FireLens (e.g. for development): the router container is removed from the family.",
      }),
    ),
  },
  { additionalProperties: false, description: "Where application logs go: exactly one of the fields." },
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

const logRouterFields = {
  family: EcsName("Task definition family to patch; its latest ACTIVE revision is the starting point."),
  containers: Type.Optional(
    Type.Array(EcsName("Container name."), {
      minItems: 1,
      description: "Containers whose logs are routed; default every container but the router.",
    }),
  ),
  router: Type.Object(
    {
      name: Type.Optional(EcsName("Router container name (default log_router).")),
      image: Type.Optional(
        SafeText({
          description: "Router image (default public.ecr.aws/aws-observability/aws-for-fluent-bit:stable).",
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
      logs: Type.Optional(
        Type.Object(AwslogsTarget.properties, {
          additionalProperties: false,
          description: "The router's own logs, sent with awslogs.",
        }),
      ),
      configFile: Type.Optional(
        Type.Object(
          {
            type: Type.Union([Type.Literal("s3"), Type.Literal("file")], {
              description: "s3 (EC2 launch type only) or file (a path inside the router image; Fargate).",
            }),
            value: SecretFreeString(
              "For s3, the object ARN (arn:aws:s3:::bucket/key); for file, an absolute path.",
            ),
          },
          {
            additionalProperties: false,
            description:
              "Where FireLens reads the extra Fluent Bit config that `render` prints (needed for multiline and " +
              "throttle). For s3, `apply` uploads it there before registering the revision that reads it (EC2 " +
              "launch type); for file, bake it into a custom router image (Fargate).",
          },
        ),
      ),
    },
    { additionalProperties: false, description: "The FireLens router container (Fluent Bit)." },
  ),
  output: OutputSchema,
  secretOptions: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: EcsName("Name FireLens gives the secret (an environment variable of the router)."),
          valueFrom: SecretFreeString("Secrets Manager secret or SSM parameter ARN."),
        },
        { additionalProperties: false },
      ),
      { description: "More secrets for the output plugin, by ARN, added after the output's own." },
    ),
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

export const DEFAULT_ROUTER_NAME = "log_router";
export const DEFAULT_ROUTER_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable";

export function routerName(spec: LogRouterSpec): string {
  return spec.router.name ?? DEFAULT_ROUTER_NAME;
}

export function outputKind(output: LogRouterOutput): OutputKind | undefined {
  return OUTPUT_KINDS.find((k) => output[k] !== undefined);
}

/** True when the router needs the extra Fluent Bit file `render` prints. */
export function needsConfigFile(spec: LogRouterSpec): boolean {
  return spec.multiline !== undefined || spec.throttle !== undefined;
}

function checkLogRouter(spec: LogRouterSpec): SpecIssue[] {
  const issues: SpecIssue[] = plaintextSecretIssues(spec);
  const chosen = OUTPUT_KINDS.filter((k) => spec.output[k] !== undefined);
  if (chosen.length !== 1) {
    issues.push({
      path: ["output"],
      message:
        chosen.length === 0
          ? `output needs exactly one of ${OUTPUT_KINDS.join(", ")}`
          : `output has ${chosen.join(" and ")}: choose exactly one`,
    });
  }
  const dd = spec.output.datadog;
  if (dd !== undefined && !isSecretArn(dd.apiKeySecretArn)) {
    issues.push({
      path: ["output", "datadog", "apiKeySecretArn"],
      message:
        "apiKeySecretArn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) " +
        "or an SSM parameter ARN; the value is not shown here",
    });
  }
  const secretNames = new Set<string>(dd !== undefined ? ["apikey"] : []);
  (spec.secretOptions ?? []).forEach((s, i) => {
    if (!isSecretArn(s.valueFrom)) {
      issues.push({
        path: ["secretOptions", i, "valueFrom"],
        message:
          "valueFrom must be a Secrets Manager secret or SSM parameter ARN; the value is not shown here",
      });
    }
    if (secretNames.has(s.name)) {
      issues.push({
        path: ["secretOptions", i, "name"],
        message: `secret option "${s.name}" is given twice`,
      });
    }
    secretNames.add(s.name);
  });
  const router = routerName(spec);
  const seen = new Set<string>();
  (spec.containers ?? []).forEach((c, i) => {
    if (c === router) {
      issues.push({
        path: ["containers", i],
        message: `"${c}" is the router itself; a router does not route its own logs through FireLens`,
      });
    }
    if (seen.has(c)) issues.push({ path: ["containers", i], message: `container "${c}" is listed twice` });
    seen.add(c);
  });
  if (needsConfigFile(spec)) {
    const what = spec.multiline !== undefined ? "multiline" : "throttle";
    if (spec.output.awslogs !== undefined) {
      issues.push({
        path: [what],
        message: `${what} needs FireLens; the awslogs output sends logs without a router`,
      });
    } else if (spec.router.configFile === undefined) {
      issues.push({
        path: [what],
        message:
          `${what} needs an extra Fluent Bit config file: set router.configFile to {type: s3, value: ` +
          "arn:aws:s3:::BUCKET/KEY} (EC2) or {type: file, value: /fluent-bit/etc/extra.conf} in a custom router " +
          "image (Fargate); `render` prints the file",
      });
    }
  }
  const cf = spec.router.configFile;
  if (cf !== undefined) {
    if (cf.type === "s3" && parseS3ObjectArn(cf.value) === undefined) {
      issues.push({
        path: ["router", "configFile", "value"],
        message:
          "an s3 config file is given as an object ARN: arn:aws:s3:::BUCKET/KEY (or arn:aws-cn / arn:aws-us-gov), " +
          "with a valid bucket name",
      });
    }
    if (cf.type === "file" && !/^\/[A-Za-z0-9/_.-]+$/.test(cf.value)) {
      issues.push({
        path: ["router", "configFile", "value"],
        message: "a file config is an absolute path inside the router image, e.g. /fluent-bit/etc/extra.conf",
      });
    }
  }
  return issues;
}

export const LogRouterKind = defineKind({
  kind: "LogRouter",
  description:
    "FireLens log routing for a task definition family: a Fluent Bit router container and the app containers' " +
    "awsfirelens log configuration, patched onto the family's latest revision.",
  specSchema: LogRouterSpecSchema,
  check: (spec) => checkLogRouter(spec as LogRouterSpec),
  // A family has at most one FireLens router; a SidecarVolume on the same family is fine.
  claims: (spec) => [{ key: `ecs:task-definition/${spec.family}/log-router`, path: ["family"] }],
});
