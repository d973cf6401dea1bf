import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateServiceCommand, ECSClient, ListServicesCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { inspectCommand, readCluster } from "../../cmd/commands/inspect.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import { buildInspectReport, formatInspectText, type InspectReport } from "../../cmd/inspect-report.ts";
import { AwsCallCounter, createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { freePort } from "../free-port.ts";
import { AwsClusterInventory, type ClusterInventoryApi } from "../../cmd/cluster-inventory.ts";
import { fluentdCloudMapSpecs, startEmulator } from "./harness.ts";
import { captureOutput } from "../captured-output.ts";

const REGION = "us-east-1";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
const temp = mkdtempSync(join(tmpdir(), "inspect-it-"));

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 2);
  await scene.taskDefinition("fluentd", "awsvpc", [
    { name: "fluentd", image: "fluent/fluentd:v1.16-1", memory: 256 },
  ]);
  await scene.taskDefinition("log-batch", "bridge", [
    { name: "batch", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch:2026.11.30", memory: 256 },
    { name: "fluentd", image: "fluentd", memory: 128 },
  ]);
  const awsvpc = {
    launchType: "EC2" as const,
    networkConfiguration: {
      awsvpcConfiguration: { subnets: [scene.subnetId], securityGroups: [scene.securityGroupId] },
    },
  };
  await clients.ecs.send(
    new CreateServiceCommand({
      cluster: "logs",
      serviceName: "fluentd",
      taskDefinition: "fluentd",
      desiredCount: 3,
      serviceRegistries: [
        { registryArn: `arn:aws:servicediscovery:${REGION}:123456789012:service/srv-4x5vz2` },
      ],
      ...awsvpc,
    }),
  );
  await clients.ecs.send(
    new CreateServiceCommand({
      cluster: "logs",
      serviceName: "log-batch",
      taskDefinition: "log-batch",
      desiredCount: 1,
      launchType: "EC2",
    }),
  );
  // Enough services for several ListServices pages and DescribeServices batches.
  for (let i = 0; i < 10; i++) {
    await clients.ecs.send(
      new CreateServiceCommand({
        cluster: "logs",
        serviceName: `app-${String(i).padStart(2, "0")}`,
        taskDefinition: "fluentd",
        desiredCount: 1,
        ...awsvpc,
      }),
    );
  }
  writeFileSync(join(temp, "specs.yaml"), fluentdCloudMapSpecs(scene.vpcId));
  writeFileSync(
    join(temp, "sidecar.yaml"),
    `apiVersion: ecs-log-operator/v1alpha1
kind: SidecarVolume
metadata: { name: log-batch }
spec:
  family: log-batch
  source: { container: fluentd, volume: fluentd-log, path: /fluentd/log }
  consumers: [{ container: batch }]
`,
  );
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  rmSync(temp, { recursive: true, force: true });
});

