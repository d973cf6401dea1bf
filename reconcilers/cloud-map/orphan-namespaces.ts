import { PassMemo } from "../../controllers/pass-memo.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import { isKind, resourceKey } from "../../controllers/spec/document.ts";
import type { CloudMapApi, ObservedNamespace } from "./cloud-map-api.ts";
import { sameDnsName } from "./dns-name.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";
import type { NamespaceLookup } from "./namespace-lookup.ts";
import { keptReason } from "../../controllers/removal.ts";
import { decideOrphanNamespace, type OrphanNamespaceDecision } from "./namespace-planner.ts";
import { readOwnership } from "./ownership.ts";

/** An owned namespace whose spec is gone, and what its sweep does with it. */
export interface OrphanNamespaceFinding {
  readonly namespace: ObservedNamespace;
  /** `Kind/name` of the spec that made it. */
  readonly resource: string;
  readonly decision: OrphanNamespaceDecision;
}

/**
 * The namespaces this owner made whose specs are gone, each with its decision, read once per pass for both Cloud Map
 * sweeps: the namespace sweep deletes what a pruned namespace holds (instances, then services, then the namespace),
 * and the service sweep leaves those services to it, so that one removal is one list of writes, the same in `plan`
 * as in `apply`, each service and instance in it once.
 */
export class OrphanNamespaces {
  private readonly api: CloudMapApi;
  private readonly lookup: NamespaceLookup;
  /** Namespaces seen without this owner's tag: never ours later, since only a spec's plan adds the tag. */
  private readonly foreign = new Set<string>();
  private readonly perPass = new PassMemo<OrphanNamespaceFinding[]>();

  constructor(api: CloudMapApi, lookup: NamespaceLookup) {
    this.api = api;
    this.lookup = lookup;
  }

  /** A spec's plan saw these namespaces: it may tag them, so they are no longer known to be someone else's. */
  seen(ids: readonly string[]): void {
    for (const id of ids) this.foreign.delete(id);
  }

  /** Ids of the namespaces held as foreign, for tests and the soak benchmark. */
  foreignIds(): string[] {
    return [...this.foreign].sort();
  }

  /** The pass's findings (the pass's context is the key). */
  find(ctx: ReconcileContext): Promise<OrphanNamespaceFinding[]> {
    return this.perPass.get(ctx, "", () => this.read(ctx));
  }

  /**
   * The ids of the services this pass deletes with their namespaces. By service id, not namespace id: ListServices
   * without a namespace filter does not say which namespace a service is in.
   */
  async servicesDeleted(ctx: ReconcileContext): Promise<Set<string>> {
    const found = await this.find(ctx);
    return new Set(
      found.flatMap((f) => (f.decision.type === "delete" ? f.decision.services.map((s) => s.id) : [])),
    );
  }

  private async read(ctx: ReconcileContext): Promise<OrphanNamespaceFinding[]> {
    const live = new Set(ctx.documents.map(resourceKey));
    const liveNames = ctx.documents.flatMap((d) => (isKind(d, CloudMapNamespaceKind) ? [d.spec.name] : []));
    const out: OrphanNamespaceFinding[] = [];
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
        out.push({
          namespace: ns,
          resource: own.resource,
          decision: { type: "keep", reason: keptReason(own.resource, `namespace ${ns.name} (${ns.id})`) },
        });
        continue;
      }
      const services = await this.api.listServices(ns.id, ctx.signal);
      const withState = await Promise.all(
        services.map(async (s) => ({
          id: s.id,
          name: s.name,
          tags: await this.api.tags(s.arn, ctx.signal),
          instances: await this.api.listInstances(s.id, ctx.signal),
        })),
      );
      out.push({
        namespace: ns,
        resource: own.resource,
        decision: decideOrphanNamespace(
          { id: ns.id, name: ns.name, tags, services: withState },
          ctx.ownerId,
          live,
        ),
      });
    }
    return out;
  }
}
