import { describe, expect, it } from "vitest";
import { watchKeysOfEvent } from "./events-queue.ts";

const envelope = (detailType: string, source: string, detail: Record<string, unknown>) => ({
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": detailType,
  source,
  account: "111122223333",
  time: "2026-11-23T10:00:00Z",
  region: "eu-west-1",
  resources: [],
  detail,
});

describe("watchKeysOfEvent", () => {
  it.each([
    [
      "an ECS service task",
      envelope("ECS Task State Change", "aws.ecs", {
        clusterArn: "arn:aws:ecs:eu-west-1:111122223333:cluster/logs",
        group: "service:fluentd",
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:111122223333:task-definition/fluentd:7",
        lastStatus: "RUNNING",
      }),
      ["ecs:logs/service:fluentd", "ecs:logs/family:fluentd"],
    ],
    [
      "a standalone task",
      envelope("ECS Task State Change", "aws.ecs", {
        clusterArn: "arn:aws:ecs:eu-west-1:111122223333:cluster/batch",
        group: "family:log-batch",
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:111122223333:task-definition/log-batch:2",
      }),
      ["ecs:batch/family:log-batch"],
    ],
    [
      "an instance-terminate lifecycle action",
      envelope("EC2 Instance-terminate Lifecycle Action", "aws.autoscaling", {
        LifecycleActionToken: "87654321-4321-4321-4321-210987654321",
        AutoScalingGroupName: "log-asg",
        LifecycleHookName: "drain-dns",
        EC2InstanceId: "i-1234567890abcdef0",
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
      }),
      ["asg:log-asg"],
    ],
    [
      "an Auto Scaling launch",
      envelope("EC2 Instance Launch Successful", "aws.autoscaling", { AutoScalingGroupName: "log-asg" }),
      ["asg:log-asg"],
    ],
    [
      "another source",
      envelope("EC2 Instance State-change Notification", "aws.ec2", { state: "running" }),
      [],
    ],
    ["no detail", { source: "aws.ecs" }, []],
    ["not an object", "hello", []],
  ])("%s", (_name, event, keys) => {
    expect(watchKeysOfEvent(event)).toEqual(keys);
  });
});
