import { describe, expect, it } from "vitest";
import type { ServiceDescription, TaskDefinitionSummary } from "../controllers/service-health/observation.ts";
import { expectGolden } from "../test/golden-file.ts";
import { buildInspectReport, formatInspectText, imageTag, managersOf } from "./inspect-report.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const at = (minutes: number): string => new Date(NOW - minutes * 60_000).toISOString();
const arn = (what: string): string => `arn:aws:ecs:ap-northeast-1:111122223333:${what}`;

function service(name: string, fields: Partial<ServiceDescription>): ServiceDescription {
  return {
    cluster: "logs",
    name,
    arn: arn(`service/logs/${name}`),
    status: "ACTIVE",
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    launchType: "EC2",
    taskDefinition: arn(`task-definition/${name}:3`),
    serviceRegistries: [],
    subnets: [],
    deployments: [],
    events: [],
    ...fields,
  };
}

const td = (family: string, networkMode: string, images: string[]): TaskDefinitionSummary => ({
  arn: arn(`task-definition/${family}:3`),
  family,
  revision: 3,
  networkMode,
  containers: images.map((image, i) => ({ name: i === 0 ? family : `sidecar-${i}`, image })),
});

const ENI =
  "(service fluentd) was unable to place a task because no container instance met all of its requirements. The " +
  'closest matching (container-instance 5f1c4d3e9a7b) encountered error "RESOURCE:ENI". For more information, see ' +
  "the Troubleshooting section.";

function report() {
  const services = [
    service("fluentd", {
      desiredCount: 3,
      serviceRegistries: [
        { registryArn: "arn:aws:servicediscovery:ap-northeast-1:111122223333:service/srv-4x5vz2" },
      ],
      subnets: ["subnet-0a1b2c3d"],
      events: [
        { id: "e3", createdAt: at(41), message: ENI },
        {
          id: "e2",
          createdAt: at(42),
          message: "(service fluentd) has stopped 1 running tasks: (task 9f3d6a7b).",
        },
        { id: "e1", createdAt: at(180), message: "(service fluentd) has reached a steady state." },
        {
          id: "e0",
          createdAt: at(400),
          message: "(service fluentd) has started 3 tasks: (task a) (task b) (task c).",
        },
      ],
    }),
    service("log-batch", { desiredCount: 1, runningCount: 1 }),
    service("api", { desiredCount: 0, runningCount: 0 }),
  ];
  const taskDefinitions = new Map([
    [services[0]?.taskDefinition ?? "", td("fluentd", "awsvpc", ["fluent/fluentd:v1.16-1"])],
    [
      services[1]?.taskDefinition ?? "",
      td("log-batch", "bridge", [
        "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batch@sha256:0f1e2d3c",
        "fluentd",
      ]),
    ],
  ]);
  return buildInspectReport({
    cluster: {
      name: "logs",
      arn: arn("cluster/logs"),
      status: "ACTIVE",
      activeServices: 3,
      runningTasks: 3,
      pendingTasks: 0,
      containerInstances: 2,
    },
    services,
    taskDefinitions,
    specs: [
      { resource: "CloudMapService/fluentd", watches: ["ecs:logs/service:fluentd"] },
      {
        resource: "WeightedRecordSet/fluentd",
        watches: ["ecs:arn:aws:ecs:ap-northeast-1:111122223333:cluster/logs/service:fluentd"],
      },
      { resource: "SidecarVolume/log-batch", watches: ["taskdef:log-batch"] },
      { resource: "WeightedRecordSet/log-asg", watches: ["asg:log-asg"] },
      { resource: "CloudMapService/other", watches: ["ecs:apps/service:fluentd"] },
    ],
    specDir: "specs/",
    now: NOW,
    events: 3,
  });
}

describe("inspect's report", () => {
  it("prints the cluster's services the same twice (golden)", () => {
    const first = formatInspectText(report());
    expect(formatInspectText(report())).toBe(first);
    expectGolden("inspect.txt", first);
  });

  it("says which specs manage each service, its health and its images", () => {
    const r = report();
    expect(r.services.map((s) => [s.name, s.managedBy, s.health.reason, s.networkMode])).toEqual([
      ["api", [], "Healthy", null],
      ["fluentd", ["CloudMapService/fluentd", "WeightedRecordSet/fluentd"], "NoFreeEni", "awsvpc"],
      ["log-batch", ["SidecarVolume/log-batch"], "Healthy", "bridge"],
    ]);
    expect(r.services[2]?.containers.map((c) => c.tag)).toEqual(["sha256:0f1e2d3c", "latest"]);
    expect(r.services[1]?.events).toHaveLength(3);
    expect(r.services[1]?.events[0]?.reason).toBe("NoFreeEni");
  });

  it.each([
    ["fluent/fluentd:v1.16-1", "v1.16-1"],
    ["localhost:5000/fluentd", "latest"],
    ["localhost:5000/fluentd:edge", "edge"],
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "stable"],
    ["repo/app@sha256:abc", "sha256:abc"],
  ])("the tag of %s is %s", (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });

  it("a family watch manages the services that run the family in that cluster only", () => {
    const specs = [{ resource: "LogRouter/gaze", watches: ["ecs:app/family:gaze-heatmap"] }];
    expect(managersOf("app", "web", "gaze-heatmap", specs)).toEqual(["LogRouter/gaze"]);
    expect(managersOf("logs", "web", "gaze-heatmap", specs)).toEqual([]);
    expect(managersOf("app", "web", undefined, specs)).toEqual([]);
  });
});
