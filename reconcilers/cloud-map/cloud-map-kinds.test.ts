import { describe, expect, it } from "vitest";
import { formatDiagnostic, parseSpecText } from "../../controllers/spec/load.ts";
import { crossCheck } from "../../controllers/spec/load.ts";
import type { KindDefinition } from "../../controllers/spec/document.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";
import { CloudMapServiceKind } from "./service-kind.ts";

const kinds = [CloudMapNamespaceKind, CloudMapServiceKind] as KindDefinition[];

const NAMESPACE = `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapNamespace
metadata:
  name: logs-namespace
spec:
  name: fluentd.local
  vpc: vpc-0abc1234
  description: log aggregation
  prune: false
`;

const SERVICE = `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata:
  name: fluentd
spec:
  namespace: fluentd.local
  name: fluentd
  dns:
    records: [{ type: A, ttl: 10 }]
    routingPolicy: MULTIVALUE
  healthCheckCustomConfig: { failureThreshold: 1 }
  instances:
    ecsTasks: { cluster: logs, service: fluentd }
    port: 24224
  prune: false
`;

function parse(text: string) {
  const r = parseSpecText("specs/cloud-map.yaml", text, kinds);
  return { documents: r.documents, messages: r.diagnostics.map(formatDiagnostic) };
}

describe("CloudMapNamespace and CloudMapService specs", () => {
  it("accept the examples of the spec contract", () => {
    const { documents, messages } = parse(`${NAMESPACE}---\n${SERVICE}`);
    expect(messages).toEqual([]);
    expect(documents.map((d) => d.kind)).toEqual(["CloudMapNamespace", "CloudMapService"]);
  });

  it("accept a family selector, SRV with a port, and WEIGHTED routing", () => {
    const text = SERVICE.replace("service: fluentd }", "family: fluentd }")
      .replace("[{ type: A, ttl: 10 }]", "[{ type: A, ttl: 10 }, { type: SRV, ttl: 30 }]")
      .replace("MULTIVALUE", "WEIGHTED");
    expect(parse(text).messages).toEqual([]);
  });

  const bad: [string, string, string, RegExp][] = [
    [
      "namespace name with a space",
      NAMESPACE,
      "name: fluentd.local",
      /spec\.name: "fluentd local" is not valid \(a DNS name/,
    ],
    [
      "namespace vpc not a VPC id",
      NAMESPACE,
      "vpc: vpc-0abc1234",
      /spec\.vpc: "subnet-1234" is not valid \(a VPC id/,
    ],
    ["namespace unknown field", NAMESPACE, "prune: false", /spec\.zone: unknown field/],
    [
      "service record type",
      SERVICE,
      "type: A, ttl: 10",
      /spec\.dns\.records\[0\]\.type: must be one of: "A", "SRV"/,
    ],
    ["service negative ttl", SERVICE, "type: A, ttl: 10", /spec\.dns\.records\[0\]\.ttl/],
    [
      "service routing policy",
      SERVICE,
      "routingPolicy: MULTIVALUE",
      /spec\.dns\.routingPolicy: must be one of: "MULTIVALUE", "WEIGHTED"/,
    ],
    ["service port out of range", SERVICE, "port: 24224", /spec\.instances\.port/],
    ["service both service and family", SERVICE, "service: fluentd }", /exactly one of service or family/],
    [
      "service neither service nor family",
      SERVICE,
      "cluster: logs, service: fluentd",
      /exactly one of service or family/,
    ],
    ["service SRV without a port", SERVICE, "port: 24224", /an SRV record needs instances\.port/],
    ["service record type twice", SERVICE, "[{ type: A, ttl: 10 }]", /record type A is listed twice/],
  ];
  const replacement: Record<string, string> = {
    "namespace name with a space": "name: fluentd local",
    "namespace vpc not a VPC id": "vpc: subnet-1234",
    "namespace unknown field": "zone: x",
    "service record type": "type: CNAME, ttl: 10",
    "service negative ttl": "type: A, ttl: -1",
    "service routing policy": "routingPolicy: RANDOM",
    "service port out of range": "port: 70000",
    "service both service and family": "service: fluentd, family: fluentd }",
    "service neither service nor family": "cluster: logs",
    "service SRV without a port": "",
    "service record type twice": "[{ type: A, ttl: 10 }, { type: A, ttl: 20 }]",
  };
  it.each(bad)("reject %s, located at FILE:LINE:COL", (name, base, from, expected) => {
    let text = base.replace(from, replacement[name] ?? "");
    if (name === "service SRV without a port")
      text = text.replace("{ type: A, ttl: 10 }", "{ type: SRV, ttl: 10 }");
    const { documents, messages } = parse(text);
    expect(documents).toEqual([]);
    expect(messages.join("\n")).toMatch(expected);
    expect(messages[0]).toMatch(/^specs\/cloud-map\.yaml:\d+:\d+: Cloud/);
  });

  it("reject a second spec for the same namespace in the same VPC, and the same service name", () => {
    const a = parse(`${NAMESPACE}---\n${NAMESPACE.replace("name: logs-namespace", "name: other")}`).documents;
    const dup = crossCheck(a, kinds);
    expect(dup.diagnostics.map((d) => d.message)).toEqual([
      expect.stringMatching(
        /CloudMapNamespace\/other and CloudMapNamespace\/logs-namespace .* both manage servicediscovery:namespace\/fluentd.local\/vpc-0abc1234/,
      ),
    ]);
    const otherVpc = parse(
      `${NAMESPACE}---\n${NAMESPACE.replace("name: logs-namespace", "name: other").replace("vpc-0abc1234", "vpc-0def5678")}`,
    ).documents;
    expect(crossCheck(otherVpc, kinds).diagnostics).toEqual([]);
    const s = parse(`${SERVICE}---\n${SERVICE.replace("name: fluentd\nspec", "name: copy\nspec")}`).documents;
    expect(crossCheck(s, kinds).diagnostics).toHaveLength(1);
  });
});
