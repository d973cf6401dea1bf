import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { AwsClients } from "../../controllers/aws/clients.ts";

/** The SDK clients of the two services only LogAlarm calls. */
export interface LogAlarmClients {
  logs(): Promise<CloudWatchLogsClient>;
  cloudWatch(): Promise<CloudWatchClient>;
}

/**
 * CloudWatch Logs (metric filters) and CloudWatch (alarms), built by `AwsClients.client` (configured, counted and
 * destroyed as the others are) on first use: the SDK modules load only then, so the offline commands that list this
 * kind (`validate`, `test-pattern`) and a process with no LogAlarm spec never load them. A module-level function, so
 * that `KindParts.shared` gives the process one pair.
 */
export function logAlarmClients(clients: AwsClients): LogAlarmClients {
  let logs: Promise<CloudWatchLogsClient> | undefined;
  let cloudWatch: Promise<CloudWatchClient> | undefined;
  return {
    logs: () =>
      (logs ??= import("@aws-sdk/client-cloudwatch-logs").then((sdk) =>
        clients.client("logs", (config) => new sdk.CloudWatchLogsClient(config)),
      )),
    cloudWatch: () =>
      (cloudWatch ??= import("@aws-sdk/client-cloudwatch").then((sdk) =>
        clients.client("cloudwatch", (config) => new sdk.CloudWatchClient(config)),
      )),
  };
}
