import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { weightedRecordSetStatements } from "./iam.ts";
import { weightedRecordSetKind } from "./kind.ts";

export const weightedRecordSetEntry = defineKindEntry({
  definition: weightedRecordSetKind,
  load: async () => {
    const [
      { createWeightedRecordSetReconciler },
      { Route53Fence },
      { ecsTaskWatchLister },
      { autoScalingWatchLister },
    ] = await Promise.all([
      import("./reconciler.ts"),
      import("./route53-fence.ts"),
      import("../ecs-tasks/ecs-task-watch-lister.ts"),
      import("./auto-scaling-watch-lister.ts"),
    ]);
    return {
      reconciler: (parts) =>
        createWeightedRecordSetReconciler(parts.clients, {
          // With leader election every change batch carries the lease's fence: Route 53 itself refuses a stale
          // leader's.
          fence:
            parts.leaderElection === undefined
              ? undefined
              : new Route53Fence({
                  resourceName: parts.leaderElection.resourceName,
                  term: () => parts.leaderElection?.term(),
                }),
        }),
      watchListers: (parts) => [parts.shared(ecsTaskWatchLister), parts.shared(autoScalingWatchLister)],
    };
  },
  sweeps: true,
  iam: weightedRecordSetStatements,
});
