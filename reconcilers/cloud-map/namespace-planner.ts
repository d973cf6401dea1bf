import { TerminalError, type Change } from "../../controllers/reconciler.ts";
import type { ObservedInstance } from "./cloud-map-api.ts";
import type { CloudMapNamespaceSpec } from "./namespace-kind.ts";
import { CREATED_TAG, ownershipTags, readOwnership, tagsToWrite } from "./ownership.ts";
import { planServiceDeletion } from "./service-planner.ts";

/** A private DNS namespace of the spec's name, as observed, with what was learnt about its VPC and tags. */
export interface NamespaceCandidate {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly description: string;
  /** Empty when the VPC could not be read. */
  readonly vpcs: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

export type NamespaceStep =
  | {
      readonly type: "create";
      readonly name: string;
      readonly vpc: string;
      readonly description: string | undefined;
      readonly tags: Record<string, string>;
    }
  | { readonly type: "update-description"; readonly id: string; readonly description: string }
  | { readonly type: "tag"; readonly arn: string; readonly tags: Record<string, string> };

export interface NamespacePlan {
  readonly namespace: NamespaceCandidate | undefined;
  readonly steps: readonly NamespaceStep[];
  readonly changes: readonly Change[];
  readonly notes: readonly string[];
}

export interface PlanContext {
  readonly ownerId: string;
  /** `Kind/name` of the spec. */
  readonly resource: string;
}

/**
 * Which of the same-named namespaces is the spec's: the one in its VPC; when no VPC can be read (the emulator), the
 * only one, or the one tagged with this spec. Private namespaces of one name may exist once per VPC.
 */
export function selectNamespace(
  spec: CloudMapNamespaceSpec,
  candidates: readonly NamespaceCandidate[],
  ctx: PlanContext,
): { match: NamespaceCandidate | undefined; vpcVerified: boolean } {
  const inVpc = candidates.find((c) => c.vpcs.includes(spec.vpc));
  if (inVpc !== undefined) return { match: inVpc, vpcVerified: true };
  const unknown = candidates.filter((c) => c.vpcs.length === 0);
  const ours = unknown.filter((c) => readOwnership(c.tags).resource === ctx.resource);
  if (ours.length === 1) return { match: ours[0], vpcVerified: false };
  if (unknown.length === 1) return { match: unknown[0], vpcVerified: false };
  if (unknown.length > 1) {
    throw new TerminalError(
      `${unknown.length} namespaces are named ${spec.name} and their VPCs cannot be read ` +
        `(${unknown.map((c) => c.id).join(", ")}); tag the one for ${spec.vpc} with ` +
        `ecs-log-operator/resource=${ctx.resource} to choose it`,
    );
  }
  return { match: undefined, vpcVerified: true };
}

/** The changes that make AWS hold the spec's namespace. Pure. */
export function planNamespace(
  spec: CloudMapNamespaceSpec,
  candidates: readonly NamespaceCandidate[],
  ctx: PlanContext,
): NamespacePlan {
  const prune = spec.prune ?? false;
  const wantedTags = ownershipTags(ctx.ownerId, ctx.resource, prune);
  const { match, vpcVerified } = selectNamespace(spec, candidates, ctx);
  if (match === undefined) {
    const moved = candidates.find((c) => readOwnership(c.tags).resource === ctx.resource);
    if (moved !== undefined) {
      throw new TerminalError(
        `namespace ${spec.name} of this spec (${moved.id}) is in ${moved.vpcs.join(", ")}, not ${spec.vpc}; ` +
          `Cloud Map cannot move a namespace to another VPC: delete it first, or put back vpc ${moved.vpcs[0] ?? ""}`,
      );
    }
    return {
      namespace: undefined,
      steps: [
        {
          type: "create",
          name: spec.name,
          vpc: spec.vpc,
          description: spec.description,
          tags: { ...wantedTags, [CREATED_TAG]: "true" },
        },
      ],
      changes: [
        {
          action: "create",
          target: `namespace ${spec.name} in ${spec.vpc}`,
          detail: spec.description !== undefined ? `description "${spec.description}"` : undefined,
          write: "servicediscovery:CreatePrivateDnsNamespace",
        },
      ],
      notes: [],
    };
  }
  const owner = readOwnership(match.tags);
  if (owner.owner !== undefined && owner.owner !== ctx.ownerId) {
    throw new TerminalError(
      `namespace ${spec.name} (${match.id}) is managed by another operator (owner id "${owner.owner}"); ` +
        `remove its ecs-log-operator/owner tag to hand it over`,
    );
  }
  const steps: NamespaceStep[] = [];
  const changes: Change[] = [];
  const notes: string[] = [];
  if (!vpcVerified) notes.push(`the VPC of namespace ${match.id} cannot be read; assumed to be ${spec.vpc}`);
  if (spec.description !== undefined && spec.description !== match.description) {
    steps.push({ type: "update-description", id: match.id, description: spec.description });
    changes.push({
      action: "update",
      target: `namespace ${spec.name} (${match.id})`,
      detail: `description "${match.description}" -> "${spec.description}"`,
      write: "servicediscovery:UpdatePrivateDnsNamespace",
    });
  }
  const tags = tagsToWrite(match.tags, wantedTags);
  if (tags !== undefined) {
    steps.push({ type: "tag", arn: match.arn, tags });
    changes.push({
      action: "update",
      target: `namespace ${spec.name} (${match.id}) ownership tags`,
      detail:
        owner.owner === undefined
          ? "adopt: the namespace existed before this spec; it is never deleted by prune"
          : Object.entries(tags)
              .map(([k, v]) => `${k.replace("ecs-log-operator/", "")} ${match.tags[k] ?? "-"} -> ${v}`)
              .join(", "),
      write: "servicediscovery:TagResource",
    });
  }
  return { namespace: match, steps, changes, notes };
}

/** An owned namespace whose spec is gone, with the services found in it and their instances. */
export interface OrphanNamespace {
  readonly id: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly services: readonly {
    readonly id: string;
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly instances: readonly ObservedInstance[];
  }[];
}

/** A service an orphan namespace's deletion deletes first: under its own spec's key, with every write it takes. */
export interface ServiceRemoval {
  readonly id: string;
  readonly name: string;
  /** `Kind/name` of the spec that made it (read from its tags). */
  readonly resource: string;
  readonly changes: readonly Change[];
}

export type OrphanNamespaceDecision =
  | { readonly type: "keep"; readonly reason?: string }
  | {
      readonly type: "delete";
      /** Services to delete first (instances deregistered, then the service): those this operator created. */
      readonly services: readonly ServiceRemoval[];
      /** The namespace's own deletion. */
      readonly changes: readonly Change[];
    };

/**
 * What to do with a namespace whose spec is gone: delete it when its spec asked for pruning and this operator
 * created it, after the services it created there (each instance deregistered, each service deleted: one change a
 * write); keep it while it holds any other service or any instance someone else registered, which AWS would refuse
 * to delete it over anyway. Pure.
 */
export function decideOrphanNamespace(
  orphan: OrphanNamespace,
  ownerId: string,
  liveResources: ReadonlySet<string>,
): OrphanNamespaceDecision {
  const own = readOwnership(orphan.tags);
  if (own.owner !== ownerId || own.resource === undefined || liveResources.has(own.resource))
    return { type: "keep" };
  if (!own.prune) return { type: "keep" };
  if (orphan.tags[CREATED_TAG] !== "true") {
    return {
      type: "keep",
      reason: `namespace ${orphan.name} existed before ${own.resource}; prune leaves it`,
    };
  }
  const blockers = orphan.services.filter((s) => {
    const o = readOwnership(s.tags);
    return !(o.owner === ownerId && s.tags[CREATED_TAG] === "true" && !liveResources.has(o.resource ?? ""));
  });
  if (blockers.length > 0) {
    return {
      type: "keep",
      reason:
        `namespace ${orphan.name} (${orphan.id}) is not pruned: it still holds ` +
        `${blockers.map((s) => s.name).join(", ")}, which this operator did not create or still manages`,
    };
  }
  const services = orphan.services.map((s) => ({
    service: s,
    deletion: planServiceDeletion(`${s.name}.${orphan.name} (${s.id})`, s.instances, ownerId),
  }));
  const held = services.filter((s) => s.deletion.blockers.length > 0);
  if (held.length > 0) {
    return {
      type: "keep",
      reason:
        `namespace ${orphan.name} (${orphan.id}) is not pruned: ` +
        held
          .map(
            (s) =>
              `${s.service.name} holds instances ${s.deletion.blockers.join(", ")} registered by someone else`,
          )
          .join("; "),
    };
  }
  return {
    type: "delete",
    services: services.map(({ service, deletion }) => ({
      id: service.id,
      name: service.name,
      resource: readOwnership(service.tags).resource ?? `CloudMapService/${service.name}`,
      changes: deletion.changes,
    })),
    changes: [
      {
        action: "delete",
        target: `namespace ${orphan.name} (${orphan.id})`,
        detail: `${own.resource} was removed and asked for prune`,
        write: "servicediscovery:DeleteNamespace",
      },
    ],
  };
}
