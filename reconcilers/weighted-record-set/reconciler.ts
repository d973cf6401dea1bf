import { PassMemo } from "../../controllers/pass-memo.ts";
import { keptOrphan } from "../../controllers/removal.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { systemClock, type Clock } from "../../controllers/clock.ts";
import {
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import type { EcsTaskApi } from "../ecs-tasks/ecs-task-api.ts";
import { taskWatchKey } from "../ecs-tasks/ecs-task-api.ts";
import { formatWatchKey } from "../../controllers/informers.ts";
import { EcsSelectorNotFoundError, observeRunningTasks } from "../ecs-tasks/running-tasks.ts";
import { AwsEcsTaskApi } from "../ecs-tasks/aws-ecs-task-api.ts";
import { TERMINATING_WAIT, type AutoScalingApi } from "./auto-scaling-api.ts";
import { AwsAutoScalingApi } from "./aws-auto-scaling-api.ts";
import { AwsRoute53Api } from "./aws-route53-api.ts";
import { DrainCoordinator } from "./drain.ts";
import { isZoneId, normaliseDnsName, weightedRecordSetKind, type WeightedRecordSetSpec } from "./kind.ts";
import { findOrphans } from "./orphans.ts";
import { planRecords, type Target } from "./planner.ts";
import { invalidOwnerId } from "./registry.ts";
import { atOrBelow, type HostedZone, type RecordSet, type Route53Api } from "./route53-api.ts";
import type { BatchFence } from "./route53-fence.ts";
import { shardIndexOf } from "./shards.ts";
import { ZoneWriter } from "./zone-writer.ts";

export interface WeightedRecordSetDeps {
  readonly route53: Route53Api;
  readonly autoScaling: AutoScalingApi;
  readonly ecsTasks: EcsTaskApi;
  /** Runs lifecycle-hook drains; without it, `drain` specs still remove records but never complete actions. */
  readonly drains?: DrainCoordinator | undefined;
  /** Route 53's per-name limit of weighted records; smaller only in tests. */
  readonly maxPerName?: number | undefined;
  readonly clock?: Clock | undefined;
  /** With leader election, the Route 53 fence every change batch carries (route53-fence.ts). */
  readonly fence?: BatchFence | undefined;
}

/** How long a clean orphan scan stands while the specs do not change. */
const ORPHAN_RESCAN_MS = 10 * 60_000;

/** Targets observed for one spec, and the instances a lifecycle hook holds. */
interface ObservedTargets {
  readonly targets: Target[];
  readonly withoutAddress: string[];
  readonly leaving: string[];
}

/**
 * WeightedRecordSet: observes the targets (an Auto Scaling group's InService instances, or an ECS service's running
 * tasks) and the zone's records at the name and below, plans with the pure `planRecords`, and writes through one
 * `ZoneWriter` per process so each zone sees one change batch at a time.
 */
export class WeightedRecordSetReconciler implements Reconciler {
  readonly kind = weightedRecordSetKind.kind;
  /** Nothing else depends on these records; after the namespaces and services. */
  readonly order = 30;
  private readonly route53: Route53Api;
  private readonly autoScaling: AutoScalingApi;
  private readonly ecsTasks: EcsTaskApi;
  private readonly drains: DrainCoordinator | undefined;
  private readonly maxPerName: number | undefined;
  private readonly writer: ZoneWriter;
  private readonly fence: BatchFence | undefined;
  /** Zone lookups, shared by the specs of one pass and forgotten with it. */
  private readonly zoneCache = new PassMemo<HostedZone[]>();
  private readonly zoneListings = new PassMemo<RecordSet[]>();
  private readonly clock: Clock;
  /** The last orphan scan that found nothing: for which specs, and when. */
  private lastCleanScan: { fingerprint: string; at: number } | undefined;

  constructor(deps: WeightedRecordSetDeps) {
    this.route53 = deps.route53;
    this.autoScaling = deps.autoScaling;
    this.ecsTasks = deps.ecsTasks;
    this.drains = deps.drains;
    this.maxPerName = deps.maxPerName;
    this.clock = deps.clock ?? systemClock;
    this.fence = deps.fence;
    this.writer = new ZoneWriter(deps.route53, { clock: this.clock, fence: deps.fence });
  }

  /** What this reconciler holds between passes (zone queues, drains), for tests and the soak benchmark. */
  keysHeld(): { zones: ReturnType<ZoneWriter["zonesHeld"]>; drains: number } {
    return { zones: this.writer.zonesHeld(), drains: this.drains?.activeDrains() ?? 0 };
  }

  watches(doc: SpecDocument): readonly string[] {
    const spec = doc.spec as WeightedRecordSetSpec;
    if (spec.targets.autoScalingGroup !== undefined)
      return [formatWatchKey({ type: "asg", group: spec.targets.autoScalingGroup })];
    if (spec.targets.ecsTasks !== undefined) return [taskWatchKey(spec.targets.ecsTasks)];
    return [];
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const spec = doc.spec as WeightedRecordSetSpec;
    const key = resourceKey(doc);
    const fail = (path: (string | number)[], message: string): TerminalError => {
      const p = doc.positionOf(["spec", ...path]);
      return new TerminalError(`${p.file}:${p.line}:${p.col}: ${key}: ${message}`);
    };
    const badOwner = invalidOwnerId(ctx.ownerId);
    if (badOwner !== undefined) throw new TerminalError(`${key}: ${badOwner}`);

    const zone = await this.resolveZone(spec.hostedZone, ctx, fail);
    const made = this.writer.planning(zone.id);
    try {
      return await this.planInZone(doc, ctx, zone, fail);
    } finally {
      made();
    }
  }

  private async planInZone(
    doc: SpecDocument,
    ctx: ReconcileContext,
    zone: HostedZone,
    fail: (path: (string | number)[], message: string) => TerminalError,
  ): Promise<ResourcePlan> {
    const spec = doc.spec as WeightedRecordSetSpec;
    const key = resourceKey(doc);
    const name = normaliseDnsName(spec.name);
    if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
      throw fail(["name"], `${name} is not inside the hosted zone ${zone.name} (${zone.id})`);
    }
    const [observed, records] = await Promise.all([
      this.observeTargets(spec, ctx.signal, fail),
      // A pass that sweeps reads every zone anyway; under `run` the zone's listing is the tick's shared read: either
      // way one listing serves every spec of the zone.
      ctx.sweeping === true || ctx.sharedReads === true
        ? this.zoneListing(zone.id, ctx).then((all) => all.filter((r) => atOrBelow(r.name, name)))
        : this.route53.listRecordSets(zone.id, name, ctx.signal),
    ]);
    const planned = planRecords({
      zoneId: zone.id,
      name,
      type: spec.type,
      ttl: spec.ttl,
      weight: spec.weight,
      ownerId: ctx.ownerId,
      resource: key,
      prune: spec.prune === true,
      targets: observed.targets,
      unaddressed: observed.withoutAddress,
      observed: records,
      liveResources: new Set(ctx.documents.filter((d) => d.kind === this.kind).map(resourceKey)),
      maxPerName: this.maxPerName,
    });
    if (planned.conflicts.length > 0) {
      const shown = planned.conflicts.slice(0, 5);
      throw fail(
        ["name"],
        `not writing to zone ${zone.name} (${zone.id}): ${shown.join("; ")}` +
          (planned.conflicts.length > shown.length
            ? `; and ${planned.conflicts.length - shown.length} more`
            : ""),
      );
    }
    const notes = [
      `zone ${zone.name} (${zone.id}, ${zone.privateZone ? "private" : "public"})`,
      ...planned.notes,
    ];
    if (observed.withoutAddress.length > 0) {
      notes.push(`no private address read for: ${observed.withoutAddress.join(", ")}`);
    }
    if (spec.drain !== undefined && spec.targets.autoScalingGroup !== undefined) {
      notes.push(
        ...(await this.checkHook(
          spec.targets.autoScalingGroup,
          spec.drain.lifecycleHook,
          spec.ttl + spec.drain.seconds,
          ctx.signal,
          fail,
        )),
      );
    }
    // The drains of this plan start together, after its write: one read of what is left serves all of them.
    let leftAfterWrite: Promise<RecordSet[]> | undefined;
    const drainPlan =
      spec.drain !== undefined && spec.targets.autoScalingGroup !== undefined && this.drains !== undefined
        ? this.drains.plan(
            {
              groupName: spec.targets.autoScalingGroup,
              hookName: spec.drain.lifecycleHook,
              waitSeconds: spec.ttl + spec.drain.seconds,
              logger: ctx.logger.child({ resource: key }),
              recordRemoved: async (instanceId, signal) => {
                leftAfterWrite ??= this.route53.listRecordSets(zone.id, name, signal);
                const left = await leftAfterWrite;
                if (left.some((r) => r.type === spec.type && r.setIdentifier === instanceId)) {
                  throw new Error(`the record of ${instanceId} is still in zone ${zone.name}`);
                }
              },
              changesInSync: async (changeIds, signal) => {
                const statuses = await Promise.all(changeIds.map((id) => this.route53.getChange(id, signal)));
                // A change Route 53 no longer knows (undefined) is long past INSYNC.
                return statuses.every((s) => s !== "PENDING");
              },
            },
            observed.leaving,
            new Set(records.filter((r) => r.type === spec.type).map((r) => r.setIdentifier ?? "")),
          )
        : undefined;
    const changes = [...planned.summary, ...(drainPlan?.changes ?? [])];
    const units = planned.units;
    // With leader election, a term takes the fence of every zone it manages, converged or not: until then a batch an
    // earlier leader still sends would pass (route53-fence.ts). A batch of this plan would take it first anyway.
    const fence = this.fence;
    const takeFence = fence?.needsTakeOver(zone.id) === true;
    if (takeFence) {
      changes.push({
        action: "update",
        target: `Route 53 fence of zone ${zone.name} (${zone.id})`,
        detail: "taken for this leadership term: a batch an earlier leader still sends is refused",
        write: "route53:ChangeResourceRecordSets",
        bookkeeping: true,
      });
    }
    const route53 = this.route53;
    const writer = this.writer;
    const logger = ctx.logger.child({ resource: key });
    const detach = ctx.detach;
    return {
      key,
      kind: this.kind,
      changes,
      notes,
      // Route 53 checks a CREATE (nothing there) and a DELETE (exactly this record) itself, in an atomic batch; an
      // UPSERT it does not check, and a drain acts on instances, so those are planned again from live reads.
      guarded:
        (drainPlan === undefined || drainPlan.changes.length === 0) &&
        units.every((u) => u.changes.every((c) => c.action !== "UPSERT")),
      targets: observed.targets,
      async apply(signal: AbortSignal): Promise<void> {
        if (takeFence && units.length === 0) await fence?.takeOver(route53, zone.id, signal);
        const changeIds = await writer.submit(zone.id, units, signal);
        if (units.length > 0) logger.debug("records written", { zone: zone.id, units: units.length });
        if (drainPlan === undefined || drainPlan.changes.length === 0) return;
        // The records are gone (written above); what is left is waiting TTL + seconds and completing the actions.
        // A drain is recoverable from AWS (the instance stays in Terminating:Wait until it is completed), so under
        // `run` it is detached: the key's worker is free for the next change, a scale-out during the wait included.
        if (detach !== undefined) {
          detach(`drain ${drainPlan.instances.join(", ")}`, (s) => drainPlan.run(s, changeIds));
        } else await drainPlan.run(signal, changeIds);
      },
    };
  }

  /**
   * Deletes what this owner wrote for specs that are gone, or at record names a spec no longer uses, when their
   * registry records say `prune=true` (the spec that wrote them asked for it); records without the marker are left as
   * they are, no longer managed, and the plan says so. Every zone of the account is read for registry records of this
   * owner at names no current spec covers. A spec whose zone cannot be resolved covers its name in every zone, so a
   * lookup problem never reads as a deletion.
   */
  async planOrphans(ctx: ReconcileContext): Promise<ResourcePlan[]> {
    if (invalidOwnerId(ctx.ownerId) !== undefined) return [];
    const docs = ctx.documents.filter((d) => d.kind === this.kind);
    // Orphans appear only when specs change (or before this process started), so a scan that found none is repeated
    // only when the specs change, or after ORPHAN_RESCAN_MS as a backstop. This is scheduling, not ownership: what is
    // deleted is still proven from the registry records read by the scan.
    const fingerprint = [ctx.ownerId, ...docs.map((d) => d.generation).sort()].join(",");
    const last = this.lastCleanScan;
    if (
      last !== undefined &&
      last.fingerprint === fingerprint &&
      this.clock.now() - last.at < ORPHAN_RESCAN_MS
    ) {
      return [];
    }
    const startedAt = this.clock.now();
    const coveredIn = new Map<string, Set<string>>();
    const everywhere = new Set<string>();
    await Promise.all(
      docs.map(async (doc) => {
        const spec = doc.spec as WeightedRecordSetSpec;
        const name = normaliseDnsName(spec.name);
        try {
          const zone = await this.resolveZone(spec.hostedZone, ctx, (_p, m) => new TerminalError(m));
          coveredIn.set(zone.id, (coveredIn.get(zone.id) ?? new Set()).add(name));
        } catch {
          everywhere.add(name);
        }
      }),
    );
    const plans: ResourcePlan[] = [];
    for (const zone of await this.route53.listZones(ctx.signal)) {
      const names = [...(coveredIn.get(zone.id) ?? []), ...everywhere];
      const covered = (top: string): boolean =>
        names.some((n) => top === n || shardIndexOf(top, n) !== undefined);
      const records = await this.zoneListing(zone.id, ctx);
      for (const group of findOrphans(records, ctx.ownerId, covered)) {
        if (!group.prune) {
          plans.push(
            keptOrphan(
              this.kind,
              group.resource,
              `the records at ${group.name} ${group.type} in zone ${zone.name} (${zone.id})`,
              `${group.resource} (${group.name}: no spec manages it)`,
            ),
          );
          continue;
        }
        const planned = planRecords({
          zoneId: zone.id,
          name: group.name,
          type: group.type,
          ttl: 0,
          weight: 0,
          ownerId: ctx.ownerId,
          resource: group.resource,
          targets: [],
          observed: group.observed,
          maxPerName: this.maxPerName,
        });
        if (planned.units.length === 0) continue;
        const units = planned.units;
        const writer = this.writer;
        plans.push({
          key: `${group.resource} (${group.name}: no spec manages it)`,
          kind: this.kind,
          changes: planned.summary,
          notes: [`zone ${zone.name} (${zone.id}): no spec manages ${group.name} ${group.type} any more`],
          apply: async (signal) => void (await writer.submit(zone.id, units, signal)),
        });
      }
    }
    if (plans.every((p) => p.changes.length === 0)) this.lastCleanScan = { fingerprint, at: startedAt };
    return plans;
  }

  /**
   * A whole zone's record sets, read once per pass (the pass's context is the key): the orphan sweep reads every
   * zone anyway, so in a pass that sweeps, the specs' plans take their names' records from the same listing.
   */
  private zoneListing(zoneId: string, ctx: ReconcileContext): Promise<RecordSet[]> {
    return this.zoneListings.get(ctx, zoneId, () =>
      this.route53.listRecordSets(zoneId, undefined, ctx.signal),
    );
  }

  private async resolveZone(
    hostedZone: string,
    ctx: ReconcileContext,
    fail: (path: (string | number)[], message: string) => TerminalError,
  ): Promise<HostedZone> {
    const id = isZoneId(hostedZone) ? hostedZone.replace(/^\/hostedzone\//, "") : undefined;
    const cacheKey = id ?? normaliseDnsName(hostedZone);
    const zones = await this.zoneCache.get(ctx, cacheKey, () =>
      id !== undefined
        ? this.route53.zoneById(id, ctx.signal).then((z) => (z === undefined ? [] : [z]))
        : this.route53.zonesByName(cacheKey, ctx.signal),
    );
    if (zones.length === 0) {
      throw fail(
        ["hostedZone"],
        `hosted zone ${JSON.stringify(hostedZone)} not found: create it first (the operator manages records, not zones)`,
      );
    }
    if (id !== undefined) return zones[0]!;
    // Private zones first: the records point at private addresses.
    const privateZones = zones.filter((z) => z.privateZone);
    const candidates = privateZones.length > 0 ? privateZones : zones;
    if (candidates.length > 1) {
      throw fail(
        ["hostedZone"],
        `hosted zone name ${JSON.stringify(hostedZone)} is ambiguous: ${candidates.length} ${
          privateZones.length > 0 ? "private" : "public"
        } zones have it (${candidates.map((z) => z.id).join(", ")}); give the zone id instead`,
      );
    }
    return candidates[0]!;
  }

  /** The drain's lifecycle hook must exist and hold leaving instances; a short hold is worth a note. */
  private async checkHook(
    groupName: string,
    hookName: string,
    waitSeconds: number,
    signal: AbortSignal,
    fail: (path: (string | number)[], message: string) => TerminalError,
  ): Promise<string[]> {
    const hook = await this.autoScaling.describeLifecycleHook(groupName, hookName, signal);
    if (hook === undefined) {
      throw fail(
        ["drain", "lifecycleHook"],
        `Auto Scaling group ${groupName} has no lifecycle hook ${JSON.stringify(hookName)}`,
      );
    }
    if (hook.transition !== "autoscaling:EC2_INSTANCE_TERMINATING") {
      throw fail(
        ["drain", "lifecycleHook"],
        `lifecycle hook ${hookName} of ${groupName} is for ${hook.transition}, not autoscaling:EC2_INSTANCE_TERMINATING`,
      );
    }
    return hook.heartbeatTimeout < waitSeconds
      ? [
          `warning: lifecycle hook ${hookName} holds an instance ${hook.heartbeatTimeout} s, less than ttl + seconds = ${waitSeconds} s: instances may go before resolvers forget them`,
        ]
      : [];
  }

  private async observeTargets(
    spec: WeightedRecordSetSpec,
    signal: AbortSignal,
    fail: (path: (string | number)[], message: string) => TerminalError,
  ): Promise<ObservedTargets> {
    const groupName = spec.targets.autoScalingGroup;
    if (groupName !== undefined) {
      const group = await this.autoScaling.describeGroup(groupName, signal);
      if (group === undefined) {
        throw fail(
          ["targets", "autoScalingGroup"],
          `Auto Scaling group ${JSON.stringify(groupName)} not found: create the group or fix the name`,
        );
      }
      const serving = group.instances
        .filter((i) => i.lifecycleState === "InService")
        .map((i) => i.instanceId);
      const leaving = group.instances
        .filter((i) => i.lifecycleState === TERMINATING_WAIT)
        .map((i) => i.instanceId);
      const ips = await this.autoScaling.privateIps(groupName, serving, signal);
      return {
        targets: serving.flatMap((id) => {
          const address = ips.get(id);
          return address === undefined ? [] : [{ id, address }];
        }),
        withoutAddress: serving.filter((id) => !ips.has(id)),
        leaving,
      };
    }
    const selector = spec.targets.ecsTasks!;
    const tasks = await observeRunningTasks(this.ecsTasks, selector, signal).catch((error: unknown) => {
      if (error instanceof EcsSelectorNotFoundError)
        throw fail(["targets", "ecsTasks", error.field], error.message);
      throw error;
    });
    return {
      targets: tasks.flatMap((t) => (t.address === undefined ? [] : [{ id: t.taskId, address: t.address }])),
      withoutAddress: tasks.filter((t) => t.address === undefined).map((t) => t.taskId),
      leaving: [],
    };
  }
}

/** The reconciler with its AWS adapters, built from the process's clients. */
export function createWeightedRecordSetReconciler(
  clients: Pick<AwsClients, "route53" | "autoScaling" | "ec2" | "ecs">,
  options: { readonly fence?: BatchFence | undefined } = {},
): WeightedRecordSetReconciler {
  const autoScaling = new AwsAutoScalingApi(clients);
  return new WeightedRecordSetReconciler({
    route53: new AwsRoute53Api(clients),
    autoScaling,
    ecsTasks: new AwsEcsTaskApi(clients),
    drains: new DrainCoordinator({ autoScaling }),
    fence: options.fence,
  });
}
