import {
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  CreateServiceCommand,
  GetServiceCommand,
  GetInstancesHealthStatusCommand,
  UpdateInstanceCustomHealthStatusCommand,
  RegisterInstanceCommand,
  DeregisterInstanceCommand,
} from "@aws-sdk/client-servicediscovery";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsCallCounter, type AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { runPass, type PassResult } from "../../controllers/pass.ts";
import type { KindDefinition, SpecDocument } from "../../controllers/spec/document.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { AwsCloudMapApi } from "../../reconcilers/cloud-map/aws-cloud-map-api.ts";
import type { RegisterInstanceInput } from "../../reconcilers/cloud-map/cloud-map-api.ts";
import { cloudMapReconcilers } from "../../reconcilers/cloud-map/cloud-map-reconcilers.ts";
import { NamespaceLookup } from "../../reconcilers/cloud-map/namespace-lookup.ts";
import { CloudMapNamespaceReconciler } from "../../reconcilers/cloud-map/namespace-reconciler.ts";
import { OperationWaiter } from "../../reconcilers/cloud-map/operation-waiter.ts";
import { RequestTokens } from "../../reconcilers/cloud-map/request-tokens.ts";
import { CloudMapServiceReconciler } from "../../reconcilers/cloud-map/service-reconciler.ts";
import { AwsEcsTaskApi } from "../../reconcilers/ecs-tasks/aws-ecs-task-api.ts";
import { CloudMapNamespaceKind } from "../../reconcilers/cloud-map/namespace-kind.ts";
import { CloudMapServiceKind } from "../../reconcilers/cloud-map/service-kind.ts";
import { taskIdOf } from "../../reconcilers/ecs-tasks/running-tasks.ts";
import { startEmulator } from "./harness.ts";
import { planThenApply } from "./plan-equals-apply.ts";

const kinds = [CloudMapNamespaceKind, CloudMapServiceKind] as KindDefinition[];

let emulator: MotoEmulator;
let clients: AwsClients;
const counter = new AwsCallCounter();

beforeAll(async () => {
  ({ moto: emulator, clients } = await startEmulator({ region: "us-east-1", observer: counter }));
});

afterAll(async () => {
  clients?.destroy();
  await emulator?.stop();
});

let scene: AwsScene;
beforeEach(async () => {
  await emulator.reset();
  counter.reset();
  scene = new AwsScene(clients);
  await scene.network();
});

function specs(
  vpc: string,
  service: Record<string, string> = {},
  namespace: Record<string, string> = {},
): string {
  const v = {
    cluster: "logs",
    selector: "service: fluentd",
    port: "24224",
    records: "[{ type: A, ttl: 10 }]",
    prune: "false",
    extra: "",
    ...service,
  };
  const n = { prune: "false", description: "log aggregation", ...namespace };
  return `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapNamespace
metadata: { name: logs-namespace }
spec:
  name: fluentd.local
  vpc: ${vpc}
  description: ${n.description}
  prune: ${n.prune}
---
apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata: { name: fluentd }
spec:
  namespace: fluentd.local
  name: fluentd
  dns:
    records: ${v.records}
    routingPolicy: MULTIVALUE
${v.extra}  instances:
    ecsTasks: { cluster: ${v.cluster}, ${v.selector} }
    port: ${v.port}
  prune: ${v.prune}
`;
}

function parse(text: string): SpecDocument[] {
  const r = parseSpecText("specs.yaml", text, kinds);
  expect(r.diagnostics).toEqual([]);
  return r.documents;
}

/** One pass with fresh reconcilers, as `apply` (or `plan`) runs it. */
async function pass(
  documents: SpecDocument[],
  apply = true,
  ownerId = "it",
  reconcilers = cloudMapReconcilers(clients),
): Promise<PassResult> {
  return runPass(
    {
      reconcilers,
      documents,
      complete: true,
      ownerId,
      logger: silentLogger,
      signal: AbortSignal.timeout(60_000),
      // The kind's own removal rule, apart from the prune guard (which has its tests in prune-guard.test.ts).
      pruneGuard: { allowEmpty: true, maxCount: 1, maxFraction: 1 },
    },
    apply,
  );
}

function failures(r: PassResult): string[] {
  return r.failures.map((f) => `${f.key}: ${f.error.message}`);
}

