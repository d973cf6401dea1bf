import type { AwsClients } from "../../controllers/aws/clients.ts";
import { parseWatchKey, type WatchLister } from "../../controllers/informers.ts";
import type { AutoScalingApi } from "./auto-scaling-api.ts";
import { AwsAutoScalingApi } from "./aws-auto-scaling-api.ts";

/** What the informers list for an Auto Scaling watch key (`asg:GROUP`): the group's instances and their states. */
export class AutoScalingWatchLister implements WatchLister {
  private readonly autoScaling: Pick<AutoScalingApi, "describeGroup">;

  constructor(autoScaling: Pick<AutoScalingApi, "describeGroup">) {
    this.autoScaling = autoScaling;
  }

  async list(watchKey: string, signal: AbortSignal): Promise<string[] | undefined> {
    const t = parseWatchKey(watchKey);
    if (t?.type !== "asg") return undefined;
    const group = await this.autoScaling.describeGroup(t.group, signal);
    // An instance's move from Pending to InService (or to Terminating:Wait) matters as much as its arrival.
    return (group?.instances ?? []).map((i) => `${i.instanceId}:${i.lifecycleState}`).sort();
  }
}

export function autoScalingWatchLister(
  clients: Pick<AwsClients, "autoScaling" | "ec2">,
): AutoScalingWatchLister {
  return new AutoScalingWatchLister(new AwsAutoScalingApi(clients));
}
