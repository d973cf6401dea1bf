import type { AwsClients } from "../controllers/aws/clients.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import type { KindDefinition } from "../controllers/spec/document.ts";
import { weightedRecordSetKind } from "../reconcilers/weighted-record-set/kind.ts";
import { createWeightedRecordSetReconciler } from "../reconcilers/weighted-record-set/reconciler.ts";
import { cloudMapReconcilers } from "../reconcilers/cloud-map/cloud-map-reconcilers.ts";
import { CloudMapNamespaceKind } from "../reconcilers/cloud-map/namespace-kind.ts";
import { CloudMapServiceKind } from "../reconcilers/cloud-map/service-kind.ts";
import { LogAlarmKind } from "../reconcilers/log-alarm/log-alarm-kind.ts";
import { createLogAlarmReconciler } from "../reconcilers/log-alarm/reconciler.ts";
import { LogRouterKind } from "../reconcilers/log-router/log-router-kind.ts";
import { SidecarVolumeKind } from "../reconcilers/sidecar-volume/sidecar-volume-kind.ts";
import { taskDefinitionReconcilers } from "../reconcilers/task-definition/task-definition-reconciler.ts";

/** Every kind the operator knows, in the order the reference lists them. */
export function allKinds(): KindDefinition[] {
  return [
    CloudMapNamespaceKind,
    CloudMapServiceKind,
    weightedRecordSetKind,
    LogRouterKind,
    SidecarVolumeKind,
    LogAlarmKind,
  ];
}

export interface ReconcilerDeps {
  readonly clients: AwsClients;
}

/** The composition root for reconcilers: every kind's AWS adapter is built here, once. */
export function buildReconcilers(deps: ReconcilerDeps): Reconciler[] {
  return [
    ...cloudMapReconcilers(deps.clients),
    createWeightedRecordSetReconciler(deps.clients),
    ...taskDefinitionReconcilers(deps.clients),
    createLogAlarmReconciler(deps.clients),
  ];
}
