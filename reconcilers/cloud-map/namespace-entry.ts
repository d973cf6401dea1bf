import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { cloudMapNamespaceStatements } from "./cloud-map-iam.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";

export const cloudMapNamespaceEntry = defineKindEntry({
  definition: CloudMapNamespaceKind,
  load: async () => {
    const { cloudMapReconcilers } = await import("./cloud-map-reconcilers.ts");
    // One adapter and namespace lookup for both Cloud Map kinds.
    return { reconciler: (parts) => parts.shared(cloudMapReconcilers)[0] };
  },
  sweeps: true,
  iam: cloudMapNamespaceStatements,
});
