import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { logAlarmIamStatements } from "./iam.ts";
import { logAlarmClients } from "./log-alarm-clients.ts";
import { LogAlarmKind } from "./log-alarm-kind.ts";
import { createLogAlarmReconciler } from "./reconciler.ts";

/** LogAlarm watches nothing: a log group is no watched object, the resync is enough. */
export const logAlarmEntry = defineKindEntry({
  definition: LogAlarmKind,
  reconciler: (parts) => createLogAlarmReconciler(parts.shared(logAlarmClients)),
  sweeps: true,
  iam: logAlarmIamStatements,
});
