import { TerminalError, type Change } from "../../controllers/reconciler.ts";
import type { RunningTask } from "../ecs-tasks/running-tasks.ts";
import type {
  CustomHealth,
  DnsRecord,
  ObservedInstance,
  ObservedService,
  RoutingPolicy,
} from "./cloud-map-api.ts";
import { CREATED_TAG, OWNER_ATTRIBUTE, ownershipTags, readOwnership, tagsToWrite } from "./ownership.ts";
import type { CloudMapServiceSpec } from "./service-kind.ts";

/** Where the service's namespace stands. */
export type NamespaceState =
  | { readonly type: "found"; readonly id: string }
  /** Declared by a CloudMapNamespace spec and not created yet: the apply of that spec runs first. */
  | { readonly type: "pending"; readonly declaredBy: string };

export interface ObservedServiceState {
  readonly service: ObservedService;
  readonly tags: Readonly<Record<string, string>>;
  readonly instances: readonly ObservedInstance[];
  /** Custom health by instance id; empty when the service has no custom health check. */
  readonly health: ReadonlyMap<string, string>;
}

export type ServiceStep =
  | {
      readonly type: "create-service";
      readonly name: string;
      readonly records: readonly DnsRecord[];
      readonly routingPolicy: RoutingPolicy;
      readonly failureThreshold: number | undefined;
      readonly tags: Record<string, string>;
    }
  | { readonly type: "update-records"; readonly records: readonly DnsRecord[] }
  | { readonly type: "tag"; readonly tags: Record<string, string> }
  | { readonly type: "register"; readonly instanceId: string; readonly attributes: Record<string, string> }
  | { readonly type: "deregister"; readonly instanceId: string }
  | { readonly type: "set-health"; readonly instanceId: string; readonly status: CustomHealth };

export interface ServicePlan {
  readonly steps: readonly ServiceStep[];
  readonly changes: readonly Change[];
  readonly notes: readonly string[];
}

export interface ServicePlanContext {
  readonly ownerId: string;
  readonly resource: string;
}

/** The attributes an instance is registered with. Cloud Map builds its A and SRV records from the AWS_ ones. */
export function instanceAttributes(
  spec: CloudMapServiceSpec,
  address: string,
  ownerId: string,
): Record<string, string> {
  const sel = spec.instances.ecsTasks;
  return {
    AWS_INSTANCE_IPV4: address,
    ...(spec.instances.port !== undefined ? { AWS_INSTANCE_PORT: String(spec.instances.port) } : {}),
    ECS_CLUSTER_NAME: sel.cluster,
    ...(sel.service !== undefined ? { ECS_SERVICE_NAME: sel.service } : {}),
    ...(sel.family !== undefined ? { ECS_TASK_DEFINITION_FAMILY: sel.family } : {}),
    [OWNER_ATTRIBUTE]: ownerId,
  };
}

/**
 * Whether `current` holds exactly the attributes `wanted` (an `instanceAttributes` result) gives, with `address` as
 * AWS_INSTANCE_IPV4. Builds nothing: a converged pass compares every instance of every service.
 */
function sameAttributes(
  current: Readonly<Record<string, string>>,
  wanted: Readonly<Record<string, string>>,
  wantedCount: number,
  address: string,
): boolean {
  let n = 0;
  for (const k in current) {
    // AWS_INIT_HEALTH_STATUS is an input Cloud Map may echo back; it is not ours to compare.
    if (k === "AWS_INIT_HEALTH_STATUS") continue;
    if (current[k] !== (k === "AWS_INSTANCE_IPV4" ? address : wanted[k])) return false;
    n++;
  }
  return n === wantedCount;
}

function endpoint(attrs: Readonly<Record<string, string>>): string {
  const ip = attrs.AWS_INSTANCE_IPV4 ?? "?";
  return attrs.AWS_INSTANCE_PORT !== undefined ? `${ip}:${attrs.AWS_INSTANCE_PORT}` : ip;
}

function recordsText(records: readonly DnsRecord[]): string {
  return records.map((r) => `${r.type} ${r.ttl}`).join(", ");
}

function sortedTypes(records: readonly DnsRecord[]): string {
  return records
    .map((r) => r.type)
    .sort()
    .join(", ");
}

/** What a task's container health asks of its custom health status: only an UNHEALTHY task is taken out. */
export function desiredHealth(task: RunningTask): CustomHealth {
  return task.health === "UNHEALTHY" ? "UNHEALTHY" : "HEALTHY";
}

/**
 * The changes that make the Cloud Map service and its instances follow the spec and the serving tasks. Pure.
 * Instances registered by anyone else (another owner id, or ECS's own service registry) are never touched.
 * Throws `TerminalError` for what Cloud Map cannot change in place.
 */
