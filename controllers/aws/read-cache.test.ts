import { ListServicesCommand, ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import {
  requestKey,
  staleAfterWrite,
  staleForWatchKey,
  TickReadCache,
  type AwsRequest,
} from "./read-cache.ts";

/** A stand-in for AWS behind the cache: counts what reaches it, answers with a counter. */
function backend() {
  const sent: string[] = [];
  return {
    sent,
    send(r: AwsRequest, fail?: Error) {
      return () => {
        sent.push(`${r.service}:${r.operation}`);
        return fail === undefined ? Promise.resolve(sent.length) : Promise.reject(fail);
      };
    },
  };
}

const listTasks = (cluster: string, serviceName: string): AwsRequest => ({
  service: "ecs",
  operation: "ListTasks",
  input: { cluster, serviceName, desiredStatus: "RUNNING" },
});
const describeTasks = (cluster: string): AwsRequest => ({
  service: "ecs",
  operation: "DescribeTasks",
  input: { cluster, tasks: ["arn:aws:ecs:us-east-1:1:task/logs/a"] },
});
const listRecords = (zone: string, start?: string): AwsRequest => ({
  service: "route53",
  operation: "ListResourceRecordSets",
  input: { HostedZoneId: zone, StartRecordName: start },
});
const listInstances = (serviceId: string): AwsRequest => ({
  service: "servicediscovery",
  operation: "ListInstances",
  input: { ServiceId: serviceId },
});

const listNamespaces: AwsRequest = { service: "servicediscovery", operation: "ListNamespaces", input: {} };
const createNamespace: AwsRequest = {
  service: "servicediscovery",
  operation: "CreatePrivateDnsNamespace",
  input: { Name: "logs.internal", Vpc: "vpc-1" },
};

describe("TickReadCache", () => {
  it("answers a read once per tick, however many reconciles ask, and asks AWS again in the next tick", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    const r = listTasks("logs", "fluentd");
    const answers = await Promise.all([1, 2, 3].map(() => cache.request(r, aws.send(r))));
    expect(answers).toEqual([1, 1, 1]);
    expect(await cache.request(r, aws.send(r))).toBe(1);
    expect(aws.sent).toEqual(["ecs:ListTasks"]);
    cache.beginTick();
    expect(await cache.request(r, aws.send(r))).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 2 });
  });

  it("serves an answer no longer than maxAgeMs, so drift is seen within an interval even when no tick starts", async () => {
    const clock = new ManualClock();
    const cache = new TickReadCache({ clock, maxAgeMs: 20_000 });
    const aws = backend();
    const r = listInstances("srv-1");
    await cache.request(r, aws.send(r));
    await clock.advance(19_999);
    await cache.request(r, aws.send(r));
    expect(aws.sent).toHaveLength(1);
    await clock.advance(1);
    await cache.request(r, aws.send(r));
    expect(aws.sent).toHaveLength(2);
  });

  it("never caches what is polled for progress or is not watched state", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    for (const r of [
      { service: "servicediscovery", operation: "GetOperation", input: { OperationId: "op-1" } },
      { service: "route53", operation: "GetChange", input: { Id: "C1" } },
      { service: "dynamodb", operation: "GetItem", input: { TableName: "lease" } },
      { service: "ecs", operation: "DescribeTaskDefinition", input: { taskDefinition: "fluentd" } },
    ] satisfies AwsRequest[]) {
      await cache.request(r, aws.send(r));
      await cache.request(r, aws.send(r));
    }
    expect(aws.sent).toHaveLength(8);
  });

  it("keys by the whole input: another page, zone or service is another read", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    for (const r of [listRecords("Z1"), listRecords("Z1", "b.logs.internal"), listRecords("Z2")]) {
      await cache.request(r, aws.send(r));
    }
    expect(aws.sent).toHaveLength(3);
    // Key order and undefined fields do not make another read.
    expect(requestKey({ service: "ecs", operation: "ListTasks", input: { b: 1, a: 2, c: undefined } })).toBe(
      requestKey({ service: "ecs", operation: "ListTasks", input: { a: 2, b: 1 } }),
    );
  });

  it("drops exactly what a write touches, whether the write succeeds or is refused", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    const reads = [
      listRecords("Z1"),
      listRecords("Z1", "b.logs.internal"),
      listRecords("Z2"),
      listInstances("srv-1"),
    ];
    for (const r of reads) await cache.request(r, aws.send(r));
    const change: AwsRequest = {
      service: "route53",
      operation: "ChangeResourceRecordSets",
      input: { HostedZoneId: "/hostedzone/Z1", ChangeBatch: {} },
    };
    await expect(cache.request(change, aws.send(change, new Error("InvalidChangeBatch")))).rejects.toThrow();
    aws.sent.length = 0;
    for (const r of reads) await cache.request(r, aws.send(r));
    // Both pages of Z1 again; Z2 and the Cloud Map instances still from the tick.
    expect(aws.sent).toEqual(["route53:ListResourceRecordSets", "route53:ListResourceRecordSets"]);
  });

  it("asks AWS for what a Cloud Map operation touches until the next tick: the operation may not show yet", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    await cache.request(listNamespaces, aws.send(listNamespaces));
    await cache.request(createNamespace, aws.send(createNamespace));
    aws.sent.length = 0;
    // The namespace appears when its operation succeeds: each read of the tick asks AWS, none is kept.
    await cache.request(listNamespaces, aws.send(listNamespaces));
    await cache.request(listNamespaces, aws.send(listNamespaces));
    expect(aws.sent).toEqual(["servicediscovery:ListNamespaces", "servicediscovery:ListNamespaces"]);
    // The next tick caches again. A registration leaves its own service's instances uncached for the tick, and
    // another service's cached.
    cache.beginTick();
    const register: AwsRequest = {
      service: "servicediscovery",
      operation: "RegisterInstance",
      input: { ServiceId: "srv-2", InstanceId: "a" },
    };
    await cache.request(listInstances("srv-1"), aws.send(listInstances("srv-1")));
    await cache.request(listInstances("srv-2"), aws.send(listInstances("srv-2")));
    await cache.request(register, aws.send(register));
    aws.sent.length = 0;
    await cache.request(listInstances("srv-1"), aws.send(listInstances("srv-1")));
    await cache.request(listInstances("srv-2"), aws.send(listInstances("srv-2")));
    await cache.request(listInstances("srv-2"), aws.send(listInstances("srv-2")));
    expect(aws.sent).toEqual(["servicediscovery:ListInstances", "servicediscovery:ListInstances"]);
    aws.sent.length = 0;
    cache.beginTick();
    await cache.request(listInstances("srv-2"), aws.send(listInstances("srv-2")));
    await cache.request(listInstances("srv-2"), aws.send(listInstances("srv-2")));
    expect(aws.sent).toEqual(["servicediscovery:ListInstances"]);
  });

  it("caches what an operation touched again once AWS says the operation finished", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    const getOperation: AwsRequest = {
      service: "servicediscovery",
      operation: "GetOperation",
      input: { OperationId: "op-1" },
    };
    // What the SDK's `initialize` step resolves with.
    const answer = (output: object) => () => Promise.resolve({ output, response: {} });
    await cache.request(createNamespace, answer({ OperationId: "op-1" }));
    await cache.request(getOperation, answer({ Operation: { Id: "op-1", Status: "PENDING" } }));
    await cache.request(listNamespaces, aws.send(listNamespaces));
    await cache.request(listNamespaces, aws.send(listNamespaces));
    expect(aws.sent).toEqual(["servicediscovery:ListNamespaces", "servicediscovery:ListNamespaces"]);
    // Another operation's success changes nothing; this one's makes the namespaces cached again.
    await cache.request(getOperation, answer({ Operation: { Id: "op-2", Status: "SUCCESS" } }));
    await cache.request(listNamespaces, aws.send(listNamespaces));
    expect(aws.sent).toHaveLength(3);
    await cache.request(getOperation, answer({ Operation: { Id: "op-1", Status: "SUCCESS" } }));
    aws.sent.length = 0;
    await cache.request(listNamespaces, aws.send(listNamespaces));
    await cache.request(listNamespaces, aws.send(listNamespaces));
    expect(aws.sent).toEqual(["servicediscovery:ListNamespaces"]);
    // A registration, finished as a ListOperations page shows it (FAIL is finished too).
    const register: AwsRequest = {
      service: "servicediscovery",
      operation: "RegisterInstance",
      input: { ServiceId: "srv-1", InstanceId: "a" },
    };
    const listOperations: AwsRequest = {
      service: "servicediscovery",
      operation: "ListOperations",
      input: {},
    };
    await cache.request(register, answer({ OperationId: "op-3" }));
    aws.sent.length = 0;
    await cache.request(listInstances("srv-1"), aws.send(listInstances("srv-1")));
    await cache.request(listOperations, answer({ Operations: [{ Id: "op-3", Status: "FAIL" }] }));
    await cache.request(listInstances("srv-1"), aws.send(listInstances("srv-1")));
    await cache.request(listInstances("srv-1"), aws.send(listInstances("srv-1")));
    expect(aws.sent).toEqual(["servicediscovery:ListInstances", "servicediscovery:ListInstances"]);
  });

  it("says which reads each write makes stale", () => {
    const register = staleAfterWrite({
      service: "servicediscovery",
      operation: "RegisterInstance",
      input: { ServiceId: "srv-1", InstanceId: "i-1" },
    });
    expect(register(listInstances("srv-1"))).toBe(true);
    expect(register(listInstances("srv-2"))).toBe(false);
    expect(register({ service: "servicediscovery", operation: "ListNamespaces", input: {} })).toBe(false);
    const tag = staleAfterWrite({
      service: "servicediscovery",
      operation: "TagResource",
      input: { ResourceARN: "a" },
    });
    expect(
      tag({ service: "servicediscovery", operation: "ListTagsForResource", input: { ResourceARN: "a" } }),
    ).toBe(true);
    expect(
      tag({ service: "servicediscovery", operation: "ListTagsForResource", input: { ResourceARN: "b" } }),
    ).toBe(false);
    // A namespace is also a hosted zone.
    const ns = staleAfterWrite({
      service: "servicediscovery",
      operation: "CreatePrivateDnsNamespace",
      input: {},
    });
    expect(ns({ service: "route53", operation: "ListHostedZonesByName", input: {} })).toBe(true);
    // A write the table does not know drops all of its service's reads, none of another's.
    const unknown = staleAfterWrite({ service: "ecs", operation: "UpdateService", input: {} });
    expect(unknown(listTasks("logs", "fluentd"))).toBe(true);
    expect(unknown(listInstances("srv-1"))).toBe(false);
    const taskDefinition = staleAfterWrite({
      service: "ecs",
      operation: "RegisterTaskDefinition",
      input: {},
    });
    expect(taskDefinition(listTasks("logs", "fluentd"))).toBe(false);
    // The sweeps' listing of revisions by tag is what a task definition write changes.
    const revisions: AwsRequest = {
      service: "tag",
      operation: "GetResources",
      input: { ResourceTypeFilters: ["ecs:task-definition"] },
    };
    expect(taskDefinition(revisions)).toBe(true);
    expect(unknown(revisions)).toBe(false);
    // A namespace's new zone: the zone listings and the lookups of its name, not another name's nor any records.
    const created = staleAfterWrite({
      service: "servicediscovery",
      operation: "CreatePrivateDnsNamespace",
      input: { Name: "fluentd.local", Vpc: "vpc-1" },
    });
    const byName = (DNSName: string): AwsRequest => ({
      service: "route53",
      operation: "ListHostedZonesByName",
      input: { DNSName },
    });
    expect(created(byName("Fluentd.Local."))).toBe(true);
    expect(created(byName("logs.internal"))).toBe(false);
    expect(created({ service: "route53", operation: "ListHostedZones", input: {} })).toBe(true);
    expect(
      created({ service: "route53", operation: "ListResourceRecordSets", input: { HostedZoneId: "Z1" } }),
    ).toBe(false);
  });

  it("drops the reads an event's or a spec edit's watch key names, and only those", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    const reads = [
      listTasks("logs", "fluentd"),
      listTasks("logs", "other"),
      describeTasks("logs"),
      describeTasks("app"),
    ];
    for (const r of reads) await cache.request(r, aws.send(r));
    expect(cache.invalidateWatchKeys(["ecs:arn:aws:ecs:us-east-1:1:cluster/logs/service:fluentd"])).toBe(2);
    const asg = staleForWatchKey("asg:log-asg");
    expect(
      asg({
        service: "autoscaling",
        operation: "DescribeAutoScalingGroups",
        input: { AutoScalingGroupNames: ["log-asg"] },
      }),
    ).toBe(true);
    expect(
      asg({
        service: "autoscaling",
        operation: "DescribeAutoScalingGroups",
        input: { AutoScalingGroupNames: ["x"] },
      }),
    ).toBe(false);
    expect(staleForWatchKey("ecs:logs/family:fluentd")(listTasks("logs", "fluentd"))).toBe(false);
    expect(staleForWatchKey("taskdef:fluentd")(listTasks("logs", "fluentd"))).toBe(false);
  });

  it("inside live(), reads of the state written go to AWS and refresh the entry; the targets stay the tick's", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const aws = backend();
    const r = listInstances("srv-1");
    expect(await cache.request(r, aws.send(r))).toBe(1);
    expect(await cache.live(() => cache.request(r, aws.send(r)))).toBe(2);
    expect(await cache.request(r, aws.send(r))).toBe(2);
    expect(aws.sent).toHaveLength(2);
    // The targets a plan follows are not what it writes: they stay the tick's.
    const tasks = listTasks("logs", "fluentd");
    expect(await cache.request(tasks, aws.send(tasks))).toBe(3);
    expect(await cache.live(() => cache.request(tasks, aws.send(tasks)))).toBe(3);
    expect(aws.sent).toHaveLength(3);
  });

  it("does not share a failure: a caller that did not start the failed read asks AWS itself", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const sent: string[] = [];
    const r = listInstances("srv-1");
    let fail!: (e: Error) => void;
    const first = cache.request(r, () => {
      sent.push("first");
      return new Promise<number>((_resolve, reject) => (fail = reject));
    });
    const second = cache.request(r, () => {
      sent.push("second");
      return Promise.resolve(7);
    });
    fail(new Error("aborted by its caller"));
    await expect(first).rejects.toThrow("aborted by its caller");
    expect(await second).toBe(7);
    expect(sent).toEqual(["first", "second"]);
    // The retry's answer is the tick's entry now.
    expect(await cache.request(r, () => Promise.resolve(99))).toBe(7);
  });

  it("sits in an SDK client's stack above the rest: a cached answer is no request", async () => {
    const cache = new TickReadCache({ clock: new ManualClock() });
    const client = new ServiceDiscoveryClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 1,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    cache.attach(client.middlewareStack, "servicediscovery");
    let requests = 0;
    client.middlewareStack.add(
      () => async () => {
        requests++;
        return { output: { Services: [], $metadata: {} }, response: {} };
      },
      { step: "finalizeRequest", priority: "low", name: "test-answer" },
    );
    await client.send(new ListServicesCommand({}));
    await client.send(new ListServicesCommand({}));
    expect(requests).toBe(1);
    client.destroy();
  });
});
