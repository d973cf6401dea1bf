import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { watchKeysOfEvent } from "../events-queue.ts";
import { parseEcsEvent } from "./ecs-events.ts";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, "../../test/fixtures/eventbridge", `${name}.json`), "utf8"),
  ) as Record<string, unknown>;

describe("parseEcsEvent", () => {
  it("reads an ECS Service Action placement failure as EventBridge delivers it", () => {
    const event = fixture("service-action-placement-failure");
    expect(parseEcsEvent(event)).toEqual({
      type: "service-action",
      cluster: "logs",
      service: "fluentd",
      event: expect.objectContaining({
        id: "ddca6449-b258-46c0-8653-e0e3a6d0468b",
        createdAt: "2026-12-01T11:59:29.087Z",
        message: "ERROR SERVICE_TASK_PLACEMENT_FAILURE: RESOURCE:ENI",
        source: "eventbridge",
        kind: "placement-failure",
        reason: "NoFreeEni",
      }),
    });
    // The same event wakes the specs that watch the service.
    expect(watchKeysOfEvent(event)).toEqual(["ecs:logs/service:fluentd"]);
  });

  it("reads a steady state, a failed deployment and a configuration failure", () => {
    expect(parseEcsEvent(fixture("service-action-steady-state"))).toMatchObject({
      type: "service-action",
      event: { kind: "steady-state", createdAt: "2026-12-01T12:05:22.695Z" },
    });
    const deployment = fixture("deployment-failed");
    expect(parseEcsEvent(deployment)).toMatchObject({
      type: "service-action",
      cluster: "app",
      service: "gaze-heatmap",
      event: {
        kind: "deployment-failed",
        reason: "DeploymentFailed",
        createdAt: "2026-12-01T11:40:00.000Z",
        message: "ERROR SERVICE_DEPLOYMENT_FAILED: ECS deployment circuit breaker: task failed to start.",
      },
    });
    expect(watchKeysOfEvent(deployment)).toEqual(["ecs:app/service:gaze-heatmap"]);
    const config = fixture("service-action-placement-failure");
    const detail = config.detail as Record<string, unknown>;
    config.detail = {
      ...detail,
      eventName: "SERVICE_TASK_CONFIGURATION_FAILURE",
      reason: "ECS was unable to assume the role",
    };
    expect(parseEcsEvent(config)).toMatchObject({
      event: {
        kind: "configuration-failure",
        reason: "TaskConfigurationFailed",
        explanation: expect.stringMatching(/unable to assume the role/),
      },
    });
  });

  it("reads a stopped task's stop code, reason, containers and address from an ECS Task State Change", () => {
    const signal = parseEcsEvent(fixture("task-stopped"));
    expect(signal).toEqual({
      type: "task-stopped",
      cluster: "logs",
      service: "fluentd",
      at: "2026-12-01T11:58:01.880Z",
      task: {
        taskArn: "arn:aws:ecs:ap-northeast-1:111122223333:task/logs/c13b4cb40f1f4fe4a2971f76ae5a47ad",
        lastStatus: "STOPPED",
        desiredStatus: "STOPPED",
        group: "service:fluentd",
        taskDefinitionArn: "arn:aws:ecs:ap-northeast-1:111122223333:task-definition/fluentd:7",
        address: "10.0.1.139",
        startedAt: "2026-12-01T11:40:58.103Z",
        stoppedAt: "2026-12-01T11:58:01.880Z",
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        containers: [
          {
            name: "fluentd",
            lastStatus: "STOPPED",
            exitCode: 137,
            reason: "OutOfMemoryError: Container killed due to memory usage",
          },
        ],
      },
    });
  });

  it.each([
    ["a RUNNING task", { lastStatus: "RUNNING", desiredStatus: "RUNNING" }],
    ["a task being drained", { lastStatus: "RUNNING", desiredStatus: "STOPPED" }],
  ])("%s is no signal", (_name, status) => {
    const event = fixture("task-stopped");
    event.detail = { ...(event.detail as Record<string, unknown>), ...status };
    expect(parseEcsEvent(event)).toBeUndefined();
  });

  it.each([
    ["another source", { ...fixture("service-action-placement-failure"), source: "aws.ec2" }],
    [
      "another detail type",
      {
        ...fixture("service-action-placement-failure"),
        "detail-type": "ECS Container Instance State Change",
      },
    ],
    ["no service in resources", { ...fixture("service-action-placement-failure"), resources: [] }],
    [
      "no event name",
      {
        ...fixture("service-action-placement-failure"),
        detail: { clusterArn: "arn:aws:ecs:r:1:cluster/logs" },
      },
    ],
    ["not an object", "SERVICE_TASK_PLACEMENT_FAILURE"],
    ["no detail", { source: "aws.ecs", "detail-type": "ECS Service Action" }],
  ])("%s is no signal", (_name, event) => {
    expect(parseEcsEvent(event)).toBeUndefined();
  });
});
