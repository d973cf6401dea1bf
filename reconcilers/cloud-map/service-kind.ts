import { Type, type Static } from "@sinclair/typebox";
import { defineKind, type SpecIssue } from "../../controllers/spec/document.ts";
import { DNS_NAME_PATTERN } from "./namespace-kind.ts";

const ECS_NAME_PATTERN = "^[A-Za-z0-9][-A-Za-z0-9_]{0,254}$";

export const DnsRecordSchema = Type.Object(
  {
    type: Type.Union([Type.Literal("A"), Type.Literal("SRV")], {
      description:
        "`A`: the task's IPv4 address. `SRV`: address and `instances.port`, for clients that read ports from DNS.",
    }),
    ttl: Type.Integer({
      minimum: 0,
      maximum: 2147483647,
      description: "Seconds resolvers may cache the answer. Keep it short: tasks come and go.",
    }),
  },
  { additionalProperties: false },
);

export const EcsTasksSelectorSchema = Type.Object(
  {
    cluster: Type.String({
      pattern: ECS_NAME_PATTERN,
      description: "ECS cluster name.",
      errorHint: "an ECS cluster name",
    }),
    service: Type.Optional(
      Type.String({
        pattern: ECS_NAME_PATTERN,
        description: "The ECS service whose tasks are registered. Give `service` or `family`, not both.",
        errorHint: "an ECS service name",
      }),
    ),
    family: Type.Optional(
      Type.String({
        pattern: ECS_NAME_PATTERN,
        description:
          "The task definition family whose tasks are registered, for tasks run outside a service.",
        errorHint: "a task definition family name",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "The ECS tasks to register: `{ cluster, service }` for an ECS service's tasks, or `{ cluster, family }` for the tasks of a task definition family.",
  },
);

export const CloudMapServiceSpecSchema = Type.Object(
  {
    namespace: Type.String({
      pattern: DNS_NAME_PATTERN,
      maxLength: 253,
      description:
        "Name of the private DNS namespace, e.g. `fluentd.local`: one declared by a CloudMapNamespace spec, or one that already exists.",
      errorHint: "a namespace name such as fluentd.local",
    }),
    name: Type.String({
      pattern: "^[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?$",
      description: "Service name: clients resolve `NAME.NAMESPACE`, e.g. `fluentd.fluentd.local`.",
      errorHint: "one DNS label such as fluentd",
    }),
    dns: Type.Object(
      {
        records: Type.Array(DnsRecordSchema, {
          minItems: 1,
          maxItems: 2,
          description: "The records Cloud Map creates per instance: `A` and/or `SRV`, each once.",
        }),
        routingPolicy: Type.Optional(
          Type.Union([Type.Literal("MULTIVALUE"), Type.Literal("WEIGHTED")], {
            default: "MULTIVALUE",
            description:
              "`MULTIVALUE` answers with up to eight healthy instances; `WEIGHTED` with one chosen at random. Fixed once the service exists.",
          }),
        ),
      },
      { additionalProperties: false, description: "The DNS records of each instance." },
    ),
    healthCheckCustomConfig: Type.Optional(
      Type.Object(
        {
          failureThreshold: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 10,
              default: 1,
              description: "Kept for compatibility; Cloud Map always acts on the first status update.",
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            "When present, instances carry a custom health status that follows the ECS task's container health: an UNHEALTHY task is left out of DNS answers. Fixed once the service exists.",
        },
      ),
    ),
    instances: Type.Object(
      {
        ecsTasks: EcsTasksSelectorSchema,
        port: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 65535,
            description:
              "Registered as `AWS_INSTANCE_PORT`: the SRV record's port. Required with an SRV record.",
          }),
        ),
      },
      {
        additionalProperties: false,
        description:
          "Each RUNNING task is one instance: instance id = task id, `AWS_INSTANCE_IPV4` = the task's ENI address (awsvpc) or its container instance's private address (bridge, host). Stopped tasks are deregistered.",
      },
    ),
    prune: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "When true, deleting this spec deregisters the instances and deletes the service in AWS. Only services this operator created are ever deleted.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CloudMapServiceSpec = Static<typeof CloudMapServiceSpecSchema>;

function check(spec: CloudMapServiceSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  spec.dns.records.forEach((r, i) => {
    if (seen.has(r.type))
      issues.push({ path: ["dns", "records", i, "type"], message: `record type ${r.type} is listed twice` });
    seen.add(r.type);
  });
  if (seen.has("SRV") && spec.instances.port === undefined) {
    issues.push({
      path: ["instances"],
      message: "an SRV record needs instances.port (Cloud Map registers it as the SRV port)",
    });
  }
  const sel = spec.instances.ecsTasks;
  if ((sel.service === undefined) === (sel.family === undefined)) {
    issues.push({
      path: ["instances", "ecsTasks"],
      message: "instances.ecsTasks needs exactly one of service or family",
    });
  }
  return issues;
}

export const CloudMapServiceKind = defineKind({
  kind: "CloudMapService",
  description:
    "A Cloud Map service in a private DNS namespace whose instances follow the RUNNING tasks of an ECS service or task family.",
  specSchema: CloudMapServiceSpecSchema,
  check,
  claims: (spec) => [
    {
      key: `servicediscovery:service/${spec.namespace.toLowerCase()}/${spec.name.toLowerCase()}`,
      path: ["name"],
    },
  ],
});
