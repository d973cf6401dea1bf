import type { ECSClient } from "@aws-sdk/client-ecs";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { Route53Client } from "@aws-sdk/client-route-53";
import type { ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { AwsEcsTaskApi } from "../ecs-tasks/aws-ecs-task-api.ts";
import { AwsCloudMapApi } from "./aws-cloud-map-api.ts";
import { InstanceOperations } from "./instance-operations.ts";
import { NamespaceLookup } from "./namespace-lookup.ts";
import { CloudMapNamespaceReconciler } from "./namespace-reconciler.ts";
import { OperationWaiter } from "./operation-waiter.ts";
import { OrphanNamespaces } from "./orphan-namespaces.ts";
import { RequestTokens } from "./request-tokens.ts";
import { CloudMapServiceReconciler } from "./service-reconciler.ts";

/** Both Cloud Map reconcilers over one adapter, sharing what they learn about namespaces. */
export function cloudMapReconcilers(clients: {
  serviceDiscovery: ServiceDiscoveryClient;
  route53: Route53Client;
  ecs: ECSClient;
  ec2: () => Promise<EC2Client>;
}): [CloudMapNamespaceReconciler, CloudMapServiceReconciler] {
  const api = new AwsCloudMapApi(clients);
  const lookup = new NamespaceLookup(api);
  const operations = new OperationWaiter(api);
  const instances = new InstanceOperations(api);
  const orphans = new OrphanNamespaces(api, lookup);
  const tokens = new RequestTokens();
  return [
    new CloudMapNamespaceReconciler({ api, lookup, operations, instances, orphans, tokens }),
    new CloudMapServiceReconciler({
      api,
      tasks: new AwsEcsTaskApi(clients),
      lookup,
      operations,
      instances,
      orphans,
      tokens,
    }),
  ];
}
