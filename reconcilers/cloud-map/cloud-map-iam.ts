import type { Static } from "@sinclair/typebox";
import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";
import { dnsNameKey } from "./dns-name.ts";
import { ecsTaskStatements } from "../ecs-tasks/ecs-task-iam.ts";
import type { CloudMapNamespaceSpecSchema } from "./namespace-kind.ts";
import type { CloudMapServiceSpecSchema } from "./service-kind.ts";

// Cloud Map's ids are made by AWS, so ARNs can be narrowed to the region and account only. Both kinds sweep for what
// this owner created under specs that are gone on every pass, specs of the kind or not.
//
// Cloud Map calls Route 53 with the caller's credentials: creating a private DNS namespace creates its hosted zone,
// and registering or deregistering an instance changes its records there (AWS Cloud Map API permissions reference,
// https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-api-permissions-ref.html). Each Sid says why it is granted.

/** Reading namespaces, services and instances, and the ownership tags on them: what the sweeps read too. */
function cloudMapReads(ctx: IamContext, tags: boolean): PolicyStatement[] {
  return [
    {
      Sid: "CloudMapReadsNamespacesServicesInstances",
      Effect: "Allow",
      Action: [
        "servicediscovery:GetOperation",
        "servicediscovery:ListInstances",
        "servicediscovery:ListNamespaces",
        // Instance operations are awaited together: one listing of a service's unfinished operations a round.
        "servicediscovery:ListOperations",
        "servicediscovery:ListServices",
        // A namespace's VPCs are its hosted zone's: read to check the spec's vpc.
        "route53:GetHostedZone",
      ],
      Resource: "*",
    },
    // Ownership is in tags: read on everything the sweep meets, written on what the specs create or adopt.
    {
      Sid: "CloudMapTagsRecordOwnership",
      Effect: "Allow",
      Action: ["servicediscovery:ListTagsForResource", ...(tags ? ["servicediscovery:TagResource"] : [])],
      Resource: [arnOf(ctx, "servicediscovery", "namespace/*"), arnOf(ctx, "servicediscovery", "service/*")],
    },
  ];
}

/**
 * Deregistering instances and deleting services; with `withServices`, also what keeping services needs. `namespaces`
 * are those whose instances are registered or deregistered; undefined when a sweep may reach a service in any.
 */
function serviceWrites(
  ctx: IamContext,
  withServices: boolean,
  deletes: boolean,
  namespaces: readonly string[] | undefined,
): PolicyStatement[] {
  return [
    {
      Sid: "CloudMapRegistersTaskInstances",
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
      ],
      Resource: "*",
    },
    instanceRecordWrites(ctx, namespaces),
    {
      // Route 53's CreateHealthCheck has no resource type: IAM accepts it only on `*`.
      Sid: "CloudMapManagesInstanceHealthChecks",
      Effect: "Allow",
      Action: [
        "route53:CreateHealthCheck",
        "route53:DeleteHealthCheck",
        "route53:GetHealthCheck",
        "route53:UpdateHealthCheck",
      ],
      Resource: "*",
    },
    {
      Sid: "CloudMapUpdatesOrPrunesServices",
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
      Sid: "CloudMapCreatesNamespacesAndTheirZones",
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
      Sid: "CloudMapUpdatesOrPrunesNamespaces",
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
      Sid: "CloudMapDeletesPrunedNamespacesZones",
      Effect: "Allow",
      Action: ["route53:DeleteHostedZone"],
      Resource: "*",
    });
    // Pruning a namespace deletes the services this operator created in it first, whose specs may be gone.
    out.push(...serviceWrites(ctx, false, true, undefined));
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
      specs.map((s) => s.instances.ecsTasks),
      ctx,
    ),
    ...(ctx.sweeping || specs.length > 0 ? cloudMapReads(ctx, specs.length > 0) : []),
    ...(specs.length > 0 || prune
      ? serviceWrites(
          ctx,
          specs.length > 0,
          prune,
          // Pruning deregisters the instances of services whose specs are gone, in namespaces no spec names.
          prune ? undefined : specs.map((s) => s.namespace),
        )
      : []),
  ];
}

/**
 * Cloud Map writes each instance's records in its namespace's hosted zone as the caller: narrowed to those zones when
 * every one is known (`iam-policy --lookup` reads them from the namespaces that exist), else any zone, under a Sid that
 * says so. A zone Cloud Map has not created yet has no id to name.
 */
function instanceRecordWrites(ctx: IamContext, namespaces: readonly string[] | undefined): PolicyStatement {
  const zones = namespaces?.map((n) => ctx.namespaceZones?.get(dnsNameKey(n)));
  if (zones === undefined || zones.some((z) => z === undefined || z.length === 0)) {
    return {
      Sid: "CloudMapWritesInstanceRecordsInAnyZone",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: "*",
    };
  }
  return {
    Sid: "CloudMapWritesInstanceRecordsInNamespaceZones",
    Effect: "Allow",
    Action: ["route53:ChangeResourceRecordSets"],
    Resource: sortedUnique(zones.flatMap((z) => z ?? []).map((id) => `arn:aws:route53:::hostedzone/${id}`)),
  };
}
