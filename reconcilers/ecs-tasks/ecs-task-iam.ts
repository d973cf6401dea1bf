import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";

/**
 * Listing and describing the tasks of these clusters, as `AwsEcsTaskApi` and the informers do, and the private
 * addresses of the container instances bridge and host networking tasks run on. Several kinds follow ECS tasks; each
 * contributes its clusters under these Sids.
 */
export function ecsTaskStatements(clusters: readonly string[], ctx: IamContext): PolicyStatement[] {
  const names = sortedUnique(clusters);
  if (names.length === 0) return [];
  return [
    {
      Sid: "ListTasksOfWatchedClusters",
      Effect: "Allow",
      Action: ["ecs:ListTasks"],
      Resource: "*",
      Condition: { ArnLike: { "ecs:cluster": names.map((c) => arnOf(ctx, "ecs", `cluster/${c}`)) } },
    },
    {
      Sid: "DescribeTasksOfWatchedClusters",
      Effect: "Allow",
      Action: ["ecs:DescribeContainerInstances", "ecs:DescribeTasks"],
      Resource: sortedUnique(
        names.flatMap((c) => [
          arnOf(ctx, "ecs", `task/${c}/*`),
          arnOf(ctx, "ecs", `container-instance/${c}/*`),
        ]),
      ),
    },
    privateAddressStatement(),
  ];
}

/** A task's container instance's or an Auto Scaling instance's private address (`describePrivateIps`). */
export function privateAddressStatement(): PolicyStatement {
  return { Sid: "DescribeInstances", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" };
}
