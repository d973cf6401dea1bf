import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { cloudMapServiceStatements } from "./cloud-map-iam.ts";
import { CloudMapServiceKind } from "./service-kind.ts";

export const cloudMapServiceEntry = defineKindEntry({
  definition: CloudMapServiceKind,
  load: async () => {
    const [{ cloudMapReconcilers }, { ecsTaskWatchLister }] = await Promise.all([
      import("./cloud-map-reconcilers.ts"),
      import("../ecs-tasks/ecs-task-watch-lister.ts"),
    ]);
    return {
      reconciler: (parts) => parts.shared(cloudMapReconcilers)[1],
      watchListers: (parts) => [parts.shared(ecsTaskWatchLister)],
    };
  },
  sweeps: true,
  iam: cloudMapServiceStatements,
});
