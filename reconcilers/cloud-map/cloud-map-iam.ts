import type { Static } from "@sinclair/typebox";
import { arnOf, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";
import { ecsTaskStatements } from "../ecs-tasks/ecs-task-iam.ts";
import type { CloudMapNamespaceSpecSchema } from "./namespace-kind.ts";
import type { CloudMapServiceSpecSchema } from "./service-kind.ts";

// Cloud Map's ids are made by AWS, so ARNs can be narrowed to the region and account only. Both kinds sweep for what
// this owner created under specs that are gone on every pass, specs of the kind or not.

/** Reading namespaces, services and instances, and the ownership tags on them: what the sweeps read too. */
function cloudMapReads(ctx: IamContext, tags: boolean): PolicyStatement[] {
  return [
    {
      Sid: "CloudMapRead",
      Effect: "Allow",
      Action: [
        "servicediscovery:GetOperation",
        "servicediscovery:ListInstances",
        "servicediscovery:ListNamespaces",
        "servicediscovery:ListServices",
        // A namespace's VPCs are its hosted zone's: read to check the spec's vpc.
        "route53:GetHostedZone",
      ],
      Resource: "*",
    },
    // Ownership is in tags: read on everything the sweep meets, written on what the specs create or adopt.
    {
      Sid: "CloudMapTags",
      Effect: "Allow",
      Action: ["servicediscovery:ListTagsForResource", ...(tags ? ["servicediscovery:TagResource"] : [])],
      Resource: [arnOf(ctx, "servicediscovery", "namespace/*"), arnOf(ctx, "servicediscovery", "service/*")],
    },
  ];
}

/** Deregistering instances and deleting services; with `withServices`, also what keeping services needs. */
function serviceWrites(ctx: IamContext, withServices: boolean, deletes: boolean): PolicyStatement[] {
  return [
    {
      Sid: "CloudMapInstances",
      Effect: "Allow",
      Action: [
        // A pruned service's instances are deregistered before it is deleted.
        "servicediscovery:DeregisterInstance",
        ...(withServices
          ? [
              "servicediscovery:CreateService",
              "servicediscovery:GetInstancesHealthStatus",
              "servicediscovery:RegisterInstance",
              "servicediscovery:UpdateInstanceCustomHealthStatus",
            ]
          : []),
        // Cloud Map writes each instance's DNS records (and any health check) as the caller.
        "route53:ChangeResourceRecordSets",
        "route53:CreateHealthCheck",
        "route53:DeleteHealthCheck",
        "route53:GetHealthCheck",
        "route53:UpdateHealthCheck",
      ],
      Resource: "*",
    },
    {
      Sid: "CloudMapServiceUpdates",
      Effect: "Allow",
      Action: [
        ...(withServices ? ["servicediscovery:UpdateService"] : []),
        ...(deletes ? ["servicediscovery:DeleteService"] : []),
      ],
      Resource: arnOf(ctx, "servicediscovery", "service/*"),
    },
  ];
}

export function cloudMapNamespaceStatements(
  specs: readonly Static<typeof CloudMapNamespaceSpecSchema>[],
  ctx: IamContext,
): PolicyStatement[] {
  const prune = ctx.allowPrune || specs.some((n) => n.prune === true);
  const out: PolicyStatement[] = [];
  if (ctx.sweeping || specs.length > 0) out.push(...cloudMapReads(ctx, specs.length > 0));
  if (specs.length > 0) {
    out.push({
      Sid: "CloudMapNamespaces",
      Effect: "Allow",
      Action: [
        "servicediscovery:CreatePrivateDnsNamespace",
        // Cloud Map creates the namespace's private hosted zone, in the VPC, with the caller's permissions.
        "route53:CreateHostedZone",
        "route53:ListHostedZonesByName",
        "ec2:DescribeVpcs",
        "ec2:DescribeRegions",
      ],
      Resource: "*",
    });
  }
  if (specs.length > 0 || prune) {
    out.push({
      Sid: "CloudMapNamespaceUpdates",
      Effect: "Allow",
      Action: [
        ...(specs.length > 0 ? ["servicediscovery:UpdatePrivateDnsNamespace"] : []),
        ...(prune ? ["servicediscovery:DeleteNamespace"] : []),
      ],
      Resource: arnOf(ctx, "servicediscovery", "namespace/*"),
    });
  }
  if (prune) {
    out.push({
      Sid: "CloudMapNamespaceZoneDelete",
      Effect: "Allow",
      Action: ["route53:DeleteHostedZone"],
      Resource: "*",
    });
    // Pruning a namespace deletes the services this operator created in it first, whose specs may be gone.
    out.push(...serviceWrites(ctx, false, true));
  }
  return out;
}

export function cloudMapServiceStatements(
  specs: readonly Static<typeof CloudMapServiceSpecSchema>[],
  ctx: IamContext,
): PolicyStatement[] {
  const prune = ctx.allowPrune || specs.some((s) => s.prune === true);
  return [
    // The tasks each service's instances follow, listed by the informers and the adapter.
    ...ecsTaskStatements(
      specs.map((s) => s.instances.ecsTasks.cluster),
      ctx,
    ),
    ...(ctx.sweeping || specs.length > 0 ? cloudMapReads(ctx, specs.length > 0) : []),
    ...(specs.length > 0 || prune ? serviceWrites(ctx, specs.length > 0, prune) : []),
  ];
}
