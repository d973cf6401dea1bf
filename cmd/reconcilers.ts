import type { AwsClients } from "../controllers/aws/clients.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import { createWeightedRecordSetReconciler } from "../reconcilers/weighted-record-set/reconciler.ts";
import { cloudMapReconcilers } from "../reconcilers/cloud-map/cloud-map-reconcilers.ts";
import { taskDefinitionReconcilers } from "../reconcilers/task-definition/aws-task-definition-reconcilers.ts";

export interface ReconcilerDeps {
  readonly clients: AwsClients;
}

/**
 * The composition root for reconcilers: every kind's AWS adapter is built here, once. Apart from ./kinds.ts so
 * that the commands that only read specs do not load the SDK clients the adapters import.
 */
export function buildReconcilers(deps: ReconcilerDeps): Reconciler[] {
  return [
    ...cloudMapReconcilers(deps.clients),
    createWeightedRecordSetReconciler(deps.clients),
    ...taskDefinitionReconcilers(deps.clients),
  ];
}
