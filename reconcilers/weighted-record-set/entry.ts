import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { ecsTaskWatchLister } from "../ecs-tasks/ecs-task-watch-lister.ts";
import { autoScalingWatchLister } from "./auto-scaling-watch-lister.ts";
import { weightedRecordSetStatements } from "./iam.ts";
import { weightedRecordSetKind } from "./kind.ts";
import { createWeightedRecordSetReconciler } from "./reconciler.ts";
import { Route53Fence } from "./route53-fence.ts";

export const weightedRecordSetEntry = defineKindEntry({
  definition: weightedRecordSetKind,
  reconciler: (parts) =>
    createWeightedRecordSetReconciler(parts.clients, {
      // With leader election every change batch carries the lease's fence: Route 53 itself refuses a stale leader's.
      fence:
        parts.leaderElection === undefined
          ? undefined
          : new Route53Fence({
              resourceName: parts.leaderElection.resourceName,
              term: () => parts.leaderElection?.term(),
            }),
    }),
  sweeps: true,
  iam: weightedRecordSetStatements,
  watchListers: (parts) => [parts.shared(ecsTaskWatchLister), parts.shared(autoScalingWatchLister)],
});
