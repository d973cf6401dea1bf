import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type VPCRegion,
} from "@aws-sdk/client-route-53";
import type { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";

// What the leader-election process tests and the takeover benchmark both set up: a private zone, one
// WeightedRecordSet following an Auto Scaling group, and `run --leader-elect` flags with given durations.

export interface LeaderElectTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly intervalMs: number;
}

/** `run`'s flags for one replica (after DIR): leader election on, its durations, /metrics on a free port. */
export function leaderElectArgs(t: LeaderElectTimings): string[] {
  return [
    ...["--interval", `${t.intervalMs}ms`, "--metrics-bind-address", "127.0.0.1:0"],
    ...["--leader-elect", "--leader-elect-table", "ecs-log-operator-leases"],
    ...["--leader-elect-lease-duration", `${t.leaseDurationMs}ms`],
    ...["--leader-elect-renew-deadline", `${t.renewDeadlineMs}ms`],
    ...["--leader-elect-retry-period", `${t.retryPeriodMs}ms`],
  ];
}

/** A WeightedRecordSet of `record` in logs.internal following the group log-asg, as a spec file's text. */
export function weightedRecordsSpec(record: string): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: fluentd-nodes }
spec:
  hostedZone: logs.internal
  name: ${record}
  type: A
  ttl: 10
  weight: 10
  targets: { autoScalingGroup: log-asg }
`;
}

/** The private zone logs.internal in the scene's VPC; its id. */
export async function logsZone(clients: AwsClients, scene: AwsScene, region: string): Promise<string> {
  const zone = await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: "logs.internal",
      CallerReference: `logs-${Date.now()}`,
      VPC: { VPCId: scene.vpcId, VPCRegion: region as VPCRegion },
      HostedZoneConfig: { PrivateZone: true },
    }),
  );
  return (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
}

/** Set identifiers of the weighted A records at `record`, sorted. */
export async function weightedRecordIds(
  clients: AwsClients,
  zoneId: string,
  record: string,
): Promise<string[]> {
  const out = await clients.route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      StartRecordName: record,
      StartRecordType: "A",
    }),
  );
  return (out.ResourceRecordSets ?? [])
    .filter((r) => r.Name === `${record}.` && r.Type === "A")
    .map((r) => r.SetIdentifier ?? "")
    .sort();
}