async function namespaces() {
  return (await clients.serviceDiscovery.send(new ListNamespacesCommand({}))).Namespaces ?? [];
}
async function services() {
  return (await clients.serviceDiscovery.send(new ListServicesCommand({}))).Services ?? [];
}
async function instances(serviceId: string) {
  const out = await clients.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: serviceId }));
  return (out.Instances ?? [])
    .map((i) => ({
      id: i.Id ?? "",
      ip: i.Attributes?.AWS_INSTANCE_IPV4,
      port: i.Attributes?.AWS_INSTANCE_PORT,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}
async function tags(arn: string) {
  const out = await clients.serviceDiscovery.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key, t.Value]));
}

describe("Cloud Map kinds against the emulator", () => {
  it("creates the namespace and service, registers every RUNNING task, then converges with zero writes", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    const arns = await scene.runTasks("logs", "fluentd", 3, "fluentd");
    const docs = parse(specs(scene.vpcId));

    // One set of reconcilers for both passes, as the controller keeps them.
    const reconcilers = cloudMapReconcilers(clients);
    const first = await pass(docs, true, "it", reconcilers);
    expect(failures(first)).toEqual([]);
    expect(first.plans.map((p) => [p.key, p.changes.length])).toEqual([
      ["CloudMapNamespace/logs-namespace", 1],
      ["CloudMapService/fluentd", 4],
    ]);

    const [ns] = await namespaces();
    expect(ns).toMatchObject({ Name: "fluentd.local", Type: "DNS_PRIVATE", Description: "log aggregation" });
    expect(await tags(ns?.Arn ?? "")).toMatchObject({
      "ecs-log-operator/owner": "it",
      "ecs-log-operator/resource": "CloudMapNamespace/logs-namespace",
      "ecs-log-operator/created": "true",
    });
    const [svc] = await services();
    const got = await clients.serviceDiscovery.send(new GetServiceCommand({ Id: svc?.Id }));
    expect(got.Service).toMatchObject({
      Name: "fluentd",
      NamespaceId: ns?.Id,
      DnsConfig: { RoutingPolicy: "MULTIVALUE", DnsRecords: [{ Type: "A", TTL: 10 }] },
    });
    const registered = await instances(svc?.Id ?? "");
    expect(registered.map((i) => i.id)).toEqual(arns.map(taskIdOf).sort());
    const described = await clients.ecs.send(new DescribeTasksCommand({ cluster: "logs", tasks: arns }));
    const eni = new Map(
      (described.tasks ?? []).map((t) => [
        taskIdOf(t.taskArn ?? ""),
        t.attachments?.[0]?.details?.find((d) => d.name === "privateIPv4Address")?.value,
      ]),
    );
    expect(registered).toEqual(
      [...eni].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, ip]) => ({ id, ip, port: "24224" })),
    );

    counter.reset();
    const second = await pass(docs, true, "it", reconcilers);
    expect(failures(second)).toEqual([]);
    expect(second.plans.flatMap((p) => p.changes)).toEqual([]);
    expect(second.plans.flatMap((p) => p.notes ?? [])).toEqual([]);
    expect(counter.writes()).toEqual([]);
    // The namespace's VPC is known from its creation: Route 53, whose quota the account shares, is not asked again.
    expect(counter.count("route53")).toBe(0);
    // Measured: the reads of a converged pass, for the report.
    console.log("converged pass reads:", Object.fromEntries(counter.byOperation()));
  });

  it("registers many tasks at once and awaits their operations together, one ListOperations per round", async () => {
    await scene.cluster("logs", 1);
    // Small tasks, so that one container instance holds them all (the emulator places by memory).
    await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
    const arns = await scene.runTasks("logs", "fluentd", 80, "fluentd");
    const docs = parse(specs(scene.vpcId));

    const { applied } = await planThenApply(counter, (apply) => pass(docs, apply));
    expect(applied.plans.find((p) => p.key === "CloudMapService/fluentd")?.changes).toHaveLength(81);
    const [svc] = await services();
    expect((await instances(svc?.Id ?? "")).map((i) => i.id)).toEqual(arns.map(taskIdOf).sort());
    expect(counter.count("servicediscovery", "RegisterInstance")).toBe(80);
    // The namespace's creation is the one operation polled on its own (its answer carries the new namespace's id).
    expect(counter.count("servicediscovery", "GetOperation")).toBe(1);
    // The 80 registrations' operations are awaited with listings of the service's unfinished operations, one a
    // round, the rounds at least 125 ms apart (so fewer listings than registrations, 16 of which are in flight at
    // once, unless each took over 1 s). The emulator's ListOperations ignores Filters and lists only namespace
    // operations (all SUCCESS); the adapter filters the statuses itself as AWS would, so every registration reads as
    // finished at the first round after it. The mechanism (N operations on a service, one listing a round) is
    // asserted exactly in instance-operations.test.ts, and the filters on the wire in cloud-map-operations.test.ts.
    const listings = counter.count("servicediscovery", "ListOperations");
    expect(listings).toBeGreaterThanOrEqual(1);
    expect(listings).toBeLessThanOrEqual(40);

    counter.reset();
    const converged = await pass(docs);
    expect(failures(converged)).toEqual([]);
    expect(counter.writes()).toEqual([]);
    expect(counter.count("servicediscovery", "ListOperations")).toBe(0);
  });

  it("follows tasks as they stop and start, and a plan shows the change before apply makes it", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    const arns = await scene.runTasks("logs", "fluentd", 2, "fluentd");
    const docs = parse(specs(scene.vpcId));
    expect(failures(await pass(docs))).toEqual([]);

    await scene.stopTasks("logs", [arns[0] ?? ""]);
    const added = await scene.runTasks("logs", "fluentd", 2, "fluentd");
    counter.reset();
    const planned = await pass(docs, false);
    expect(counter.writes()).toEqual([]);
    const changes = planned.plans.flatMap((p) => p.changes);
    expect(changes.filter((c) => c.action === "create")).toHaveLength(2);
    expect(changes.filter((c) => c.action === "delete")).toEqual([
      expect.objectContaining({
        target: expect.stringContaining(taskIdOf(arns[0] ?? "")),
        detail: "task no longer running",
      }),
    ]);

    expect(failures(await pass(docs))).toEqual([]);
    const [svc] = await services();
    expect((await instances(svc?.Id ?? "")).map((i) => i.id)).toEqual(
      [arns[1] ?? "", ...added].map(taskIdOf).sort(),
    );
  });

  it("registers bridge-mode tasks of a family at their container instance's private address", async () => {
    const [ec2Id] = await scene.cluster("batch", 1);
    await scene.taskDefinition("collector", "bridge");
    await scene.runTasks("batch", "collector", 2, undefined, false);
    const docs = parse(specs(scene.vpcId, { cluster: "batch", selector: "family: collector" }));
    expect(failures(await pass(docs))).toEqual([]);
    const [svc] = await services();
    const registered = await instances(svc?.Id ?? "");
    expect(registered).toHaveLength(2);
    expect(ec2Id).toBeDefined();
    // Both tasks share their host's address.
    expect(new Set(registered.map((i) => i.ip)).size).toBe(1);
    const [instance] =
      (await (await clients.ec2()).send(new DescribeInstancesCommand({ InstanceIds: [ec2Id ?? ""] })))
        .Reservations?.[0]?.Instances ?? [];
    expect(registered[0]?.ip).toBe(instance?.PrivateIpAddress);
  });

  it("updates TTLs in place, refuses a record type change, and leaves foreign instances alone", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 1, "fluentd");
    expect(failures(await pass(parse(specs(scene.vpcId))))).toEqual([]);
    const [svc] = await services();
    await clients.serviceDiscovery.send(
      new RegisterInstanceCommand({
        ServiceId: svc?.Id,
        InstanceId: "manual",
        Attributes: { AWS_INSTANCE_IPV4: "10.0.1.250" },
      }),
    );

    const ttl = await pass(parse(specs(scene.vpcId, { records: "[{ type: A, ttl: 30 }]" })));
    expect(failures(ttl)).toEqual([]);
    expect(ttl.plans.flatMap((p) => p.changes)).toEqual([
      {
        action: "update",
        target: `service fluentd.fluentd.local (${svc?.Id})`,
        detail: "A ttl 10 -> 30",
        write: "servicediscovery:UpdateService",
      },
    ]);
    const [after] = await services();
    expect(after?.DnsConfig?.DnsRecords).toEqual([{ Type: "A", TTL: 30 }]);

    const srv = await pass(
      parse(specs(scene.vpcId, { records: "[{ type: A, ttl: 30 }, { type: SRV, ttl: 30 }]" })),
    );
    expect(failures(srv)).toEqual([
      expect.stringMatching(
        /^CloudMapService\/fluentd: service fluentd.fluentd.local \(srv-\w+\) cannot change in place \(record types A -> A, SRV\)/,
      ),
    ]);
    expect((await instances(svc?.Id ?? "")).map((i) => i.id)).toContain("manual");
  });

  it("creates a custom-health service and puts an instance's health back to what its task reports", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    const [arn] = await scene.runTasks("logs", "fluentd", 1, "fluentd");
    const docs = parse(specs(scene.vpcId, { extra: "  healthCheckCustomConfig: { failureThreshold: 1 }\n" }));
    expect(failures(await pass(docs))).toEqual([]);
    const [svc] = await services();
    const got = await clients.serviceDiscovery.send(new GetServiceCommand({ Id: svc?.Id }));
    expect(got.Service?.HealthCheckCustomConfig).toEqual({ FailureThreshold: 1 });

    // Someone marks the instance UNHEALTHY; its task has no failing health check, so the operator puts it back.
    const id = taskIdOf(arn ?? "");
    await clients.serviceDiscovery.send(
      new UpdateInstanceCustomHealthStatusCommand({
        ServiceId: svc?.Id,
        InstanceId: id,
        Status: "UNHEALTHY",
      }),
    );
    const healed = await pass(docs);
    expect(failures(healed)).toEqual([]);
    expect(healed.plans.flatMap((p) => p.changes)).toEqual([
      {
        action: "update",
        target: `instance ${id} health`,
        detail: "UNHEALTHY -> HEALTHY",
        write: "servicediscovery:UpdateInstanceCustomHealthStatus",
      },
    ]);
    const health = await clients.serviceDiscovery.send(
      new GetInstancesHealthStatusCommand({ ServiceId: svc?.Id }),
    );
    expect(health.Status).toEqual({ [id]: "HEALTHY" });
  });

  it("plans a service whose namespace another spec creates, without failing, before anything exists", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 1, "fluentd");
    const planned = await pass(parse(specs(scene.vpcId)), false);
    expect(failures(planned)).toEqual([]);
    const svcPlan = planned.plans.find((p) => p.key === "CloudMapService/fluentd");
    expect(svcPlan?.notes).toEqual([
      "namespace fluentd.local is created by CloudMapNamespace/logs-namespace first",
    ]);
    expect(svcPlan?.changes).toHaveLength(2);
    expect(await namespaces()).toEqual([]);
  });

  it("prunes what it created when specs asking for it are removed, services first, and keeps the rest", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 2, "fluentd");
    const docs = parse(specs(scene.vpcId, { prune: "true" }, { prune: "true" }));
    expect(failures(await pass(docs))).toEqual([]);
    const [ns] = await namespaces();
    // A service someone else made in the namespace keeps it.
    const foreign = await clients.serviceDiscovery.send(
      new CreateServiceCommand({
        Name: "manual",
        NamespaceId: ns?.Id,
        DnsConfig: { DnsRecords: [{ Type: "A", TTL: 5 }] },
      }),
    );

    // Another operator's pass (other owner id) prunes nothing of ours.
    expect((await pass([], true, "someone-else")).plans.flatMap((p) => p.changes)).toEqual([]);

    // The namespace is kept while "manual" is in it; the service level, planned after it, prunes fluentd.
    const kept = await pass([]);
    expect(failures(kept)).toEqual([]);
    expect(kept.plans.find((p) => p.key === "CloudMapNamespace/logs-namespace")?.notes?.[0]).toMatch(
      /still holds manual/,
    );
    expect(kept.plans.find((p) => p.key === "CloudMapService/fluentd")?.changes.map((c) => c.action)).toEqual(
      ["delete", "delete", "delete"],
    );
    expect((await services()).map((s) => s.Name)).toEqual(["manual"]);
    expect(await namespaces()).toHaveLength(1);

    await clients.serviceDiscovery.send(
      new (await import("@aws-sdk/client-servicediscovery")).DeleteServiceCommand({
        Id: foreign.Service?.Id,
      }),
    );
    const pruned = await pass([]);
    expect(failures(pruned)).toEqual([]);
    expect(await services()).toEqual([]);
    expect(await namespaces()).toEqual([]);
  });

  it("a spec that renames its service removes the old one as a removed spec would: pruned, or said to be kept", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 2, "fluentd");
    const named = (name: string, prune: string) =>
      parse(specs(scene.vpcId, { prune }).replace("  name: fluentd\n", `  name: ${name}\n`));
    expect(failures(await pass(named("fluentd", "false")))).toEqual([]);
    // Renamed without prune: the old service is left, and the plan says so.
    const kept = await pass(named("fluentd-v2", "false"));
    expect(failures(kept)).toEqual([]);
    expect(kept.plans.flatMap((p) => p.notes ?? []).join("\n")).toMatch(
      /fluentd \(srv-\w+\).*no longer managed/,
    );
    expect((await services()).map((s) => s.Name).sort()).toEqual(["fluentd", "fluentd-v2"]);
    // The spec as applied last said prune: true under its new name; renamed again, the service it named is pruned,
    // its instances first.
    expect(failures(await pass(named("fluentd-v2", "true")))).toEqual([]);
    const pruned = await pass(named("fluentd-v3", "true"));
    expect(failures(pruned)).toEqual([]);
    expect((await services()).map((s) => s.Name).sort()).toEqual(["fluentd", "fluentd-v3"]);
  });

  it("lists one removal once: each instance and service under its own spec, and apply makes exactly those writes", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 2, "fluentd");
    const docs = parse(specs(scene.vpcId, { prune: "true" }, { prune: "true" }));
    await planThenApply(counter, (apply) => pass(docs, apply));

    // Before, plan listed the service twice (under the namespace and under its own spec) and apply said "2 to
    // delete", then deregistered both instances too.
    const { planned } = await planThenApply(counter, (apply) => pass([], apply));
    expect(
      planned.plans.filter((p) => p.changes.length > 0).map((p) => [p.key, p.changes.map((c) => c.write)]),
    ).toEqual([
      ["CloudMapNamespace/logs-namespace", ["servicediscovery:DeleteNamespace"]],
      [
        "CloudMapService/fluentd",
        [
          "servicediscovery:DeregisterInstance",
          "servicediscovery:DeregisterInstance",
          "servicediscovery:DeleteService",
        ],
      ],
    ]);
    expect(await services()).toEqual([]);
    expect(await namespaces()).toEqual([]);
  });

  it("registers an instance deregistered by hand again, with a new CreatorRequestId", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    const [arn] = await scene.runTasks("logs", "fluentd", 1, "fluentd");
    const taskId = taskIdOf(arn ?? "");
    // The adapter as the operator builds it, recording the tokens it sends (moto does not model them).
    const sent: string[] = [];
    class RecordingCloudMap extends AwsCloudMapApi {
      override registerInstance(input: RegisterInstanceInput, signal?: AbortSignal): Promise<string> {
        sent.push(`${input.instanceId} ${input.creatorRequestId}`);
        return super.registerInstance(input, signal);
      }
    }
    const api = new RecordingCloudMap(clients);
    const lookup = new NamespaceLookup(api);
    const operations = new OperationWaiter(api);
    const tokens = new RequestTokens();
    const reconcilers: [CloudMapNamespaceReconciler, CloudMapServiceReconciler] = [
      new CloudMapNamespaceReconciler({ api, lookup, operations, tokens }),
      new CloudMapServiceReconciler({ api, tasks: new AwsEcsTaskApi(clients), lookup, operations, tokens }),
    ];
    const docs = parse(specs(scene.vpcId));
    expect(failures(await pass(docs, true, "it", reconcilers))).toEqual([]);
    const [service] = await services();
    await clients.serviceDiscovery.send(
      new DeregisterInstanceCommand({ ServiceId: service?.Id, InstanceId: taskId }),
    );
    expect(failures(await pass(docs, true, "it", reconcilers))).toEqual([]);
    const ids = (await clients.serviceDiscovery.send(new ListInstancesCommand({ ServiceId: service?.Id })))
      .Instances;
    expect(ids?.map((i) => i.Id)).toEqual([taskId]);
    expect(sent).toHaveLength(2);
    const [first, second] = sent.map((l) => l.split(" "));
    expect(first?.[0]).toBe(taskId);
    expect(second?.[0]).toBe(taskId);
    expect(second?.[1]).not.toBe(first?.[1]);
    expect(tokens.held()).toEqual([]);
  });

  it("never deletes without prune, and never treats an adopted namespace as its own to delete", async () => {
    await scene.cluster("logs", 1);
    await scene.taskDefinition("fluentd");
    await scene.runTasks("logs", "fluentd", 1, "fluentd");
    expect(failures(await pass(parse(specs(scene.vpcId))))).toEqual([]);
    const removed = await pass([]);
    expect(removed.plans.flatMap((p) => p.changes)).toEqual([]);
    // Left as they are, no longer managed, and the plan says so.
    expect(removed.plans.map((p) => [p.key, p.notes?.[0]?.replace(/\(\S+\)/, "(ID)")])).toEqual([
      [
        "CloudMapNamespace/logs-namespace",
        "namespace fluentd.local (ID) is left as it is, no longer managed: CloudMapNamespace/logs-namespace was " +
          "removed and did not say prune: true",
      ],
      [
        "CloudMapService/fluentd",
        "service fluentd (ID) is left as it is, no longer managed: CloudMapService/fluentd was removed and did not " +
          "say prune: true",
      ],
    ]);
    expect(await namespaces()).toHaveLength(1);
    expect(await services()).toHaveLength(1);
  });
});