export function planService(
  spec: CloudMapServiceSpec,
  namespace: NamespaceState,
  observed: ObservedServiceState | undefined,
  tasks: readonly RunningTask[],
  ctx: ServicePlanContext,
): ServicePlan {
  const steps: ServiceStep[] = [];
  const changes: Change[] = [];
  const notes: string[] = [];
  const fqdn = `${spec.name}.${spec.namespace}`;
  const records: DnsRecord[] = spec.dns.records.map((r) => ({ type: r.type, ttl: r.ttl }));
  const routingPolicy = spec.dns.routingPolicy ?? "MULTIVALUE";
  const customHealth = spec.healthCheckCustomConfig !== undefined;
  const wantedTags = ownershipTags(ctx.ownerId, ctx.resource, spec.prune ?? false);

  if (namespace.type === "pending") {
    notes.push(`namespace ${spec.namespace} is created by ${namespace.declaredBy} first`);
  }

  if (observed === undefined) {
    steps.push({
      type: "create-service",
      name: spec.name,
      records,
      routingPolicy,
      failureThreshold: customHealth ? (spec.healthCheckCustomConfig?.failureThreshold ?? 1) : undefined,
      tags: { ...wantedTags, [CREATED_TAG]: "true" },
    });
    changes.push({
      action: "create",
      target: `service ${fqdn}`,
      detail: `${recordsText(records)}, ${routingPolicy}${customHealth ? ", custom health check" : ""}`,
      write: "servicediscovery:CreateService",
    });
  } else {
    const { service } = observed;
    const owner = readOwnership(observed.tags);
    if (owner.owner !== undefined && owner.owner !== ctx.ownerId) {
      throw new TerminalError(
        `service ${fqdn} (${service.id}) is managed by another operator (owner id "${owner.owner}")`,
      );
    }
    const fixed: string[] = [];
    if (sortedTypes(service.records) !== sortedTypes(records)) {
      fixed.push(`record types ${sortedTypes(service.records) || "none"} -> ${sortedTypes(records)}`);
    }
    if (service.routingPolicy !== undefined && service.routingPolicy !== routingPolicy) {
      fixed.push(`routingPolicy ${service.routingPolicy} -> ${routingPolicy}`);
    }
    if (service.hasCustomHealthCheck !== customHealth) {
      fixed.push(
        `healthCheckCustomConfig ${service.hasCustomHealthCheck ? "present" : "absent"} -> ${customHealth ? "present" : "absent"}`,
      );
    }
    if (fixed.length > 0) {
      throw new TerminalError(
        `service ${fqdn} (${service.id}) cannot change in place (${fixed.join("; ")}): Cloud Map fixes these when ` +
          `a service is created. Put the spec back, or have it created again (${fqdn} answers nothing meanwhile): ` +
          `deregister its instances (aws servicediscovery list-instances --service-id ${service.id}, then ` +
          `aws servicediscovery deregister-instance --service-id ${service.id} --instance-id ID for each), ` +
          `delete it (aws servicediscovery delete-service --id ${service.id}), and apply: the operator creates it ` +
          `with the new settings and registers the tasks again`,
      );
    }
    const ttlChanges = records.flatMap((r) => {
      const was = service.records.find((o) => o.type === r.type);
      return was !== undefined && was.ttl !== r.ttl ? [`${r.type} ttl ${was.ttl} -> ${r.ttl}`] : [];
    });
    if (ttlChanges.length > 0) {
      steps.push({ type: "update-records", records });
      changes.push({
        action: "update",
        target: `service ${fqdn} (${service.id})`,
        detail: ttlChanges.join(", "),
        write: "servicediscovery:UpdateService",
      });
    }
    const tags = tagsToWrite(observed.tags, wantedTags);
    if (tags !== undefined) {
      steps.push({ type: "tag", tags });
      changes.push({
        action: "update",
        target: `service ${fqdn} (${service.id}) ownership tags`,
        detail:
          owner.owner === undefined
            ? "adopt: the service existed before this spec; it is never deleted by prune"
            : Object.entries(tags)
                .map(([k, v]) => `${k.replace("ecs-log-operator/", "")} ${observed.tags[k] ?? "-"} -> ${v}`)
                .join(", "),
        write: "servicediscovery:TagResource",
      });
    }
  }

  const existing = new Map((observed?.instances ?? []).map((i) => [i.id, i]));
  // Every task's attributes but its address, built once: each task's are built only when it is (re)registered.
  const template = instanceAttributes(spec, "", ctx.ownerId);
  const templateCount = Object.keys(template).length;
  const serving = new Set<string>();
  for (const task of tasks) {
    serving.add(task.taskId);
    if (task.address === undefined) {
      // Not placed yet, or a read answered without it: an instance it has stays as it is, none is registered.
      notes.push(`task ${task.taskId} has no address read; its instance, if any, is left as it is`);
      continue;
    }
    const current = existing.get(task.taskId);
    const health = desiredHealth(task);
    // A registration (re)creates a custom-health instance's health check at AWS_INIT_HEALTH_STATUS, HEALTHY when it
    // is not given (RegisterInstance API reference): an unhealthy task is never served meanwhile.
    const initHealth: Record<string, string> = customHealth ? { AWS_INIT_HEALTH_STATUS: health } : {};
    if (current === undefined) {
      const attributes = { ...template, AWS_INSTANCE_IPV4: task.address, ...initHealth };
      steps.push({ type: "register", instanceId: task.taskId, attributes });
      changes.push({
        action: "create",
        target: `instance ${task.taskId} ${endpoint(attributes)}`,
        write: "servicediscovery:RegisterInstance",
      });
      if (customHealth && health !== "HEALTHY") {
        // Set as well, for a Cloud Map that does not honour AWS_INIT_HEALTH_STATUS (the emulator).
        steps.push({ type: "set-health", instanceId: task.taskId, status: health });
        changes.push({
          action: "update",
          target: `instance ${task.taskId} health`,
          detail: `HEALTHY -> ${health}`,
          write: "servicediscovery:UpdateInstanceCustomHealthStatus",
        });
      }
      continue;
    }
    if (current.attributes[OWNER_ATTRIBUTE] !== ctx.ownerId) {
      notes.push(`instance ${task.taskId} was registered by someone else; left as it is`);
      continue;
    }
    const reregistered = !sameAttributes(current.attributes, template, templateCount, task.address);
    if (reregistered) {
      const attributes = { ...template, AWS_INSTANCE_IPV4: task.address, ...initHealth };
      steps.push({ type: "register", instanceId: task.taskId, attributes });
      changes.push({
        action: "update",
        target: `instance ${task.taskId}`,
        detail: `${endpoint(current.attributes)} -> ${endpoint(attributes)}`,
        write: "servicediscovery:RegisterInstance",
      });
    }
    // Registered again, its health check starts over: set as well when unhealthy, as for a new instance.
    const observedHealth = reregistered ? "HEALTHY" : observed?.health.get(task.taskId);
    if (customHealth && observedHealth !== undefined && observedHealth !== health) {
      steps.push({ type: "set-health", instanceId: task.taskId, status: health });
      changes.push({
        action: "update",
        target: `instance ${task.taskId} health`,
        detail: `${observedHealth} -> ${health}`,
        write: "servicediscovery:UpdateInstanceCustomHealthStatus",
      });
    }
  }
  for (const instance of observed?.instances ?? []) {
    if (serving.has(instance.id) || instance.attributes[OWNER_ATTRIBUTE] !== ctx.ownerId) continue;
    steps.push({ type: "deregister", instanceId: instance.id });
    changes.push({
      action: "delete",
      target: `instance ${instance.id} ${endpoint(instance.attributes)}`,
      detail: "task no longer running",
      write: "servicediscovery:DeregisterInstance",
    });
  }
  return { steps, changes, notes };
}

