import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { weightedRecordSetStatements } from "./iam.ts";
import { weightedRecordSetKind } from "./kind.ts";

export const weightedRecordSetEntry = defineKindEntry({
  definition: weightedRecordSetKind,
  load: async () => {
    const [{ createWeightedRecordSetReconciler }, { ecsTaskWatchLister }, { autoScalingWatchLister }] =
      await Promise.all([
        import("./reconciler.ts"),
        import("../ecs-tasks/ecs-task-watch-lister.ts"),
        import("./auto-scaling-watch-lister.ts"),
      ]);
    return {
      reconciler: (parts) => createWeightedRecordSetReconciler(parts.clients),
      watchListers: (parts) => [parts.shared(ecsTaskWatchLister), parts.shared(autoScalingWatchLister)],
    };
  },
  sweeps: true,
  iam: weightedRecordSetStatements,
});
