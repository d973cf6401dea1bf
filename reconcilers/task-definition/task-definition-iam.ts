import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";

/**
 * What the engine calls for the families its kinds patch: the latest revision, a new one (tagged), and the rollout of
 * services to it. Each patching kind contributes its families and services under these Sids.
 */
export function taskDefinitionStatements(
  families: readonly string[],
  rollouts: readonly { readonly cluster: string; readonly service: string }[],
  ctx: IamContext,
): PolicyStatement[] {
  if (families.length === 0) return [];
  const out: PolicyStatement[] = [
    {
      Sid: "TaskDefinitionsReadAndRegister",
      Effect: "Allow",
      // Neither action accepts a resource ARN: AWS evaluates them against "*".
      Action: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
      Resource: "*",
    },
    {
      Sid: "TaskDefinitionsTagOnRegister",
      Effect: "Allow",
      Action: ["ecs:TagResource"],
      Resource: sortedUnique(families).map((f) => arnOf(ctx, "ecs", `task-definition/${f}:*`)),
      Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    },
    {
      // A revision keeps the family's task and execution roles; registering it passes them to ECS again.
      Sid: "TaskDefinitionsPassRolesToEcsTasks",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: `arn:aws:iam::${ctx.account}:role/*`,
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
  ];
  const services = sortedUnique(rollouts.map((s) => `${s.cluster}/${s.service}`));
  if (services.length > 0) {
    out.push({
      Sid: "RolloutServices",
      Effect: "Allow",
      Action: ["ecs:DescribeServices", "ecs:UpdateService"],
      Resource: services.map((s) => arnOf(ctx, "ecs", `service/${s}`)),
    });
  }
  return out;
}
