import { PassMemo } from "../../controllers/pass-memo.ts";
import { systemClock, type Clock } from "../../controllers/clock.ts";
import {
  DependencyNotReadyError,
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { isKind, resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import { taskWatchKey, type EcsTaskApi, type TaskSelector } from "../ecs-tasks/ecs-task-api.ts";
import { EcsSelectorNotFoundError, observeRunningTasks } from "../ecs-tasks/running-tasks.ts";
import { atField, fieldError } from "../../controllers/field-error.ts";
import { sameDnsName } from "./dns-name.ts";
import type { CloudMapApi, ObservedService } from "./cloud-map-api.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";
import type { NamespaceLookup } from "./namespace-lookup.ts";
import { keptOrphan } from "../../controllers/removal.ts";
import { InstanceOperations } from "./instance-operations.ts";
import { runAll, type OperationWaiter } from "./operation-waiter.ts";
import { OrphanNamespaces } from "./orphan-namespaces.ts";
import { readOwnership } from "./ownership.ts";
import { RequestTokens } from "./request-tokens.ts";
import { INSTANCE_CONCURRENCY, deleteServiceWithInstances } from "./service-deletion.ts";
import { CloudMapServiceKind, type CloudMapServiceSpec } from "./service-kind.ts";
import {
  planService,
  planServiceDeletion,
  shouldPruneService,
  type NamespaceState,
  type ObservedServiceState,
  type ServiceStep,
} from "./service-planner.ts";

export interface CloudMapServiceReconcilerDeps {
  readonly api: CloudMapApi;
  readonly tasks: EcsTaskApi;
  readonly lookup: NamespaceLookup;
  readonly operations: OperationWaiter;
  /** Instance registrations and deregistrations; shared with the namespace reconciler. Default one of its own. */
  readonly instances?: InstanceOperations | undefined;
  /** Shared with the namespace reconciler: the services of a namespace its sweep deletes are left to it. */
  readonly orphans?: OrphanNamespaces | undefined;
  readonly clock?: Clock | undefined;
  /** Shared with the namespace reconciler; default one of its own. */
  readonly tokens?: RequestTokens | undefined;
}

export function taskSelector(spec: CloudMapServiceSpec): TaskSelector {
  const sel = spec.instances.ecsTasks;
  return {
    cluster: sel.cluster,
    service: sel.service,
    family: sel.service === undefined ? sel.family : undefined,
  };
}

export class CloudMapServiceReconciler implements Reconciler {
  readonly kind = CloudMapServiceKind.kind;
  /** After CloudMapNamespace (10). */
  readonly order = 20;
  private readonly api: CloudMapApi;
  private readonly tasks: EcsTaskApi;
  private readonly lookup: NamespaceLookup;
  private readonly operations: OperationWaiter;
  private readonly instanceOps: InstanceOperations;
  private readonly clock: Clock;
  private readonly orphans: OrphanNamespaces;
  private readonly tokens: RequestTokens;
  /** Services seen without this owner's tag: never ours later, since only a spec's plan adds the tag. */
  private readonly foreign = new Set<string>();

  /** Ids of the services held as foreign, for tests and the soak benchmark. */
  foreignIds(): string[] {
    return [...this.foreign].sort();
  }
  private readonly servicesPerPass = new PassMemo<ObservedService[]>();

  constructor(deps: CloudMapServiceReconcilerDeps) {
    this.api = deps.api;
    this.tasks = deps.tasks;
    this.lookup = deps.lookup;
    this.operations = deps.operations;
    this.orphans = deps.orphans ?? new OrphanNamespaces(deps.api, deps.lookup);
    this.clock = deps.clock ?? systemClock;
    this.tokens = deps.tokens ?? new RequestTokens({ clock: this.clock });
    this.instanceOps = deps.instances ?? new InstanceOperations(deps.api, { clock: this.clock });
  }

  /** The idempotency tokens held, for tests and the soak benchmark. */
  tokensHeld(): string[] {
    return this.tokens.held();
  }

  watches(doc: SpecDocument): readonly string[] {
    if (!isKind(doc, CloudMapServiceKind)) return [];
    return [taskWatchKey(doc.spec.instances.ecsTasks)];
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    if (!isKind(doc, CloudMapServiceKind)) throw new TerminalError(`not a ${this.kind}: ${resourceKey(doc)}`);
    const key = resourceKey(doc);
    const spec = doc.spec;
    const [namespace, tasks] = await Promise.all([
      atField(
        doc,
        ["spec", "namespace"],
        this.resolveNamespace(spec.namespace, ctx.documents, ctx.signal, ctx),
      ),
      observeRunningTasks(this.tasks, taskSelector(spec), ctx.signal).catch((error: unknown) => {
        if (error instanceof EcsSelectorNotFoundError) {
          throw fieldError(doc, ["spec", "instances", "ecsTasks", error.field], error.message, {
            cause: error,
          });
        }
        throw error;
      }),
    ]);
    const observed =
      namespace.type === "found" ? await this.observe(namespace.id, spec.name, ctx.signal, ctx) : undefined;
    if (observed !== undefined) this.foreign.delete(observed.service.id);
    const planned = planService(spec, namespace, observed, tasks, { ownerId: ctx.ownerId, resource: key });
    ctx.logger.debug("planned", {
      resource: key,
      service: observed?.service.id,
      tasks: tasks.length,
      instances: observed?.instances.length ?? 0,
      changes: planned.changes.length,
    });
    return {
      key,
      kind: this.kind,
      changes: planned.changes,
      notes: planned.notes,
      // Applied as planned from the tick's reads, without a live re-plan: each write either is checked by Cloud Map
      // against its current state (CreateService of a name that exists fails with ServiceAlreadyExists, a
      // deregistration or an update of a service or instance that is gone fails with *NotFound, and the conflict is
      // planned again from live reads) or puts the spec's state whatever was there (RegisterInstance of a task's id,
      // UpdateService of the spec's settings, the ownership tags). A stale read can cost a write that changes
      // nothing, never one that undoes someone else's. Deleting services is the sweep's, which reads live.
      guarded: true,
      // Every task with an address is registered; one without is left for the next reconcile.
      targets: tasks.flatMap((t) => (t.address === undefined ? [] : [{ id: t.taskId, address: t.address }])),
      apply: (signal) => this.apply(spec, key, namespace, observed?.service, planned.steps, ctx, signal),
    };
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    const live = new Set(ctx.documents.map(resourceKey));
    // The service each live spec manages, by name. (Not by namespace as well: an unfiltered ListServices gives no
    // namespace id, ServiceSummary has none, so a spec moved to another namespace keeps the old service unjudged.)
    const managed = new Map(
      ctx.documents.flatMap((d) =>
        isKind(d, CloudMapServiceKind) ? [[resourceKey(d), d.spec.name] as const] : [],
      ),
    );
    const plans: ResourcePlan[] = [];
    // The namespace sweep deletes these with their namespace, and lists them: one removal, one list of writes.
    const withNamespace = await this.orphans.servicesDeleted(ctx);
    const services = await this.api.listServices(undefined, ctx.signal);
    // Ids of services that are gone are forgotten: the set follows the account's services, not time.
    const present = new Set(services.map((s) => s.id));
    for (const id of [...this.foreign]) if (!present.has(id)) this.foreign.delete(id);
    for (const service of services) {
      if (this.foreign.has(service.id) || withNamespace.has(service.id)) continue;
      // A live spec's own plan looks after the service it names; only the others can be orphans.
      if ([...managed.values()].some((name) => sameDnsName(name, service.name))) continue;
      const tags = await this.api.tags(service.arn, ctx.signal);
      const own = readOwnership(tags);
      if (own.owner !== ctx.ownerId) {
        this.foreign.add(service.id);
        continue;
      }
      // A spec that now names another service no longer manages this one: as the README says, changing the name of
      // what a spec manages is removing it.
      const renamed = own.resource !== undefined && managed.has(own.resource);
      const liveHere = renamed ? new Set([...live].filter((k) => k !== own.resource)) : live;
      if (!shouldPruneService({ service, tags }, ctx.ownerId, liveHere)) {
        if (own.resource?.startsWith(`${this.kind}/`) === true && !liveHere.has(own.resource) && !own.prune) {
          plans.push(keptOrphan(this.kind, own.resource, `service ${service.name} (${service.id})`));
        }
        continue;
      }
      const instances = await this.api.listInstances(service.id, ctx.signal);
      const deletion = planServiceDeletion(`${service.name} (${service.id})`, instances, ctx.ownerId);
      const key = own.resource ?? `${this.kind}/${service.name}`;
      if (deletion.blockers.length > 0) {
        plans.push({
          key,
          kind: this.kind,
          changes: [],
          notes: [
            `service ${service.name} (${service.id}) is not pruned: instances ${deletion.blockers.join(", ")} ` +
              `were registered by someone else`,
          ],
          apply: async () => {},
        });
        continue;
      }
      plans.push({
        key,
        kind: this.kind,
        changes: deletion.changes,
        apply: async (signal) => {
          await deleteServiceWithInstances(
            this.api,
            this.instanceOps,
            service.id,
            service.name,
            ctx.ownerId,
            signal,
          );
          // A service that is gone needs no token for its instances any more.
          this.tokens.retain(`instance:${service.id}/`, new Set());
        },
      });
    }
    return plans;
  }

  /**
   * The namespace by name: when several VPCs hold one of that name, the one a CloudMapNamespace spec puts in its VPC.
   */
  private async resolveNamespace(
    name: string,
    documents: readonly SpecDocument[],
    signal: AbortSignal,
    pass?: object,
  ): Promise<NamespaceState> {
    const declared = documents.find(
      (d): d is SpecDocument<{ name: string; vpc: string }> =>
        isKind(d, CloudMapNamespaceKind) && sameDnsName(d.spec.name, name),
    );
    const found = await this.lookup.byName(name, signal, pass);
    if (found.length === 1 && found[0] !== undefined) {
      // The only one of its name, unless it is known to be in another VPC than the spec's namespace: the service
      // waits for that one instead of going, and staying, where the spec did not put it (as the namespace's own
      // plan judges it). VPCs that cannot be read (the emulator) leave the only one as the one.
      if (declared !== undefined) {
        const vpcs = await this.lookup.vpcsOf(found[0], signal);
        if (vpcs.length > 0 && !vpcs.includes(declared.spec.vpc)) {
          return { type: "pending", declaredBy: resourceKey(declared) };
        }
      }
      return { type: "found", id: found[0].id };
    }
    if (found.length > 1) {
      if (declared !== undefined) {
        for (const ns of found) {
          if ((await this.lookup.vpcsOf(ns, signal)).includes(declared.spec.vpc))
            return { type: "found", id: ns.id };
        }
      }
      throw new TerminalError(
        `${found.length} namespaces are named ${name} (${found.map((n) => n.id).join(", ")}); declare the one to ` +
          `use with a CloudMapNamespace spec giving its vpc`,
      );
    }
    if (declared !== undefined) return { type: "pending", declaredBy: resourceKey(declared) };
    throw new TerminalError(
      `namespace ${name} does not exist and no CloudMapNamespace spec declares it; create it or add one`,
    );
  }

  /** A namespace's services, listed once per pass (the pass's context is the key) for every spec in it. */
  private servicesOf(namespaceId: string, signal: AbortSignal, pass: object): Promise<ObservedService[]> {
    return this.servicesPerPass.get(pass, namespaceId, () => this.api.listServices(namespaceId, signal));
  }

  private async observe(
    namespaceId: string,
    name: string,
    signal: AbortSignal,
    pass: object,
  ): Promise<ObservedServiceState | undefined> {
    const service = (await this.servicesOf(namespaceId, signal, pass)).find((s) => sameDnsName(s.name, name));
    if (service === undefined) return undefined;
    const [tags, instances, health] = await Promise.all([
      this.api.tags(service.arn, signal),
      this.api.listInstances(service.id, signal),
      service.hasCustomHealthCheck ? this.api.instancesHealth(service.id, signal) : new Map<string, string>(),
    ]);
    return { service, tags, instances, health };
  }

  private async apply(
    spec: CloudMapServiceSpec,
    key: string,
    namespace: NamespaceState,
    observed: ObservedService | undefined,
    steps: readonly ServiceStep[],
    ctx: ReconcileContext,
    signal: AbortSignal,
  ): Promise<void> {
    let namespaceId = namespace.type === "found" ? namespace.id : undefined;
    if (namespaceId === undefined) {
      const now = await this.resolveNamespace(spec.namespace, ctx.documents, signal);
      if (now.type !== "found") {
        throw new DependencyNotReadyError(
          `namespace ${spec.namespace} (${now.declaredBy}) does not exist yet`,
        );
      }
      namespaceId = now.id;
    }
    let service = observed;
    const fqdn = `${spec.name}.${spec.namespace}`;
    for (const step of steps) {
      if (step.type === "create-service") {
        const create = {
          name: step.name,
          namespaceId,
          records: step.records,
          routingPolicy: step.routingPolicy,
        };
        service = await this.tokens.run(
          `service:${namespaceId}/${step.name}`,
          JSON.stringify({ ...create, failureThreshold: step.failureThreshold }),
          (creatorRequestId) =>
            this.api.createService(
              { ...create, failureThreshold: step.failureThreshold, creatorRequestId, tags: step.tags },
              signal,
            ),
        );
      } else if (step.type === "update-records" && service !== undefined) {
        const op = await this.api.updateServiceDnsRecords(
          service.id,
          step.records,
          service.description,
          signal,
        );
        await this.operations.wait(op, `update service ${fqdn}`, signal);
      } else if (step.type === "tag" && service !== undefined) {
        await this.api.tag(service.arn, step.tags, signal);
      }
    }
    if (service === undefined) throw new TerminalError(`service ${fqdn} was not found or created`);
    const serviceId = service.id;
    const instanceSteps = steps.filter((s) => s.type === "register" || s.type === "deregister");
    // A token is held only while a registration it names is planned: the map follows the service's instances.
    const slot = (instanceId: string): string => `instance:${serviceId}/${instanceId}`;
    this.tokens.retain(
      slot(""),
      new Set(instanceSteps.flatMap((s) => (s.type === "register" ? [slot(s.instanceId)] : []))),
    );
    // Every registration and deregistration is started (a bounded number in flight, process-wide) and their
    // operations are awaited together: one ListOperations per service and round (instance-operations.ts).
    await runAll(
      instanceSteps.map((step) => async () => {
        if (step.type === "register") {
          // A fresh token per intended registration (a task deregistered by hand is registered again with a new
          // one), reused only by a retry of this same registration (request-tokens.ts).
          await this.tokens.run(slot(step.instanceId), JSON.stringify(step.attributes), (creatorRequestId) =>
            this.instanceOps.send(
              serviceId,
              `register instance ${step.instanceId} in ${fqdn}`,
              (s) =>
                this.api.registerInstance(
                  { serviceId, instanceId: step.instanceId, attributes: step.attributes, creatorRequestId },
                  s,
                ),
              signal,
            ),
          );
        } else if (step.type === "deregister") {
          await this.instanceOps.send(
            serviceId,
            `deregister instance ${step.instanceId} from ${fqdn}`,
            (s) => this.api.deregisterInstance(serviceId, step.instanceId, s),
            signal,
          );
        }
      }),
      instanceSteps.length,
      signal,
    );
    // After the registrations: a custom health status can only be set on an instance that exists.
    await runAll(
      steps.flatMap((step) =>
        step.type === "set-health"
          ? [() => this.api.setInstanceHealth(serviceId, step.instanceId, step.status, signal)]
          : [],
      ),
      INSTANCE_CONCURRENCY,
      signal,
    );
  }
}
