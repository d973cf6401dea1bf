import { DescribeClustersCommand, paginateListServices } from "@aws-sdk/client-ecs";
import { awsCall } from "../controllers/aws/errors.ts";
import { clusterName } from "../controllers/informers.ts";
import { AwsEcsServiceApi } from "../controllers/service-health/aws-ecs-service-api.ts";
import type { EcsServiceApi } from "../controllers/service-health/ecs-service-api.ts";

/**
 * What `inspect` reads beyond the watched services: the cluster itself and every service in it. Only `inspect`
 * calls these, with the credentials of the person running it, so the operator's task role does not need
 * ecs:DescribeClusters or ecs:ListServices.
 */
export interface ClusterInventoryApi extends EcsServiceApi {
  /** DescribeClusters of one cluster; undefined when ECS reports it MISSING. */
  describeCluster(cluster: string, signal?: AbortSignal): Promise<ClusterSummary | undefined>;
  /** Every page of ListServices. */
  listServiceArns(cluster: string, signal?: AbortSignal): Promise<string[]>;
}

export interface ClusterSummary {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly activeServices: number;
  readonly runningTasks: number;
  readonly pendingTasks: number;
  readonly containerInstances: number;
}

export class AwsClusterInventory extends AwsEcsServiceApi implements ClusterInventoryApi {
  async describeCluster(cluster: string, signal?: AbortSignal): Promise<ClusterSummary | undefined> {
    const out = await awsCall("ecs", "DescribeClusters", () =>
      this.ecs.send(new DescribeClustersCommand({ clusters: [cluster] }), { abortSignal: signal }),
    );
    const c = out.clusters?.find((x) => x.clusterName === clusterName(cluster) || x.clusterArn === cluster);
    if (c === undefined) return undefined;
    return {
      name: c.clusterName ?? clusterName(cluster),
      arn: c.clusterArn ?? "",
      status: c.status ?? "UNKNOWN",
      activeServices: c.activeServicesCount ?? 0,
      runningTasks: c.runningTasksCount ?? 0,
      pendingTasks: c.pendingTasksCount ?? 0,
      containerInstances: c.registeredContainerInstancesCount ?? 0,
    };
  }

  listServiceArns(cluster: string, signal?: AbortSignal): Promise<string[]> {
    return awsCall("ecs", "ListServices", async () => {
      const arns: string[] = [];
      const pages = paginateListServices(
        { client: this.ecs, pageSize: this.pageSize },
        { cluster },
        { abortSignal: signal },
      );
      for await (const page of pages) arns.push(...(page.serviceArns ?? []));
      return arns;
    });
  }
}
