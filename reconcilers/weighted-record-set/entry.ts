import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { ecsTaskWatchLister } from "../ecs-tasks/ecs-task-watch-lister.ts";
import { autoScalingWatchLister } from "./auto-scaling-watch-lister.ts";
import { weightedRecordSetStatements } from "./iam.ts";
import { weightedRecordSetKind } from "./kind.ts";
import { createWeightedRecordSetReconciler } from "./reconciler.ts";

export const weightedRecordSetEntry = defineKindEntry({
  definition: weightedRecordSetKind,
  reconciler: (parts) => createWeightedRecordSetReconciler(parts.clients),
  sweeps: true,
  iam: weightedRecordSetStatements,
  watchListers: (parts) => [parts.shared(ecsTaskWatchLister), parts.shared(autoScalingWatchLister)],
});
