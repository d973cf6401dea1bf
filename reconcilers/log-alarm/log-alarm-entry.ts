import { defineKindEntry } from "../../controllers/kind-entry.ts";
import { logAlarmIamStatements } from "./iam.ts";
import { LogAlarmKind } from "./log-alarm-kind.ts";

/** LogAlarm watches nothing: a log group is no watched object, the resync is enough. */
export const logAlarmEntry = defineKindEntry({
  definition: LogAlarmKind,
  load: async () => {
    const [{ logAlarmClients }, { createLogAlarmReconciler }] = await Promise.all([
      import("./log-alarm-clients.ts"),
      import("./reconciler.ts"),
    ]);
    return { reconciler: (parts) => createLogAlarmReconciler(parts.shared(logAlarmClients)) };
  },
  sweeps: true,
  iam: logAlarmIamStatements,
});
