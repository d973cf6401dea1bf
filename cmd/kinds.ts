import type { AwsClients } from "../controllers/aws/clients.ts";
import { WatchListers, type WatchLister } from "../controllers/informers.ts";
import {
  SharedKindParts,
  type KindEntry,
  type KindParts,
  type LeaseTerms,
} from "../controllers/kind-entry.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import type { KindDefinition } from "../controllers/spec/document.ts";
import { cloudMapNamespaceEntry } from "../reconcilers/cloud-map/namespace-entry.ts";
import { cloudMapServiceEntry } from "../reconcilers/cloud-map/service-entry.ts";
import { logAlarmEntry } from "../reconcilers/log-alarm/log-alarm-entry.ts";
import { logRouterEntry } from "../reconcilers/log-router/log-router-entry.ts";
import { sidecarVolumeEntry } from "../reconcilers/sidecar-volume/sidecar-volume-entry.ts";
import type { TaskDefinitionPatch } from "../reconcilers/task-definition/task-definition-patch.ts";
import { weightedRecordSetEntry } from "../reconcilers/weighted-record-set/entry.ts";

// The offline commands (validate, schema, render --from, iam-policy, test-pattern) import this module: it reaches
// no reconciler, adapter or SDK client. Each entry's `load` imports those when a command builds reconcilers (tests:
// cmd/kinds.test.ts, test/integration/offline-commands.test.ts).

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

/**
 * What the kinds are built from, once per process: the clients, the adapters and engines kinds share, and with leader
 * election the lease's terms.
 */
export function kindParts(clients: AwsClients, leaderElection?: LeaseTerms): KindParts {
  return new SharedKindParts(clients, { leaderElection });
}

/** Every kind's reconciler, its AWS adapters loaded and built once. */
export async function buildReconcilers(parts: KindParts): Promise<Reconciler[]> {
  const runtimes = await Promise.all(KINDS.map((e) => e.load()));
  return runtimes.map((r) => r.reconciler(parts));
}

/** What the informers list with: every kind's listers, each shared one once. */
export async function buildWatchLister(parts: KindParts): Promise<WatchLister> {
  const runtimes = await Promise.all(KINDS.map((e) => e.load()));
  return new WatchListers(runtimes.flatMap((r) => r.watchListers?.(parts) ?? []));
}
