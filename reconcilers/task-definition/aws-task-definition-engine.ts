import type { AwsClients } from "../../controllers/aws/clients.ts";
import { AwsS3ConfigStore } from "./aws-s3-config-store.ts";
import { AwsTaggedRevisionsApi } from "./aws-tagged-revisions-api.ts";
import { AwsTaskDefinitionApi } from "./aws-task-definition-api.ts";
import { sdkRegion, TaskDefinitionReconciler } from "./task-definition-reconciler.ts";

// Apart from TaskDefinitionReconciler's module, so that `render --from` runs the engine without loading the SDK
// clients these adapters import.

/**
 * The process's engine over ECS and S3, which every patching kind's entry asks for through `KindParts.shared`, so
 * that all of them plug into one engine.
 */
export function taskDefinitionEngine(clients: AwsClients): TaskDefinitionReconciler {
  return new TaskDefinitionReconciler({
    api: new AwsTaskDefinitionApi(clients),
    region: () => sdkRegion(clients.ecs),
    configStore: new AwsS3ConfigStore(clients),
    tagged: new AwsTaggedRevisionsApi(clients),
  });
}
