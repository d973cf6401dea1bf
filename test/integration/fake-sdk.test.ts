import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  paginateListTasks,
} from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it } from "vitest";
import { AwsCallCounter, createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { refreshableCredentials } from "../../controllers/aws/credentials.ts";
import { classifyAwsError } from "../../controllers/aws/errors.ts";
import { TickReadCache } from "../../controllers/aws/read-cache.ts";
import { AwsRoute53Api } from "../../reconcilers/weighted-record-set/aws-route53-api.ts";
import { AwsAutoScalingApi } from "../../reconcilers/weighted-record-set/aws-auto-scaling-api.ts";
import { FakeSdk } from "../../bench/fake-sdk.ts";

// The benchmark's in-process AWS (bench/fake-sdk.ts), which the real SDK clients talk to through a middleware that
// answers instead of sending: no emulator here. These check the transport itself: AWS's pages and limits, errors the
// operator classifies as AWS's, and every answer passing the operator's own instrument (its call record) and cache.

const clientsToClose: AwsClients[] = [];
afterEach(() => {
  for (const c of clientsToClose.splice(0)) c.destroy();
});

function build(options: { readCache?: TickReadCache } = {}): {
  sdk: FakeSdk;
  clients: AwsClients;
  counter: AwsCallCounter;
} {
  const sdk = new FakeSdk();
  const counter = new AwsCallCounter();
  const clients = sdk.attach(
    createAwsClients({
      endpoint: "http://fake.invalid",
      region: "us-east-1",
      credentials: refreshableCredentials(() => async () => ({
        accessKeyId: "fake",
        secretAccessKey: "fake",
      })),
      observer: counter,
      ...options,
    }),
  );
  clientsToClose.push(clients);
  return { sdk, clients, counter };
}

describe("the bench's in-process AWS behind the real SDK clients", () => {
  it("pages ListTasks 100 at a time, each page an attempt the operator's instrument records", async () => {
    const { sdk, clients, counter } = build();
    sdk.fake.addTasks("logs", "fluentd-0", 250);
    sdk.fake.addTasks("logs", "fluentd-1", 5);
    const pages: number[] = [];
    for await (const page of paginateListTasks(
      { client: clients.ecs, pageSize: 100 },
      { cluster: "logs", serviceName: "fluentd-0", desiredStatus: "RUNNING" },
    ))
      pages.push(page.taskArns?.length ?? 0);
    expect(pages).toEqual([100, 100, 50]);
    expect(counter.count("ecs", "ListTasks")).toBe(3);
    expect(counter.calls.every((c) => c.outcome === "success")).toBe(true);
    expect(sdk.answered.get("ecs:ListTasks")).toBe(3);

    // A service exists where its tasks run: steady, as many running as desired; an unknown one is a failure.
    const described = await clients.ecs.send(
      new DescribeServicesCommand({ cluster: "logs", services: ["fluentd-1", "nope"] }),
    );
    expect(described.services).toMatchObject([
      {
        serviceName: "fluentd-1",
        desiredCount: 5,
        runningCount: 5,
        deployments: [{ rolloutState: "COMPLETED" }],
      },
    ]);
    expect(described.failures).toMatchObject([{ reason: "MISSING" }]);
  });

  it("refuses DescribeTasks of more than 100 ARNs as ECS does, an error the operator classifies as invalid", async () => {
    const { sdk, clients, counter } = build();
    sdk.fake.addTasks("logs", "fluentd-0", 101);
    const arns = (sdk.fake.state.tasks.logs ?? []).map((t) => t.taskArn);
    const error: unknown = await clients.ecs
      .send(new DescribeTasksCommand({ cluster: "logs", tasks: arns }))
      .catch((e: unknown) => e);
    expect(classifyAwsError("ecs", "DescribeTasks", error).errorClass).toBe("invalid");
    expect(counter.calls).toMatchObject([{ operation: "DescribeTasks", outcome: "invalid", answered: true }]);
    const out = await clients.ecs.send(
      new DescribeTasksCommand({ cluster: "logs", tasks: arns.slice(0, 100) }),
    );
    expect(out.tasks).toHaveLength(100);
    expect(out.$metadata.httpStatusCode).toBe(200);
  });

  it("throws on a command it does not answer, so a gap in the fake shows", async () => {
    const { clients } = build();
    await expect(clients.ecs.send(new ListClustersCommand({}))).rejects.toThrow(
      /answers no ecs ListClusters/,
    );
  });

  it("answers the second ask of a watched read from the tick's cache, which sits above it", async () => {
    const readCache = new TickReadCache({ maxAgeMs: 60_000 });
    const { sdk, clients, counter } = build({ readCache });
    sdk.fake.addTasks("logs", "fluentd-0", 3);
    const ask = () =>
      clients.ecs.send(new DescribeTasksCommand({ cluster: "logs", tasks: ["arn:a", "arn:b"] }));
    await ask();
    await ask();
    expect(counter.count("ecs", "DescribeTasks")).toBe(1);
    expect(sdk.answered.get("ecs:DescribeTasks")).toBe(1);
  });

  it("lists a zone 300 record sets a page with its apex SOA and NS, and keeps Route 53's batch rules", async () => {
    const { sdk, clients, counter } = build();
    const zone = sdk.addZone("logs.internal", "vpc-1");
    const route53 = new AwsRoute53Api(clients);
    const records = Array.from({ length: 700 }, (_, i) => ({
      action: "CREATE" as const,
      record: { name: `r${i}.logs.internal`, type: "A", ttl: 10, values: [`10.0.${i >> 8}.${i & 255}`] },
    }));
    await route53.changeRecordSets(zone, records);
    expect(await route53.zonesByName("logs.internal")).toEqual([
      { id: zone, name: "logs.internal", privateZone: true },
    ]);
    counter.reset();
    const listed = await route53.listRecordSets(zone);
    expect(listed).toHaveLength(702);
    expect(counter.count("route53", "ListResourceRecordSets")).toBe(3);

    // A CREATE of an existing record is a stale read (conflict), and the batch is atomic: its other change is not made.
    const again = await route53
      .changeRecordSets(zone, [
        { action: "CREATE", record: { name: "new.logs.internal", type: "A", ttl: 10, values: ["10.9.9.9"] } },
        records[0]!,
      ])
      .catch((e: unknown) => e);
    expect(classifyAwsError("route53", "ChangeResourceRecordSets", again).errorClass).toBe("conflict");
    expect((await route53.listRecordSets(zone, "new.logs.internal")).length).toBe(0);

    // A DELETE must match the record exactly.
    const mismatch = await route53
      .changeRecordSets(zone, [
        { action: "DELETE", record: { name: "r1.logs.internal", type: "A", ttl: 60, values: ["10.0.0.1"] } },
      ])
      .catch((e: unknown) => e);
    expect(String(mismatch)).toMatch(/do not match the current values/);
    await route53.changeRecordSets(zone, [{ action: "DELETE", record: records[1]!.record }]);
    expect(await route53.listRecordSets(zone, "r1.logs.internal")).toEqual([]);
  });

  it("lists an Auto Scaling group's instances and their addresses through the lazily loaded EC2 client", async () => {
    const { sdk, clients, counter } = build();
    sdk.fake.addGroup("log-asg", 3);
    const api = new AwsAutoScalingApi(clients);
    const group = await api.describeGroup("log-asg");
    expect(group?.instances).toHaveLength(3);
    const ips = await api.privateIps("log-asg", group?.instances.map((i) => i.instanceId) ?? []);
    expect(ips.size).toBe(3);
    expect(counter.count("ec2", "DescribeInstances")).toBe(1);
    expect(counter.count("autoscaling", "DescribeAutoScalingGroups")).toBe(1);
  });
});
