import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";

/**
 * What the engine calls for the families its kinds patch: the latest revision, a new one (tagged), and the rollout of
 * services to it; and for its sweep, the listing of this operator's revisions (tag:GetResources) on every pass.
 * Each patching kind contributes its families and services under these Sids.
 *
 * Removing the patch of a removed spec registers a revision of its family and rolls out the services its record
 * names. While the spec exists, its family and services are in the policy; a policy made from the specs after the
 * removal grants them only with `--allow-prune`, which grants every family and service.
 */
export function taskDefinitionStatements(
  families: readonly string[],
  rollouts: readonly { readonly cluster: string; readonly service: string }[],
  ctx: IamContext,
): PolicyStatement[] {
  const prune = ctx.allowPrune;
  const out: PolicyStatement[] = [];
  if (families.length > 0 || ctx.sweeping) {
    out.push({
      // Which revisions of a family are this operator's: the sweep's listing, and the base of a revision registered
      // onto the pipeline's. Neither action accepts a resource ARN: AWS evaluates them against "*".
      Sid: "TaskDefinitionsFindOwn",
      Effect: "Allow",
      Action: ["ecs:DescribeTaskDefinition", "tag:GetResources"],
      Resource: "*",
    });
  }
  if (families.length === 0 && !prune) return out;
  out.push(
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
      Resource: prune
        ? [arnOf(ctx, "ecs", "task-definition/*:*")]
        : sortedUnique(families).map((f) => arnOf(ctx, "ecs", `task-definition/${f}:*`)),
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
  );
  const services = prune
    ? [arnOf(ctx, "ecs", "service/*")]
    : sortedUnique(rollouts.map((s) => `${s.cluster}/${s.service}`)).map((s) =>
        arnOf(ctx, "ecs", `service/${s}`),
      );
  if (services.length > 0) {
    out.push({
      Sid: "RolloutServices",
      Effect: "Allow",
      Action: ["ecs:DescribeServices", "ecs:UpdateService"],
      Resource: services,
    });
  }
  return out;
}
