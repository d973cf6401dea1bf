import { Type, type Static } from "@sinclair/typebox";
import { defineKind } from "../../controllers/spec/document.ts";

/** A DNS name of lowercase or uppercase labels, without a trailing dot: `fluentd.local`. */
export const DNS_NAME_PATTERN =
  "^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$";

export const CloudMapNamespaceSpecSchema = Type.Object(
  {
    name: Type.String({
      pattern: DNS_NAME_PATTERN,
      maxLength: 253,
      description:
        "DNS name of the namespace, e.g. `fluentd.local`. Tasks in the VPC resolve `SERVICE.NAME` through it.",
      errorHint: "a DNS name such as fluentd.local, without a trailing dot",
    }),
    vpc: Type.String({
      pattern: "^vpc-[0-9a-f]{8,17}$",
      description:
        "The VPC whose resolver answers for the namespace. Fixed once the namespace exists: Cloud Map cannot move a namespace to another VPC.",
      errorHint: "a VPC id such as vpc-0abc1234",
    }),
    description: Type.Optional(
      Type.String({ maxLength: 1024, description: "Shown in the Cloud Map console." }),
    ),
    prune: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "When true, deleting this spec deletes the namespace in AWS, after the services this operator created in it. Only namespaces this operator created are ever deleted.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CloudMapNamespaceSpec = Static<typeof CloudMapNamespaceSpecSchema>;

export const CloudMapNamespaceKind = defineKind({
  kind: "CloudMapNamespace",
  description:
    "A Cloud Map private DNS namespace in one VPC: the DNS domain that CloudMapService names live in (`fluentd.local`).",
  specSchema: CloudMapNamespaceSpecSchema,
  claims: (spec) => [
    { key: `servicediscovery:namespace/${spec.name.toLowerCase()}/${spec.vpc}`, path: ["name"] },
  ],
});
