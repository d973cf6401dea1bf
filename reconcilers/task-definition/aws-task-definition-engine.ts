import type { ECSClient } from "@aws-sdk/client-ecs";
import type { S3Client } from "@aws-sdk/client-s3";
import { AwsS3ConfigStore } from "./aws-s3-config-store.ts";
import { AwsTaskDefinitionApi } from "./aws-task-definition-api.ts";
import { sdkRegion, TaskDefinitionReconciler } from "./task-definition-reconciler.ts";

// Apart from TaskDefinitionReconciler's module, so that `render --from` runs the engine without loading the SDK
// clients these adapters import.

/**
 * The process's engine over ECS and S3, which every patching kind's entry asks for through `KindParts.shared`, so
 * that all of them plug into one engine.
 */
export function taskDefinitionEngine(clients: { ecs: ECSClient; s3: S3Client }): TaskDefinitionReconciler {
  return new TaskDefinitionReconciler({
    api: new AwsTaskDefinitionApi(clients),
    region: () => sdkRegion(clients.ecs),
    configStore: new AwsS3ConfigStore(clients),
  });
}