describe("inspect against the emulator", () => {
  it("lists every service with its counts, images and tags, network mode, registries and managing specs", async () => {
    const io = captureOutput();
    const code = await inspectCommand(
      ["logs", "--specs", temp, "-o", "json", "--endpoint-url", moto.endpoint, "--region", REGION],
      io,
    );
    expect([code, io.stderr]).toEqual([0, ""]);
    const report = JSON.parse(io.stdout) as InspectReport;
    expect(report.cluster).toMatchObject({ name: "logs", status: "ACTIVE", containerInstances: 2 });
    expect(report.services.map((s) => s.name)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `app-${String(i).padStart(2, "0")}`),
      "fluentd",
      "log-batch",
    ]);
    const fluentd = report.services.find((s) => s.name === "fluentd");
    expect(fluentd).toMatchObject({
      desired: 3,
      networkMode: "awsvpc",
      containers: [{ name: "fluentd", image: "fluent/fluentd:v1.16-1", tag: "v1.16-1" }],
      serviceRegistries: [`arn:aws:servicediscovery:${REGION}:123456789012:service/srv-4x5vz2`],
      subnets: [scene.subnetId],
      managedBy: ["CloudMapService/fluentd"],
      // The emulator reports no task of a service running (its services start none), and no events.
      events: [],
    });
    expect(fluentd?.health.degraded).toBe(true);
    expect(report.services.find((s) => s.name === "log-batch")).toMatchObject({
      networkMode: "bridge",
      containers: [
        { name: "batch", tag: "2026.11.30" },
        { name: "fluentd", tag: "latest" },
      ],
      managedBy: ["SidecarVolume/log-batch"],
    });
    expect(report.services.find((s) => s.name === "app-03")?.managedBy).toEqual([]);
  });

  it("pages ListServices, describes ten services a call and each task definition once", async () => {
    // moto answers ListServices in one page whatever maxResults says. The stand-in below forwards every call to the
    // emulator and only cuts ListServices' answer into pages of maxResults with a nextToken, as ECS does.
    const counter = new AwsCallCounter();
    const counted = createAwsClients({ endpoint: moto.endpoint, region: REGION, observer: counter });
    const pages: (string | undefined)[] = [];
    class PagingEcs extends ECSClient {
      override send(command: unknown, options?: unknown): Promise<never> {
        return (async (): Promise<unknown> => {
          if (!(command instanceof ListServicesCommand)) {
            return (counted.ecs.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
          }
          const all =
            (await counted.ecs.send(new ListServicesCommand({ cluster: command.input.cluster })))
              .serviceArns ?? [];
          const start = Number(command.input.nextToken ?? "0");
          const size = command.input.maxResults ?? 10;
          pages.push(command.input.nextToken);
          return {
            serviceArns: all.slice(start, start + size),
            nextToken: start + size < all.length ? String(start + size) : undefined,
          };
        })() as Promise<never>;
      }
    }
    const paging = new PagingEcs({ region: REGION });
    try {
      const observed = await readCluster(
        new AwsClusterInventory({ ecs: paging }, { pageSize: 5 }),
        "logs",
        AbortSignal.timeout(30_000),
      );
      expect(observed.services.map((s) => s.name).sort()).toHaveLength(12);
      expect(pages).toEqual([undefined, "5", "10"]);
      expect(counter.count("ecs", "DescribeServices")).toBe(2);
      expect(counter.count("ecs", "DescribeTaskDefinition")).toBe(2);
      expect(counter.writes()).toEqual([]);
    } finally {
      paging.destroy();
      counted.destroy();
    }
  });

  it("prints the table with the latest events (events from an in-process stand-in: the emulator has none)", async () => {
    // moto's DescribeServices has no service events. Only they are added here, over the emulator's real answers.
    const real = new AwsClusterInventory(clients);
    const withEvents: ClusterInventoryApi = {
      ...Object.fromEntries(
        (
          [
            "describeCluster",
            "listServiceArns",
            "describeTaskDefinition",
            "listTaskArns",
            "describeTasks",
          ] as const
        ).map((m) => [m, real[m].bind(real)]),
      ),
      describeServices: async (cluster, names, signal) =>
        (await real.describeServices(cluster, names, signal)).map((s) =>
          s.name !== "fluentd"
            ? s
            : {
                ...s,
                runningCount: 2,
                pendingCount: 0,
                events: [
                  {
                    id: "e2",
                    createdAt: "2026-12-01T11:19:00.000Z",
                    message:
                      "(service fluentd) was unable to place a task because no container instance met all of its " +
                      'requirements. The closest matching (container-instance 5f1c4d3e) encountered error "RESOURCE:ENI".',
                  },
                  {
                    id: "e1",
                    createdAt: "2026-12-01T09:00:00.000Z",
                    message: "(service fluentd) has reached a steady state.",
                  },
                ],
              },
        ),
    } as ClusterInventoryApi;
    const observed = await readCluster(withEvents, "logs", AbortSignal.timeout(30_000));
    const text = formatInspectText(
      buildInspectReport({
        ...observed,
        specs: [],
        specDir: null,
        now: Date.parse("2026-12-01T12:00:00Z"),
        events: 3,
      }),
    );
    expect(text).toMatch(
      /^fluentd\s+3\s+2\s+0\s+NoFreeEni\s+fluentd:1\s+fluentd:v1\.16-1\s+awsvpc\s+srv-4x5vz2/m,
    );
    expect(text).toContain("41m   (service fluentd) was unable to place a task");
    expect(text).toContain("=> no container instance has a free network interface (RESOURCE:ENI)");
    expect(text).toContain("Pass --specs DIR to see which specs manage each service.");
  });

  it("says so when the cluster does not exist, or ECS cannot be reached", async () => {
    const missing = captureOutput();
    expect(
      await main(["inspect", "nope", "--endpoint-url", moto.endpoint, "--region", REGION], missing),
    ).toBe(1);
    expect(missing.stderr).toBe(
      'ecs-log-operator inspect: ECS has no cluster "nope" in this region (DescribeClusters: MISSING); check the name and AWS_REGION\n',
    );
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = captureOutput();
    expect(await main(["inspect", "logs", "--endpoint-url", closed, "--region", REGION], unreachable)).toBe(
      1,
    );
    expect(unreachable.stderr).toMatch(
      new RegExp(
        `^ecs-log-operator inspect: cannot reach ECS at ${closed} \\(.*ECONNREFUSED.*\\): check the network, AWS_REGION and AWS_ENDPOINT_URL\\n$`,
      ),
    );
  });

  it("has --help with examples", async () => {
    const io = captureOutput();
    expect(await main(["inspect", "--help"], io)).toBe(0);
    expect(io.stdout).toContain("npx ecs-log-operator inspect logs --specs");
  });
});
