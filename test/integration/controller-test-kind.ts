import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeTasksCommand, ListTasksCommand } from "@aws-sdk/client-ecs";
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from "@aws-sdk/client-route-53";
import { Type } from "@sinclair/typebox";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { ReconcileContext, Reconciler, ResourcePlan } from "../../controllers/reconciler.ts";
import { defineKind, type SpecDocument } from "../../controllers/spec/document.ts";

/**
 * A kind local to the controller's integration tests, so that they exercise the controller's machinery against real
 * AWS APIs independently of the product's kinds: one Route 53 weighted A record per RUNNING task of an ECS service,
 * or per InService instance of an Auto Scaling group, with the task or instance id as set identifier.
 */
export const TargetRecordsKind = defineKind({
  kind: "TargetRecords",
  description: "test kind: one weighted record per target",
  specSchema: Type.Object({
    zoneId: Type.String(),
    name: Type.String(),
    ecsTasks: Type.Optional(Type.Object({ cluster: Type.String(), service: Type.String() })),
    autoScalingGroup: Type.Optional(Type.String()),
  }),
});

interface Spec {
  zoneId: string;
  name: string;
  ecsTasks?: { cluster: string; service: string };
  autoScalingGroup?: string;
}

export const RECORD_VALUE = "192.0.2.10";

export class TargetRecordsReconciler implements Reconciler {
  readonly kind = "TargetRecords";
  readonly order = 1;
  private readonly clients: AwsClients;

  constructor(clients: AwsClients) {
    this.clients = clients;
  }

  watches(doc: SpecDocument): readonly string[] {
    const s = doc.spec as Spec;
    if (s.ecsTasks !== undefined) return [`ecs:${s.ecsTasks.cluster}/service:${s.ecsTasks.service}`];
    if (s.autoScalingGroup !== undefined) return [`asg:${s.autoScalingGroup}`];
    return [];
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const s = doc.spec as Spec;
    const targets = new Set(await this.targets(s, ctx.signal));
    const records = await recordsNamed(this.clients, s.zoneId, s.name, ctx.signal);
    const have = new Set(records.map((r) => r.SetIdentifier ?? ""));
    const creates = [...targets].filter((t) => !have.has(t)).sort();
    const deletes = records.filter((r) => !targets.has(r.SetIdentifier ?? ""));
    const key = `${this.kind}/${doc.metadata.name}`;
    return {
      key,
      kind: this.kind,
      changes: [
        ...creates.map((t) => ({ action: "create" as const, target: `${s.name} ${t}` })),
        ...deletes.map((r) => ({ action: "delete" as const, target: `${s.name} ${r.SetIdentifier ?? ""}` })),
      ],
      apply: async (signal) => {
        const changes = [
          ...creates.map((t) => ({
            Action: "UPSERT" as const,
            ResourceRecordSet: {
              Name: s.name,
              Type: "A" as const,
              TTL: 10,
              SetIdentifier: t,
              Weight: 10,
              ResourceRecords: [{ Value: RECORD_VALUE }],
            },
          })),
          ...deletes.map((r) => ({ Action: "DELETE" as const, ResourceRecordSet: r })),
        ];
        await this.clients.route53.send(
          new ChangeResourceRecordSetsCommand({ HostedZoneId: s.zoneId, ChangeBatch: { Changes: changes } }),
          { abortSignal: signal },
        );
      },
    };
  }

  private async targets(s: Spec, signal: AbortSignal): Promise<string[]> {
    if (s.ecsTasks !== undefined) {
      const out = await this.clients.ecs.send(
        new ListTasksCommand({
          cluster: s.ecsTasks.cluster,
          serviceName: s.ecsTasks.service,
          desiredStatus: "RUNNING",
        }),
        { abortSignal: signal },
      );
      const arns = out.taskArns ?? [];
      if (arns.length === 0) return [];
      // The emulator ignores ListTasks' serviceName: a service's tasks are those of its group.
      const described = await this.clients.ecs.send(
        new DescribeTasksCommand({ cluster: s.ecsTasks.cluster, tasks: arns }),
        { abortSignal: signal },
      );
      return (described.tasks ?? [])
        .filter((t) => t.group === `service:${s.ecsTasks?.service}` && t.lastStatus === "RUNNING")
        .map((t) => (t.taskArn ?? "").split("/").pop() ?? "");
    }
    if (s.autoScalingGroup !== undefined) {
      const out = await this.clients.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [s.autoScalingGroup] }),
        { abortSignal: signal },
      );
      return (out.AutoScalingGroups?.[0]?.Instances ?? [])
        .filter((i) => i.LifecycleState === "InService")
        .map((i) => i.InstanceId ?? "");
    }
    return [];
  }
}

export async function recordsNamed(
  clients: AwsClients,
  zoneId: string,
  name: string,
  signal?: AbortSignal,
): Promise<ResourceRecordSet[]> {
  const fqdn = name.endsWith(".") ? name : `${name}.`;
  const out = await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }), {
    abortSignal: signal,
  });
  return (out.ResourceRecordSets ?? []).filter((r) => r.Name === fqdn && r.Type === "A");
}

export function targetRecordsYaml(name: string, spec: Spec): string {
  return [
    "apiVersion: ecs-log-operator/v1alpha1",
    "kind: TargetRecords",
    `metadata: { name: ${name} }`,
    `spec: ${JSON.stringify(spec)}`,
    "",
  ].join("\n");
}
