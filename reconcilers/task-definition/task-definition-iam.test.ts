import { describe, expect, it } from "vitest";
import type { IamContext } from "../../controllers/iam.ts";
import { taskDefinitionStatements } from "./task-definition-iam.ts";

const ctx = (over: Partial<IamContext> = {}): IamContext => ({
  account: "123456789012",
  region: "eu-west-1",
  allowPrune: false,
  sweeping: true,
  ...over,
});

describe("taskDefinitionStatements", () => {
  it("grants the sweep's listing with no spec, and no write", () => {
    expect(taskDefinitionStatements([], [], ctx())).toEqual([
      {
        Sid: "TaskDefinitionsFindOwn",
        Effect: "Allow",
        Action: ["ecs:DescribeTaskDefinition", "tag:GetResources"],
        Resource: "*",
      },
    ]);
    expect(taskDefinitionStatements([], [], ctx({ sweeping: false }))).toEqual([]);
  });

  it("narrows tagging and rollouts to the specs' families and services", () => {
    const out = taskDefinitionStatements(["api"], [{ cluster: "app", service: "api" }], ctx());
    expect(out.find((s) => s.Sid === "TaskDefinitionsTagOnRegister")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:*",
    ]);
    expect(out.find((s) => s.Sid === "RolloutServices")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:service/app/api",
    ]);
  });

  it("with --allow-prune, grants removing patches from any family and rolling out any service", () => {
    const out = taskDefinitionStatements([], [], ctx({ allowPrune: true }));
    expect(out.map((s) => s.Sid)).toEqual([
      "TaskDefinitionsFindOwn",
      "TaskDefinitionsReadAndRegister",
      "TaskDefinitionsTagOnRegister",
      "TaskDefinitionsPassRolesToEcsTasks",
      "RolloutServices",
    ]);
    expect(out.find((s) => s.Sid === "TaskDefinitionsTagOnRegister")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:task-definition/*:*",
    ]);
    expect(out.find((s) => s.Sid === "RolloutServices")?.Resource).toEqual([
      "arn:aws:ecs:eu-west-1:123456789012:service/*",
    ]);
  });
});
