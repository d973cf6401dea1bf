import { describe, expect, it } from "vitest";
import { TerminalError } from "../../controllers/reconciler.ts";
import type { RunningTask } from "../ecs-tasks/running-tasks.ts";
import type { ObservedInstance, ObservedService } from "./cloud-map-api.ts";
import { OWNER_ATTRIBUTE, ownershipTags } from "./ownership.ts";
import type { CloudMapServiceSpec } from "./service-kind.ts";
import {
  instanceAttributes,
  planService,
  planServiceDeletion,
  shouldPruneService,
  type ObservedServiceState,
} from "./service-planner.ts";

const ctx = { ownerId: "prod", resource: "CloudMapService/fluentd" };
const found = { type: "found", id: "ns-1" } as const;

const spec = (over: Partial<CloudMapServiceSpec> = {}): CloudMapServiceSpec => ({
  namespace: "fluentd.local",
  name: "fluentd",
  dns: { records: [{ type: "A", ttl: 10 }], routingPolicy: "MULTIVALUE" },
  instances: { ecsTasks: { cluster: "logs", service: "fluentd" }, port: 24224 },
  ...over,
});

const task = (
  id: string,
  address: string | undefined,
  health: RunningTask["health"] = "UNKNOWN",
): RunningTask => ({
  taskId: id,
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/logs/${id}`,
  address,
  health,
});

const service = (over: Partial<ObservedService> = {}): ObservedService => ({
  id: "srv-1",
  arn: "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1",
  name: "fluentd",
  namespaceId: "ns-1",
  description: undefined,
  records: [{ type: "A", ttl: 10 }],
  routingPolicy: "MULTIVALUE",
  failureThreshold: undefined,
  hasCustomHealthCheck: false,
  ...over,
});

const ours = (s: CloudMapServiceSpec, id: string, ip: string): ObservedInstance => ({
  id,
  attributes: instanceAttributes(s, ip, "prod"),
});

const observed = (over: Partial<ObservedServiceState> = {}): ObservedServiceState => ({
  service: service(),
  tags: ownershipTags("prod", "CloudMapService/fluentd", false),
  instances: [],
  health: new Map(),
  ...over,
});

describe("planService", () => {
  it("creates the service and registers every serving task with its address and port", () => {
    const p = planService(spec(), found, undefined, [task("t1", "10.0.1.5"), task("t2", "10.0.1.6")], ctx);
    expect(p.changes).toEqual([
      {
        action: "create",
        target: "service fluentd.fluentd.local",
        detail: "A 10, MULTIVALUE",
        write: "servicediscovery:CreateService",
      },
      { action: "create", target: "instance t1 10.0.1.5:24224", write: "servicediscovery:RegisterInstance" },
      { action: "create", target: "instance t2 10.0.1.6:24224", write: "servicediscovery:RegisterInstance" },
    ]);
    expect(p.steps[0]).toMatchObject({
      type: "create-service",
      tags: { "ecs-log-operator/owner": "prod", "ecs-log-operator/created": "true" },
    });
    expect(p.steps[1]).toEqual({
      type: "register",
      instanceId: "t1",
      attributes: {
        AWS_INSTANCE_IPV4: "10.0.1.5",
        AWS_INSTANCE_PORT: "24224",
        ECS_CLUSTER_NAME: "logs",
        ECS_SERVICE_NAME: "fluentd",
        [OWNER_ATTRIBUTE]: "prod",
      },
    });
  });

  it("plans nothing when instances match the serving tasks (converged)", () => {
    const s = spec();
    const p = planService(
      s,
      found,
      observed({ instances: [ours(s, "t1", "10.0.1.5"), ours(s, "t2", "10.0.1.6")] }),
      [task("t2", "10.0.1.6"), task("t1", "10.0.1.5")],
      ctx,
    );
    expect(p.changes).toEqual([]);
    expect(p.steps).toEqual([]);
  });

  it("registers new tasks, deregisters stopped ones, re-registers a changed port", () => {
    const s = spec();
    const before = observed({ instances: [ours(s, "t1", "10.0.1.5"), ours(s, "gone", "10.0.1.9")] });
    const p = planService(s, found, before, [task("t1", "10.0.1.5"), task("t3", "10.0.1.7")], ctx);
    expect(p.changes).toEqual([
      { action: "create", target: "instance t3 10.0.1.7:24224", write: "servicediscovery:RegisterInstance" },
      {
        action: "delete",
        target: "instance gone 10.0.1.9:24224",
        detail: "task no longer running",
        write: "servicediscovery:DeregisterInstance",
      },
    ]);
    const moved = planService(
      spec({ instances: { ecsTasks: { cluster: "logs", service: "fluentd" }, port: 24225 } }),
      found,
      before,
      [task("t1", "10.0.1.5")],
      ctx,
    );
    expect(moved.changes[0]).toEqual({
      action: "update",
      target: "instance t1",
      detail: "10.0.1.5:24224 -> 10.0.1.5:24225",
      write: "servicediscovery:RegisterInstance",
    });
  });

  it("never touches instances someone else registered, even for a task it follows", () => {
    const foreign: ObservedInstance = {
      id: "t1",
      attributes: { AWS_INSTANCE_IPV4: "10.0.1.5", ECS_CLUSTER_NAME: "logs" },
    };
    const other: ObservedInstance = {
      id: "x",
      attributes: { AWS_INSTANCE_IPV4: "10.0.9.9", [OWNER_ATTRIBUTE]: "staging" },
    };
    const p = planService(
      spec(),
      found,
      observed({ instances: [foreign, other] }),
      [task("t1", "10.0.1.5")],
      ctx,
    );
    expect(p.steps).toEqual([]);
    expect(p.notes).toEqual(["instance t1 was registered by someone else; left as it is"]);
  });

  it("waits for a task's address instead of registering it without one", () => {
    const p = planService(spec(), found, observed(), [task("t1", undefined)], ctx);
    expect(p.steps).toEqual([]);
    expect(p.notes[0]).toMatch(/task t1 has no address read/);
  });

  it("keeps the instance of a serving task whose address was not read (a describe failure), deregistering nothing", () => {
    const s = spec();
    const p = planService(
      s,
      found,
      observed({ instances: [ours(s, "t1", "10.0.0.1")] }),
      [task("t1", undefined)],
      ctx,
    );
    expect(p.steps).toEqual([]);
    expect(p.changes).toEqual([]);
  });

  it("updates TTLs in place and refuses what Cloud Map fixes at creation", () => {
    const p = planService(
      spec(),
      found,
      observed({ service: service({ records: [{ type: "A", ttl: 60 }] }) }),
      [],
      ctx,
    );
    expect(p.changes).toEqual([
      {
        action: "update",
        target: "service fluentd.fluentd.local (srv-1)",
        detail: "A ttl 60 -> 10",
        write: "servicediscovery:UpdateService",
      },
    ]);
    expect(p.steps).toEqual([{ type: "update-records", records: [{ type: "A", ttl: 10 }] }]);

    const types = () =>
      planService(
        spec({
          dns: {
            records: [
              { type: "A", ttl: 10 },
              { type: "SRV", ttl: 10 },
            ],
          },
        }),
        found,
        observed(),
        [],
        ctx,
      );
    expect(types).toThrow(TerminalError);
    expect(types).toThrow(/record types A -> A, SRV/);
    expect(() =>
      planService(
        spec({ dns: { records: [{ type: "A", ttl: 10 }], routingPolicy: "WEIGHTED" } }),
        found,
        observed(),
        [],
        ctx,
      ),
    ).toThrow(/routingPolicy MULTIVALUE -> WEIGHTED/);
    expect(() => planService(spec({ healthCheckCustomConfig: {} }), found, observed(), [], ctx)).toThrow(
      /healthCheckCustomConfig absent -> present/,
    );
  });

  it("adopts an untagged service, records a prune change, and refuses another owner's", () => {
    const adopt = planService(spec(), found, observed({ tags: {} }), [], ctx);
    expect(adopt.changes[0]?.detail).toMatch(/^adopt/);
    expect(adopt.steps[0]).toEqual({
      type: "tag",
      tags: ownershipTags("prod", "CloudMapService/fluentd", false),
    });
    const prune = planService(spec({ prune: true }), found, observed(), [], ctx);
    expect(prune.changes[0]?.detail).toBe("prune false -> true");
    expect(() =>
      planService(
        spec(),
        found,
        observed({ tags: ownershipTags("staging", "CloudMapService/fluentd", false) }),
        [],
        ctx,
      ),
    ).toThrow(/managed by another operator \(owner id "staging"\)/);
  });

  it("follows container health on custom-health services", () => {
    const s = spec({ healthCheckCustomConfig: { failureThreshold: 1 } });
    const svc = service({ hasCustomHealthCheck: true, failureThreshold: 1 });
    const p = planService(
      s,
      found,
      observed({
        service: svc,
        instances: [ours(s, "t1", "10.0.1.5"), ours(s, "t2", "10.0.1.6")],
        health: new Map([
          ["t1", "HEALTHY"],
          ["t2", "UNHEALTHY"],
        ]),
      }),
      [
        task("t1", "10.0.1.5", "UNHEALTHY"),
        task("t2", "10.0.1.6", "HEALTHY"),
        task("t3", "10.0.1.7", "UNHEALTHY"),
      ],
      ctx,
    );
    expect(p.steps.filter((x) => x.type === "set-health")).toEqual([
      { type: "set-health", instanceId: "t1", status: "UNHEALTHY" },
      { type: "set-health", instanceId: "t2", status: "HEALTHY" },
      { type: "set-health", instanceId: "t3", status: "UNHEALTHY" },
    ]);
  });

  it("registers a custom-health instance at its task's health, and sets it again when a drift registers it anew", () => {
    const s = spec({ healthCheckCustomConfig: { failureThreshold: 1 } });
    const svc = service({ hasCustomHealthCheck: true, failureThreshold: 1 });
    // t1 runs unhealthy on a port that drifted: registered again, its health check would start HEALTHY.
    const drifted = {
      ...ours(s, "t1", "10.0.1.5"),
      attributes: { ...ours(s, "t1", "10.0.1.5").attributes, AWS_INSTANCE_PORT: "1" },
    };
    const p = planService(
      s,
      found,
      observed({ service: svc, instances: [drifted], health: new Map([["t1", "UNHEALTHY"]]) }),
      [task("t1", "10.0.1.5", "UNHEALTHY"), task("t2", "10.0.1.6", "UNHEALTHY")],
      ctx,
    );
    expect(p.steps).toEqual([
      {
        type: "register",
        instanceId: "t1",
        attributes: expect.objectContaining({
          AWS_INSTANCE_PORT: "24224",
          AWS_INIT_HEALTH_STATUS: "UNHEALTHY",
        }),
      },
      { type: "set-health", instanceId: "t1", status: "UNHEALTHY" },
      {
        type: "register",
        instanceId: "t2",
        attributes: expect.objectContaining({ AWS_INIT_HEALTH_STATUS: "UNHEALTHY" }),
      },
      { type: "set-health", instanceId: "t2", status: "UNHEALTHY" },
    ]);
    // A service without custom health passes no initial status.
    const plain = planService(spec(), found, observed(), [task("t3", "10.0.1.7", "UNHEALTHY")], ctx);
    expect(plain.steps[0]).toMatchObject({ type: "register" });
    expect(plain.steps[0]).not.toHaveProperty("attributes.AWS_INIT_HEALTH_STATUS");
  });

  it("notes a namespace another spec creates first", () => {
    const p = planService(
      spec(),
      { type: "pending", declaredBy: "CloudMapNamespace/logs" },
      undefined,
      [],
      ctx,
    );
    expect(p.notes).toEqual(["namespace fluentd.local is created by CloudMapNamespace/logs first"]);
    expect(p.changes).toHaveLength(1);
  });
});

describe("pruning a service", () => {
  const tags = {
    ...ownershipTags("prod", "CloudMapService/fluentd", true),
    "ecs-log-operator/created": "true",
  };
  const live = new Set<string>();

  it.each([
    ["its spec asked for prune and this owner created it", tags, live, true],
    ["its spec still exists", tags, new Set(["CloudMapService/fluentd"]), false],
    ["prune was false", { ...tags, "ecs-log-operator/prune": "false" }, live, false],
    ["it was adopted, not created", { ...tags, "ecs-log-operator/created": "false" }, live, false],
    ["another owner made it", { ...tags, "ecs-log-operator/owner": "staging" }, live, false],
    ["it carries no tags", {}, live, false],
  ])("is deleted only when %s", (_why, t, l, expected) => {
    expect(shouldPruneService({ service: service(), tags: t }, "prod", l)).toBe(expected);
  });

  it("deregisters only this owner's instances and names the others that keep it", () => {
    const s = spec();
    const d = planServiceDeletion(
      "fluentd (srv-1)",
      [ours(s, "t1", "10.0.1.5"), { id: "ecs", attributes: {} }],
      "prod",
    );
    expect(d.deregister).toEqual(["t1"]);
    expect(d.blockers).toEqual(["ecs"]);
  });
});
