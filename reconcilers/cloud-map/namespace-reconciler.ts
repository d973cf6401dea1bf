import { systemClock, type Clock } from "../../controllers/clock.ts";
import {
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { isKind, resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import type { CloudMapApi, ObservedNamespace } from "./cloud-map-api.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";
import type { NamespaceLookup } from "./namespace-lookup.ts";
import { planNamespace, type NamespaceCandidate, type NamespaceStep } from "./namespace-planner.ts";
import { InstanceOperations } from "./instance-operations.ts";
import type { OperationWaiter } from "./operation-waiter.ts";
import { OrphanNamespaces } from "./orphan-namespaces.ts";
import { RequestTokens } from "./request-tokens.ts";
import { deleteServiceWithInstances } from "./service-deletion.ts";
import { CloudMapServiceKind } from "./service-kind.ts";

export interface CloudMapNamespaceReconcilerDeps {
  readonly api: CloudMapApi;
  readonly lookup: NamespaceLookup;
  readonly operations: OperationWaiter;
  /** Instance deregistrations of the services a sweep deletes; shared with the service reconciler. */
  readonly instances?: InstanceOperations | undefined;
  /** Shared with the service reconciler, whose sweep leaves the services of a deleted namespace to this one. */
  readonly orphans?: OrphanNamespaces | undefined;
  readonly clock?: Clock | undefined;
  /** Shared with the service reconciler; default one of its own. */
  readonly tokens?: RequestTokens | undefined;
}

export class CloudMapNamespaceReconciler implements Reconciler {
  readonly kind = CloudMapNamespaceKind.kind;
  /** Before CloudMapService (20): a service needs its namespace. */
  readonly order = 10;
  private readonly api: CloudMapApi;
  private readonly lookup: NamespaceLookup;
  private readonly operations: OperationWaiter;
  private readonly instanceOps: InstanceOperations;
  private readonly clock: Clock;
  private readonly orphans: OrphanNamespaces;
  private readonly tokens: RequestTokens;

  /** Ids of the namespaces held as foreign, for tests and the soak benchmark. */
  foreignIds(): string[] {
    return this.orphans.foreignIds();
  }

  constructor(deps: CloudMapNamespaceReconcilerDeps) {
    this.api = deps.api;
    this.lookup = deps.lookup;
    this.operations = deps.operations;
    this.orphans = deps.orphans ?? new OrphanNamespaces(deps.api, deps.lookup);
    this.clock = deps.clock ?? systemClock;
    this.tokens = deps.tokens ?? new RequestTokens({ clock: this.clock });
    this.instanceOps = deps.instances ?? new InstanceOperations(deps.api, { clock: this.clock });
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    if (!isKind(doc, CloudMapNamespaceKind))
      throw new TerminalError(`not a ${this.kind}: ${resourceKey(doc)}`);
    const key = resourceKey(doc);
    const spec = doc.spec;
    const found = await this.lookup.byName(spec.name, ctx.signal, ctx);
    const candidates = await Promise.all(found.map((ns) => this.candidate(ns, ctx.signal)));
    const planned = planNamespace(spec, candidates, { ownerId: ctx.ownerId, resource: key });
    this.orphans.seen(candidates.map((c) => c.id));
    ctx.logger.debug("planned", {
      resource: key,
      namespace: planned.namespace?.id,
      changes: planned.changes.length,
    });
    return {
      key,
      kind: this.kind,
      changes: planned.changes,
      notes: planned.notes,
      apply: async (signal) => {
        // Whatever this pass listed no longer holds once a namespace is created or deleted.
        if (planned.steps.length > 0) this.lookup.forget(ctx);
        for (const step of planned.steps) await this.applyStep(step, ctx.ownerId, key, signal);
      },
    };
  }

  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    const plans: ResourcePlan[] = [];
    for (const { namespace: ns, resource, decision } of await this.orphans.find(ctx)) {
      if (decision.type === "keep") {
        if (decision.reason !== undefined) {
          plans.push({
            key: resource,
            kind: this.kind,
            changes: [],
            notes: [decision.reason],
            apply: async () => {},
          });
        }
        continue;
      }
      // Each service under its own spec's key, before the namespace: the pass applies one sweep's plans in order,
      // and stops at the first that fails, so the namespace is deleted only once its services are.
      for (const s of decision.services) {
        plans.push({
          key: s.resource,
          kind: CloudMapServiceKind.kind,
          changes: s.changes,
          notes: [
            `deleted with namespace ${ns.name}, whose spec ${resource} was removed and asked for prune`,
          ],
          apply: (signal) =>
            deleteServiceWithInstances(
              this.api,
              this.instanceOps,
              s.id,
              `${s.name}.${ns.name}`,
              ctx.ownerId,
              signal,
            ),
        });
      }
      plans.push({
        key: resource,
        kind: this.kind,
        changes: decision.changes,
        apply: async (signal) => {
          const op = await this.api.deleteNamespace(ns.id, signal);
          if (op !== undefined) await this.operations.wait(op, `delete namespace ${ns.name}`, signal);
        },
      });
    }
    return plans;
  }

  private async candidate(ns: ObservedNamespace, signal: AbortSignal): Promise<NamespaceCandidate> {
    const [vpcs, tags] = await Promise.all([this.lookup.vpcsOf(ns, signal), this.api.tags(ns.arn, signal)]);
    return { id: ns.id, arn: ns.arn, name: ns.name, description: ns.description, vpcs, tags };
  }

  private async applyStep(
    step: NamespaceStep,
    ownerId: string,
    key: string,
    signal: AbortSignal,
  ): Promise<void> {
    switch (step.type) {
      case "create": {
        // A fresh token per intended creation, kept for its retries (request-tokens.ts).
        const done = await this.tokens.run(
          `namespace:${ownerId}/${key}`,
          `${step.name}|${step.vpc}`,
          async (creatorRequestId) => {
            const op = await this.api.createPrivateDnsNamespace(
              {
                name: step.name,
                vpc: step.vpc,
                description: step.description,
                creatorRequestId,
                tags: step.tags,
              },
              signal,
            );
            return this.operations.wait(op, `create namespace ${step.name}`, signal);
          },
        );
        const id = done.targets.NAMESPACE;
        if (id !== undefined) this.lookup.remember(id, step.vpc);
        return;
      }
      case "update-description": {
        // A description changed A -> B -> A is three intents, three tokens: the third must not get the first's answer.
        await this.tokens.run(
          `namespace-description:${step.id}`,
          step.description,
          async (updaterRequestId) => {
            const op = await this.api.updateNamespaceDescription(
              step.id,
              step.description,
              updaterRequestId,
              signal,
            );
            await this.operations.wait(op, `update namespace ${step.id}`, signal);
          },
        );
        return;
      }
      case "tag":
        await this.api.tag(step.arn, step.tags, signal);
        return;
    }
  }
}
