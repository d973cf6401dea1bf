import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";
import type { TaskSelector } from "./ecs-task-api.ts";

/**
 * What following the tasks of these services and families takes: listing and describing the tasks of their clusters,
 * as `AwsEcsTaskApi` and the informers do (running and, for the services' health, recently stopped ones), the private
 * addresses of the container instances bridge and host networking tasks run on (unless `privateAddresses` is false:
 * a watcher that registers no address), and DescribeServices on each service,
 * which `run` reads every interval to tell why the service is short of tasks (controllers/service-health/). Several
 * kinds follow ECS tasks; each contributes what its specs watch under these Sids.
 */
export function ecsTaskStatements(
  watched: readonly TaskSelector[],
  ctx: IamContext,
  options: { readonly privateAddresses?: boolean } = {},
): PolicyStatement[] {
  const names = sortedUnique(watched.map((w) => w.cluster));
  if (names.length === 0) return [];
  const services = sortedUnique(
    watched.flatMap((w) => (w.service !== undefined ? [`${w.cluster}/${w.service}`] : [])),
  );
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
    ...(options.privateAddresses !== false ? [privateAddressStatement()] : []),
    ...(services.length > 0
      ? [
          {
            Sid: "DescribeWatchedServices",
            Effect: "Allow" as const,
            Action: ["ecs:DescribeServices"],
            Resource: services.map((s) => arnOf(ctx, "ecs", `service/${s}`)),
          },
        ]
      : []),
  ];
}

/** A task's container instance's or an Auto Scaling instance's private address (`describePrivateIps`). */
export function privateAddressStatement(): PolicyStatement {
  return {
    Sid: "DescribeInstancesForTaskAddresses",
    Effect: "Allow",
    Action: ["ec2:DescribeInstances"],
    Resource: "*",
  };
}
