import { systemClock, type Clock } from "../../controllers/clock.ts";
import {
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { isKind, resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import { sameDnsName } from "./dns-name.ts";
import type { CloudMapApi, ObservedNamespace } from "./cloud-map-api.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";
import type { NamespaceLookup } from "./namespace-lookup.ts";
import {
  decideOrphanNamespace,
  planNamespace,
  type NamespaceCandidate,
  type NamespaceStep,
} from "./namespace-planner.ts";
import type { OperationWaiter } from "./operation-waiter.ts";
import { keptOrphan } from "../../controllers/removal.ts";
import { readOwnership } from "./ownership.ts";
import { RequestTokens } from "./request-tokens.ts";
import { deleteServiceWithInstances } from "./service-deletion.ts";

export interface CloudMapNamespaceReconcilerDeps {
  readonly api: CloudMapApi;
  readonly lookup: NamespaceLookup;
  readonly operations: OperationWaiter;
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
  private readonly tokens: RequestTokens;
  /** Namespaces seen without this owner's tag: never ours later, since only a spec's plan adds the tag. */
  private readonly foreign = new Set<string>();

  /** Ids of the namespaces held as foreign, for tests and the soak benchmark. */
  foreignIds(): string[] {
    return [...this.foreign].sort();
  }

  constructor(deps: CloudMapNamespaceReconcilerDeps) {
    this.api = deps.api;
    this.lookup = deps.lookup;
    this.operations = deps.operations;
    this.tokens = deps.tokens ?? new RequestTokens({ clock: deps.clock ?? systemClock });
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    if (!isKind(doc, CloudMapNamespaceKind))
      throw new TerminalError(`not a ${this.kind}: ${resourceKey(doc)}`);
    const key = resourceKey(doc);
    const spec = doc.spec;
    const found = await this.lookup.byName(spec.name, ctx.signal, ctx);
    const candidates = await Promise.all(found.map((ns) => this.candidate(ns, ctx.signal)));
    const planned = planNamespace(spec, candidates, { ownerId: ctx.ownerId, resource: key });
    for (const c of candidates) this.foreign.delete(c.id);
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
    const live = new Set(ctx.documents.map(resourceKey));
    const plans: ResourcePlan[] = [];
    const liveNames = ctx.documents.flatMap((d) => (isKind(d, CloudMapNamespaceKind) ? [d.spec.name] : []));
    const all = await this.lookup.all(ctx.signal, ctx);
    // Ids of namespaces that are gone are forgotten: the set follows the account's namespaces, not time.
    const present = new Set(all.map((ns) => ns.id));
    for (const id of [...this.foreign]) if (!present.has(id)) this.foreign.delete(id);
    for (const ns of all) {
      if (this.foreign.has(ns.id)) continue;
      // A live spec's own plan looks after the namespace of its name; only the others can be orphans.
      if (liveNames.some((n) => sameDnsName(n, ns.name))) continue;
      const tags = await this.api.tags(ns.arn, ctx.signal);
      const own = readOwnership(tags);
      if (own.owner !== ctx.ownerId) {
        this.foreign.add(ns.id);
        continue;
      }
      if (own.resource === undefined || live.has(own.resource)) continue;
      if (!own.prune) {
        plans.push(keptOrphan(this.kind, own.resource, `namespace ${ns.name} (${ns.id})`));
        continue;
      }
      const services = await this.api.listServices(ns.id, ctx.signal);
      const withTags = await Promise.all(
        services.map(async (s) => ({ id: s.id, name: s.name, tags: await this.api.tags(s.arn, ctx.signal) })),
      );
      const decision = decideOrphanNamespace(
        { id: ns.id, name: ns.name, tags, services: withTags },
        ctx.ownerId,
        live,
      );
      if (decision.type === "keep") {
        if (decision.reason !== undefined) {
          plans.push({
            key: own.resource,
            kind: this.kind,
            changes: [],
            notes: [decision.reason],
            apply: async () => {},
          });
        }
        continue;
      }
      plans.push({
        key: own.resource,
        kind: this.kind,
        changes: decision.changes,
        apply: async (signal) => {
          for (const s of decision.services) {
            await deleteServiceWithInstances(
              this.api,
              this.operations,
              s.id,
              `${s.name}.${ns.name}`,
              ctx.ownerId,
              signal,
            );
          }
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
