import type { ECSClient } from "@aws-sdk/client-ecs";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Reconciler } from "../../controllers/reconciler.ts";
import { LogRouterKind } from "../log-router/log-router-kind.ts";
import { SidecarVolumeKind } from "../sidecar-volume/sidecar-volume-kind.ts";
import { AwsS3ConfigStore } from "./aws-s3-config-store.ts";
import { AwsTaskDefinitionApi } from "./aws-task-definition-api.ts";
import { sdkRegion, TaskDefinitionReconciler } from "./task-definition-reconciler.ts";

// Apart from TaskDefinitionReconciler's module, so that `render --from` patches families without loading the
// SDK clients these adapters import.

/** The LogRouter and SidecarVolume reconcilers, sharing one family reconciler over ECS and S3. */
export function taskDefinitionReconcilers(clients: { ecs: ECSClient; s3: S3Client }): Reconciler[] {
  const families = new TaskDefinitionReconciler({
    api: new AwsTaskDefinitionApi(clients),
    region: () => sdkRegion(clients.ecs),
    configStore: new AwsS3ConfigStore(clients),
  });
  return [families.forKind(LogRouterKind.kind), families.forKind(SidecarVolumeKind.kind)];
}
