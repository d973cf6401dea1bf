import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { ecsTaskWatchLister } from "../ecs-tasks/ecs-task-watch-lister.ts";
import { cloudMapServiceStatements } from "./cloud-map-iam.ts";
import { cloudMapReconcilers } from "./cloud-map-reconcilers.ts";
import { CloudMapServiceKind } from "./service-kind.ts";

export const cloudMapServiceEntry = defineKindEntry({
  definition: CloudMapServiceKind,
  reconciler: (parts) => parts.shared(cloudMapReconcilers)[1],
  sweeps: true,
  iam: cloudMapServiceStatements,
  watchListers: (parts) => [parts.shared(ecsTaskWatchLister)],
});
