import type { AwsClients } from "../controllers/aws/clients.ts";
import { WatchListers, type WatchLister } from "../controllers/informers.ts";
import { SharedKindParts, type KindEntry, type KindParts } from "../controllers/kind-entry.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import type { KindDefinition } from "../controllers/spec/document.ts";
import { cloudMapNamespaceEntry } from "../reconcilers/cloud-map/namespace-entry.ts";
import { cloudMapServiceEntry } from "../reconcilers/cloud-map/service-entry.ts";
import { logAlarmEntry } from "../reconcilers/log-alarm/log-alarm-entry.ts";
import { logRouterEntry } from "../reconcilers/log-router/log-router-entry.ts";
import { sidecarVolumeEntry } from "../reconcilers/sidecar-volume/sidecar-volume-entry.ts";
import type { TaskDefinitionPatch } from "../reconcilers/task-definition/task-definition-patch.ts";
import { weightedRecordSetEntry } from "../reconcilers/weighted-record-set/entry.ts";

/**
 * The kind registry: every kind the operator knows, one line each, in the order the reference lists them. Each
 * folder's entry (`KindEntry`) says all the rest; a kind is added here and nowhere else (a test fails for a kind
 * defined under reconcilers/ and left out).
 */
export const KINDS = [
  cloudMapNamespaceEntry,
  cloudMapServiceEntry,
  weightedRecordSetEntry,
  logRouterEntry,
  sidecarVolumeEntry,
  logAlarmEntry,
] as const satisfies readonly KindEntry[];

/** What the loader, the reference and the JSON Schema know about each kind. */
export function allKinds(): KindDefinition[] {
  return KINDS.map((e) => e.definition);
}

/** The kinds whose reconcilers sweep AWS for orphans on every pass. */
export function sweepingKinds(): string[] {
  return KINDS.filter((e) => e.sweeps).map((e) => e.definition.kind);
}

/** The patches the task-definition engine applies, for `render`, which runs the engine without reconcilers. */
export function taskDefinitionPatches(): TaskDefinitionPatch[] {
  return KINDS.flatMap((e) =>
    "taskDefinitionPatch" in e ? [e.taskDefinitionPatch as TaskDefinitionPatch] : [],
  );
}

/** What the kinds are built from, once per process: the clients, and the adapters and engines kinds share. */
export function kindParts(clients: AwsClients): KindParts {
  return new SharedKindParts(clients);
}

/** Every kind's reconciler, its AWS adapters built once. */
export function buildReconcilers(parts: KindParts): Reconciler[] {
  return KINDS.map((e) => e.reconciler(parts));
}

/** What the informers list with: every kind's listers, each shared one once. */
export function buildWatchLister(parts: KindParts): WatchLister {
  return new WatchListers(KINDS.flatMap((e) => e.watchListers?.(parts) ?? []));
}
