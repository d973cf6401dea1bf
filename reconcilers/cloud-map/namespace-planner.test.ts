import { describe, expect, it } from "vitest";
import { TerminalError } from "../../controllers/reconciler.ts";
import type { CloudMapNamespaceSpec } from "./namespace-kind.ts";
import { decideOrphanNamespace, planNamespace, type NamespaceCandidate } from "./namespace-planner.ts";
import type { ObservedInstance } from "./cloud-map-api.ts";
import { CREATED_TAG, OWNER_ATTRIBUTE, ownershipTags } from "./ownership.ts";

const ctx = { ownerId: "prod", resource: "CloudMapNamespace/logs" };
const spec: CloudMapNamespaceSpec = {
  name: "fluentd.local",
  vpc: "vpc-0abc1234",
  description: "log aggregation",
};
const ourTags = ownershipTags("prod", "CloudMapNamespace/logs", false);

const candidate = (over: Partial<NamespaceCandidate> = {}): NamespaceCandidate => ({
  id: "ns-1",
  arn: "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1",
  name: "fluentd.local",
  description: "log aggregation",
  vpcs: ["vpc-0abc1234"],
  tags: ourTags,
  ...over,
});

describe("planNamespace", () => {
  it("creates a missing namespace, tagged as created by this owner", () => {
    const p = planNamespace(spec, [], ctx);
    expect(p.changes).toEqual([
      {
        action: "create",
        target: "namespace fluentd.local in vpc-0abc1234",
        detail: 'description "log aggregation"',
        write: "servicediscovery:CreatePrivateDnsNamespace",
      },
    ]);
    expect(p.steps).toEqual([
      {
        type: "create",
        name: "fluentd.local",
        vpc: "vpc-0abc1234",
        description: "log aggregation",
        tags: { ...ourTags, [CREATED_TAG]: "true" },
      },
    ]);
  });

  it("plans nothing for a converged namespace", () => {
    expect(planNamespace(spec, [candidate()], ctx).changes).toEqual([]);
  });

  it("creates one in the spec's VPC when the name exists only in another VPC", () => {
    const p = planNamespace(spec, [candidate({ vpcs: ["vpc-0def5678"], tags: {} })], ctx);
    expect(p.changes[0]?.action).toBe("create");
  });

  it("refuses to move its namespace to another VPC", () => {
    expect(() => planNamespace({ ...spec, vpc: "vpc-0def5678" }, [candidate()], ctx)).toThrow(
      /cannot move a namespace to another VPC/,
    );
  });

  it("updates the description and the prune tag, and adopts an untagged namespace", () => {
    const p = planNamespace({ ...spec, description: "logs", prune: true }, [candidate()], ctx);
    expect(p.changes.map((c) => c.detail)).toEqual([
      'description "log aggregation" -> "logs"',
      "prune false -> true",
    ]);
    const adopt = planNamespace(spec, [candidate({ tags: {} })], ctx);
    expect(adopt.changes[0]?.detail).toMatch(/^adopt/);
  });

  it("matches by name alone when no VPC can be read, and says so", () => {
    const p = planNamespace(spec, [candidate({ vpcs: [] })], ctx);
    expect(p.changes).toEqual([]);
    expect(p.notes[0]).toMatch(/cannot be read; assumed to be vpc-0abc1234/);
    expect(() =>
      planNamespace(
        spec,
        [candidate({ vpcs: [], tags: {} }), candidate({ id: "ns-2", vpcs: [], tags: {} })],
        ctx,
      ),
    ).toThrow(TerminalError);
  });

  it("refuses a namespace another operator owns", () => {
    expect(() =>
      planNamespace(
        spec,
        [candidate({ tags: ownershipTags("staging", "CloudMapNamespace/logs", false) })],
        ctx,
      ),
    ).toThrow(/another operator \(owner id "staging"\)/);
  });
});

describe("decideOrphanNamespace", () => {
  const tags = { ...ownershipTags("prod", "CloudMapNamespace/logs", true), [CREATED_TAG]: "true" };
  const svc = (name: string, t: Record<string, string>, instances: ObservedInstance[] = []) => ({
    id: `srv-${name}`,
    name,
    tags: t,
    instances,
  });
  const instance = (id: string, owner: string): ObservedInstance => ({
    id,
    attributes: { AWS_INSTANCE_IPV4: "10.0.1.5", [OWNER_ATTRIBUTE]: owner },
  });
  const ourService = { ...ownershipTags("prod", "CloudMapService/fluentd", false), [CREATED_TAG]: "true" };

  it("deletes its services first, each write listed once under the service's own spec, then the namespace", () => {
    const d = decideOrphanNamespace(
      {
        id: "ns-1",
        name: "fluentd.local",
        tags,
        services: [svc("fluentd", ourService, [instance("t1", "prod"), instance("t2", "prod")])],
      },
      "prod",
      new Set(),
    );
    expect(d.type).toBe("delete");
    if (d.type !== "delete") return;
    expect(
      d.services.map((s) => [s.resource, s.changes.map((c) => `${c.action} ${c.target} ${c.write}`)]),
    ).toEqual([
      [
        "CloudMapService/fluentd",
        [
          "delete instance t1 10.0.1.5 servicediscovery:DeregisterInstance",
          "delete instance t2 10.0.1.5 servicediscovery:DeregisterInstance",
          "delete service fluentd.fluentd.local (srv-fluentd) servicediscovery:DeleteService",
        ],
      ],
    ]);
    expect(d.changes.map((c) => `${c.action} ${c.target} ${c.write}`)).toEqual([
      "delete namespace fluentd.local (ns-1) servicediscovery:DeleteNamespace",
    ]);
  });

  it.each([
    ["its spec exists", tags, [], new Set(["CloudMapNamespace/logs"]), undefined],
    ["prune is false", { ...tags, "ecs-log-operator/prune": "false" }, [], new Set<string>(), undefined],
    ["it was adopted", { ...tags, [CREATED_TAG]: "false" }, [], new Set<string>(), /existed before/],
    ["a foreign service is in it", tags, [svc("other", {})], new Set<string>(), /still holds other/],
    [
      "someone else registered an instance in its service",
      tags,
      [svc("fluentd", ourService, [instance("t1", "prod"), instance("ecs-1", "ecs")])],
      new Set<string>(),
      /fluentd holds instances ecs-1 registered by someone else/,
    ],
    [
      "a live spec manages a service in it",
      tags,
      [svc("fluentd", ourService)],
      new Set(["CloudMapService/fluentd"]),
      /still holds fluentd/,
    ],
  ])("keeps it when %s", (_why, t, services, live, reason) => {
    const d = decideOrphanNamespace({ id: "ns-1", name: "fluentd.local", tags: t, services }, "prod", live);
    expect(d.type).toBe("keep");
    if (reason !== undefined) expect(d.type === "keep" ? d.reason : "").toMatch(reason);
  });
});
