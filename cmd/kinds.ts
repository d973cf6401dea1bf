import type { AwsClients } from "../controllers/aws/clients.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import type { KindDefinition } from "../controllers/spec/document.ts";

/** Every kind the operator knows, in the order the reference lists them. */
export function allKinds(): KindDefinition[] {
  return [
    // kind: CloudMapNamespace
    // kind: CloudMapService
    // kind: WeightedRecordSet
    // kind: LogRouter
    // kind: SidecarVolume
  ];
}

export interface ReconcilerDeps {
  readonly clients: AwsClients;
  /** `--environment`, for kinds with overlays. */
  readonly environment?: string | undefined;
}

/** The composition root for reconcilers: every kind's AWS adapter is built here, once. */
export function buildReconcilers(_deps: ReconcilerDeps): Reconciler[] {
  return [
    // reconciler: CloudMapNamespace
    // reconciler: CloudMapService
    // reconciler: WeightedRecordSet
    // reconciler: LogRouter + SidecarVolume (task definitions)
  ];
}
