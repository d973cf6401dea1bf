import type { KindDefinition } from "../controllers/spec/document.ts";
import { weightedRecordSetKind } from "../reconcilers/weighted-record-set/kind.ts";
import { CloudMapNamespaceKind } from "../reconcilers/cloud-map/namespace-kind.ts";
import { CloudMapServiceKind } from "../reconcilers/cloud-map/service-kind.ts";
import { LogRouterKind } from "../reconcilers/log-router/log-router-kind.ts";
import { SidecarVolumeKind } from "../reconcilers/sidecar-volume/sidecar-volume-kind.ts";

// The offline commands (validate, schema, render --from) import this module: it must reach no AWS SDK client.
// The reconcilers, which do, are composed in ./reconcilers.ts (test: cmd/offline-imports.test.ts).

/** Every kind the operator knows, in the order the reference lists them. */
export function allKinds(): KindDefinition[] {
  return [
    CloudMapNamespaceKind,
    CloudMapServiceKind,
    weightedRecordSetKind,
    LogRouterKind,
    SidecarVolumeKind,
  ];
}