/** An owned service whose spec is gone. */
export interface OrphanService {
  readonly service: ObservedService;
  readonly tags: Readonly<Record<string, string>>;
}

/** Whether a service whose spec is gone is deleted: only when its spec asked for pruning and this operator created it. */
export function shouldPruneService(
  orphan: OrphanService,
  ownerId: string,
  liveResources: ReadonlySet<string>,
): boolean {
  const own = readOwnership(orphan.tags);
  return (
    own.owner === ownerId &&
    own.resource !== undefined &&
    own.resource.startsWith("CloudMapService/") &&
    !liveResources.has(own.resource) &&
    own.prune &&
    orphan.tags[CREATED_TAG] === "true"
  );
}

/**
 * Deleting a service: its instances are deregistered first (Cloud Map refuses to delete a service with instances),
 * but only instances this operator registered; any other instance keeps the service. Pure.
 */
export function planServiceDeletion(
  label: string,
  instances: readonly ObservedInstance[],
  ownerId: string,
): { deregister: readonly string[]; blockers: readonly string[]; changes: readonly Change[] } {
  const ours = instances.filter((i) => i.attributes[OWNER_ATTRIBUTE] === ownerId);
  const blockers = instances.filter((i) => i.attributes[OWNER_ATTRIBUTE] !== ownerId).map((i) => i.id);
  return {
    deregister: ours.map((i) => i.id),
    blockers,
    changes: [
      ...ours.map((i): Change => ({
        action: "delete",
        target: `instance ${i.id} ${endpoint(i.attributes)}`,
        detail: "service pruned",
        write: "servicediscovery:DeregisterInstance",
      })),
      {
        action: "delete",
        target: `service ${label}`,
        detail: "its spec was removed and asked for prune",
        write: "servicediscovery:DeleteService",
      },
    ],
  };
}
