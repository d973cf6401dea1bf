import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { cloudMapNamespaceStatements } from "./cloud-map-iam.ts";
import { cloudMapReconcilers } from "./cloud-map-reconcilers.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";

export const cloudMapNamespaceEntry = defineKindEntry({
  definition: CloudMapNamespaceKind,
  // One adapter and namespace lookup for both Cloud Map kinds.
  reconciler: (parts) => parts.shared(cloudMapReconcilers)[0],
  sweeps: true,
  iam: cloudMapNamespaceStatements,
});
