import type { EC2Client } from "@aws-sdk/client-ec2";
import { awsPages } from "./pages.ts";

/** Instance ids per DescribeInstances call: well inside what EC2 accepts for an id list. */
const INSTANCE_BATCH = 200;

/**
 * Instance id -> private IPv4, by DescribeInstances over every page. The EC2 client and its commands are loaded on
 * first use (see `AwsClients.ec2`). Shared by the adapters that turn container instances and Auto Scaling
 * instances into addresses.
 */
export async function describePrivateIps(
  loadEc2: () => Promise<EC2Client>,
  instanceIds: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  if (instanceIds.length === 0) return map;
  const ec2 = await loadEc2();
  const { paginateDescribeInstances } = await import("@aws-sdk/client-ec2");
  for (let start = 0; start < instanceIds.length; start += INSTANCE_BATCH) {
    const ids = instanceIds.slice(start, start + INSTANCE_BATCH);
    // No page size: DescribeInstances refuses MaxResults beside an id list.
    const pages = paginateDescribeInstances({ client: ec2 }, { InstanceIds: ids }, { abortSignal: signal });
    for await (const page of awsPages("ec2", "DescribeInstances", pages)) {
      for (const r of page.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (i.InstanceId && i.PrivateIpAddress) map.set(i.InstanceId, i.PrivateIpAddress);
        }
      }
    }
  }
  return map;
}
