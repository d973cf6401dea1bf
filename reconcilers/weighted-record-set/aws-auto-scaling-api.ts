import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  type AutoScalingClient,
} from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { describePrivateIps } from "../../controllers/aws/ec2-private-ips.ts";
import { awsCall, classifyAwsError } from "../../controllers/aws/errors.ts";
import { awsPages } from "../../controllers/aws/pages.ts";
import type {
  AutoScalingApi,
  GroupInstances,
  LifecycleActionInput,
  LifecycleHook,
} from "./auto-scaling-api.ts";

export class AwsAutoScalingApi implements AutoScalingApi {
  private readonly autoScaling: AutoScalingClient;
  private readonly ec2: () => Promise<EC2Client>;

  constructor(clients: { autoScaling: AutoScalingClient; ec2: () => Promise<EC2Client> }) {
    this.autoScaling = clients.autoScaling;
    this.ec2 = clients.ec2;
  }

  async describeGroup(name: string, signal?: AbortSignal): Promise<GroupInstances | undefined> {
    const out = await awsCall("autoscaling", "DescribeAutoScalingGroups", () =>
      this.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), {
        abortSignal: signal,
      }),
    );
    const group = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
    if (group === undefined) return undefined;
    return {
      name,
      instances: (group.Instances ?? []).map((i) => ({
        instanceId: i.InstanceId ?? "",
        lifecycleState: i.LifecycleState ?? "",
      })),
    };
  }

  /**
   * Auto Scaling tags every instance it launches or attaches with `aws:autoscaling:groupName`, so the group's
   * instances are listed by that tag at 1,000 a page (DescribeInstances takes no MaxResults with an id list); an
   * instance the listing missed (a tag not there yet) is then asked for by id.
   */
  async privateIps(
    group: string,
    instanceIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    if (instanceIds.length === 0) return new Map();
    const ec2 = await this.ec2();
    const { paginateDescribeInstances } = await import("@aws-sdk/client-ec2");
    const wanted = new Set(instanceIds);
    const map = new Map<string, string>();
    const pages = paginateDescribeInstances(
      { client: ec2, pageSize: 1000 },
      { Filters: [{ Name: "tag:aws:autoscaling:groupName", Values: [group] }] },
      { abortSignal: signal },
    );
    for await (const page of awsPages("ec2", "DescribeInstances", pages)) {
      for (const r of page.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (i.InstanceId && i.PrivateIpAddress && wanted.has(i.InstanceId))
            map.set(i.InstanceId, i.PrivateIpAddress);
        }
      }
    }
    const missed = instanceIds.filter((id) => !map.has(id));
    for (const [id, ip] of await describePrivateIps(this.ec2, missed, signal)) map.set(id, ip);
    return map;
  }

  async describeLifecycleHook(
    groupName: string,
    hookName: string,
    signal?: AbortSignal,
  ): Promise<LifecycleHook | undefined> {
    const out = await awsCall("autoscaling", "DescribeLifecycleHooks", () =>
      this.autoScaling.send(
        new DescribeLifecycleHooksCommand({
          AutoScalingGroupName: groupName,
          LifecycleHookNames: [hookName],
        }),
        { abortSignal: signal },
      ),
    );
    const hook = out.LifecycleHooks?.find((h) => h.LifecycleHookName === hookName);
    if (hook === undefined) return undefined;
    // Auto Scaling's default heartbeat timeout is one hour.
    return { transition: hook.LifecycleTransition ?? "", heartbeatTimeout: hook.HeartbeatTimeout ?? 3600 };
  }

  async completeLifecycleAction(input: LifecycleActionInput, signal?: AbortSignal): Promise<boolean> {
    try {
      await awsCall("autoscaling", "CompleteLifecycleAction", () =>
        this.autoScaling.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: input.groupName,
            LifecycleHookName: input.hookName,
            InstanceId: input.instanceId,
            LifecycleActionResult: "CONTINUE",
          }),
          { abortSignal: signal },
        ),
      );
      return true;
    } catch (error) {
      const e = classifyAwsError("autoscaling", "CompleteLifecycleAction", error);
      // Auto Scaling answers ValidationError "No active Lifecycle Action found" once the action is complete or timed out.
      if (e.errorClass === "not-found" || /No active Lifecycle Action/i.test(e.message)) return false;
      throw e;
    }
  }
}
