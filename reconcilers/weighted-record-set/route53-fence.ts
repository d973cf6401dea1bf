import { createHash } from "node:crypto";
import type { Logger } from "../../controllers/logger.ts";
import { NotLeaderError, StaleLeaderError, type LeaderTerm } from "../../controllers/leader-election/term.ts";
import type { BatchLimits } from "./batches.ts";
import type { RecordChange, RecordSet, Route53Api } from "./route53-api.ts";

/**
 * The fence: Route 53 itself refuses the change batch of a leader that is no longer the latest.
 *
 * Route 53 applies a change batch all or nothing, refuses a DELETE that does not match the current record exactly
 * (or of a record that is not there), and refuses a CREATE of a record that exists (ChangeResourceRecordSets API
 * reference: "To delete a resource record set, you must specify all the same values that you specified when you
 * created it"; "Route 53 validates the changes in the request and then either makes all or none of the changes";
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html). So every batch the
 * leader sends carries a compare-and-swap on a token record:
 *
 *   DELETE s<n>.<parent>  +  CREATE s<n+1>.<parent>  +  the batch's own changes
 *
 * where `<parent>` is `<lease>._ecs-log-operator-fence.<zone>`. Each token is consumed by exactly one batch; a batch
 * built on a token that another leader has consumed changes nothing. A new leader's first write to a zone is a
 * takeover that consumes whatever tokens it finds and records its epoch in `term.<parent>` (UPSERT, in the same batch);
 * a leader that finds a later epoch there, or whose batch fails and then finds one, steps down (`StaleLeaderError`)
 * instead of retrying.
 *
 * The same design holds on the emulator, which is lenient where Route 53 is strict: moto accepts a DELETE of a record
 * that no longer exists as long as the same record was created once, and it refuses a CREATE that repeats an earlier
 * CREATE exactly while any record sorts at or after it. So the token's successor is a function of the token alone
 * (name `s<n+1>`, a constant value and TTL, no epoch in it): a stale leader's batch repeats exactly the CREATE that the
 * leader which consumed its token already made, and `term.<parent>`, which is never deleted, sorts after every token.
 * Route 53 refuses that batch for its DELETE, moto for its CREATE. The token names differ between DELETE and CREATE,
 * so moto's refusal of a DELETE and a CREATE of one name and type in one batch never bites.
 *
 * `term.<parent>` is never deleted by the operator. It is also what keeps an empty fence from being taken twice: the
 * first takeover CREATEs it, so a stale leader that saw no fence at all fails on its own CREATE.
 */
export interface BatchFence {
  /** The limits left for a batch's own changes once the fence's are in. */
  limitsLeft(limits: BatchLimits): BatchLimits;
  /**
   * Whether this replica leads and has not yet taken the zone's fence in this term. Until it does, a batch that an
   * earlier leader still sends (built on the last token it saw) passes: so a term takes every zone it manages, even
   * one it has nothing to change in.
   */
  needsTakeOver(zoneId: string): boolean;
  /** Takes the zone's fence for the current term now (one ChangeResourceRecordSets), if it is not this term's yet. */
  takeOver(api: Route53Api, zoneId: string, signal: AbortSignal): Promise<void>;
  /** One ChangeResourceRecordSets call with the fence's compare-and-swap in it: all of it is applied, or none. */
  changeRecordSets(
    api: Route53Api,
    zoneId: string,
    changes: readonly RecordChange[],
    signal: AbortSignal,
  ): Promise<string | undefined>;
}

export const FENCE_LABEL = "_ecs-log-operator-fence";
export const FENCE_TTL = 300;
/** Every token has the same value, so the successor of a token is the same record whoever creates it. */
export const TOKEN_VALUE = '"ecs-log-operator fence token"';

/** The fence records of one lease in a zone, as read. */
export interface FenceView {
  readonly tokens: readonly { readonly seq: number; readonly record: RecordSet }[];
  readonly term: { readonly epoch: number; readonly holder: string; readonly record: RecordSet } | undefined;
}

/** The zone's fence found deleted in part by hand: writing on would be unfenced. */
export class FenceBrokenError extends Error {
  override readonly name = "FenceBrokenError";
}

/** A DNS label for the lease name: lower case letters, digits and hyphens, with a hash when that changed the name. */
export function fenceLabel(resourceName: string): string {
  const plain = resourceName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (plain === resourceName && plain.length > 0 && plain.length <= 63) return plain;
  const hash = createHash("sha256").update(resourceName).digest("hex").slice(0, 8);
  return `${plain.slice(0, 54) || "lease"}-${hash}`;
}

export function fenceParent(resourceName: string, zoneName: string): string {
  return `${fenceLabel(resourceName)}.${FENCE_LABEL}.${zoneName}`;
}

/**
 * The fence's record names as an IAM `StringLike` pattern on `route53:ChangeResourceRecordSetsNormalizedRecordNames`,
 * in every zone: every fenced batch holds two of them beside the batch's own names, and a `ForAllValues` condition
 * must admit every name in a request. Without the lease's name, the fences of every lease.
 */
export function fenceIamRecordNames(resourceName: string | undefined): string[] {
  return [`*.${resourceName === undefined ? "" : `${fenceLabel(resourceName)}.`}${FENCE_LABEL}.*`];
}

export function tokenRecord(parent: string, seq: number): RecordSet {
  return { name: `s${seq}.${parent}`, type: "TXT", ttl: FENCE_TTL, values: [TOKEN_VALUE] };
}

/** The holder as the term record spells it: characters that could break the TXT value replaced, at most 100. */
export function fenceHolder(holder: string): string {
  return holder.replace(/[^A-Za-z0-9_.:/@+-]/g, "_").slice(0, 100);
}

export function termRecord(parent: string, epoch: number, holder: string, seq: number): RecordSet {
  return {
    name: `term.${parent}`,
    type: "TXT",
    ttl: FENCE_TTL,
    values: [`"epoch=${epoch} holder=${fenceHolder(holder)} seq=${seq}"`],
  };
}

/**
 * Whether the fence's term rules out a leader of `epoch`: a later epoch, or the same epoch held by another replica
 * (which the lease's conditional writes rule out, short of a lease store that is not atomic); stepping down then
 * makes the next acquisition take a new epoch.
 */
function outranks(term: NonNullable<FenceView["term"]>, epoch: number, holder: string): boolean {
  return term.epoch > epoch || (term.epoch === epoch && term.holder !== fenceHolder(holder));
}

/** The fence of `parent` among the records at and below it. Pure. */
export function readFence(records: readonly RecordSet[], parent: string): FenceView {
  const tokens: { seq: number; record: RecordSet }[] = [];
  let term: FenceView["term"];
  for (const r of records) {
    if (r.type !== "TXT" || r.setIdentifier !== undefined) continue;
    if (r.name === `term.${parent}`) {
      const text = (r.values ?? []).join(" ");
      const epoch = Number(/epoch=(\d+)/.exec(text)?.[1] ?? Number.NaN);
      term = {
        epoch: Number.isFinite(epoch) ? epoch : 0,
        holder: /holder=(\S+?)"?(?:\s|$)/.exec(text)?.[1] ?? "",
        record: r,
      };
      continue;
    }
    const m = /^s(\d+)\./.exec(r.name);
    if (m !== null && r.name === `s${m[1]}.${parent}`) tokens.push({ seq: Number(m[1]), record: r });
  }
  tokens.sort((a, b) => a.seq - b.seq);
  return { tokens, term };
}

export type FenceDecision =
  /** The fence is this term's already (after a restart of the zone state): go on from its token. */
  | { readonly kind: "adopt"; readonly token: RecordSet; readonly seq: number }
  /** Take the fence: consume every token found, create the next, record the epoch. */
  | {
      readonly kind: "take";
      readonly changes: readonly RecordChange[];
      readonly token: RecordSet;
      readonly seq: number;
    }
  /** A later epoch holds the fence: this leader is stale. */
  | { readonly kind: "stale"; readonly observedEpoch: number; readonly holder: string }
  | { readonly kind: "broken"; readonly message: string };

/** What a leader of `epoch` does with the fence it read. Pure. */
export function decideFence(view: FenceView, parent: string, epoch: number, holder: string): FenceDecision {
  const term = view.term;
  if (term !== undefined && outranks(term, epoch, holder)) {
    return { kind: "stale", observedEpoch: term.epoch, holder: term.holder };
  }
  const last = view.tokens.at(-1);
  if (term !== undefined && last === undefined) {
    return {
      kind: "broken",
      message:
        `the fence of ${parent} has no token left (deleted by hand?); writes to this zone stop until ` +
        `${term.record.name} (TXT) is deleted too, after which the leader starts a new fence`,
    };
  }
  if (term !== undefined && term.epoch === epoch && view.tokens.length === 1 && last !== undefined) {
    return { kind: "adopt", token: last.record, seq: last.seq };
  }
  const seq = (last?.seq ?? 0) + 1;
  const token = tokenRecord(parent, seq);
  const changes: RecordChange[] = [
    ...view.tokens.map((t) => ({ action: "DELETE" as const, record: t.record })),
    { action: "CREATE", record: token },
    // CREATE on an empty fence: a stale leader that also saw it empty then fails on this very record.
    { action: term === undefined ? "CREATE" : "UPSERT", record: termRecord(parent, epoch, holder, seq) },
  ];
  return { kind: "take", changes, token, seq };
}

interface ZoneFence {
  readonly epoch: number;
  readonly parent: string;
  token: RecordSet;
  seq: number;
}

/**
 * The fence of one lease, for every zone this process writes to. Batches to one zone are serialized here (the token
 * chain is linear); the zone's fence is read once per term, and again after any failed batch.
 */
export class Route53Fence implements BatchFence {
  private readonly resourceName: string;
  private readonly term: () => LeaderTerm | undefined;
  private readonly logger: Logger | undefined;
  private readonly zones = new Map<string, ZoneFence>();
  private readonly zoneNames = new Map<string, string>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(options: {
    /** The lease's resource name: one fence per lease and zone. */
    resourceName: string;
    /** The elector's current term (`LeaderElector.currentTerm`). */
    term: () => LeaderTerm | undefined;
    logger?: Logger | undefined;
  }) {
    this.resourceName = options.resourceName;
    this.term = options.term;
    this.logger = options.logger;
  }

  limitsLeft(limits: BatchLimits): BatchLimits {
    // A DELETE and a CREATE of one token each: one value each.
    const chars = 2 * TOKEN_VALUE.length;
    return { values: limits.values - 2, characters: limits.characters - chars, changes: limits.changes - 2 };
  }

  changeRecordSets(
    api: Route53Api,
    zoneId: string,
    changes: readonly RecordChange[],
    signal: AbortSignal,
  ): Promise<string | undefined> {
    return this.serialized(zoneId, () => this.send(api, zoneId, changes, signal));
  }

  needsTakeOver(zoneId: string): boolean {
    const term = this.term();
    return term !== undefined && this.zones.get(zoneId)?.epoch !== term.epoch;
  }

  /** Takes the zone's fence for the current term now, before any batch needs it (at the start of a term). */
  takeOver(api: Route53Api, zoneId: string, signal: AbortSignal): Promise<void> {
    return this.serialized(zoneId, async () => {
      const term = this.liveTerm();
      await this.ensure(api, zoneId, term, AbortSignal.any([signal, term.signal]));
    });
  }

  private async send(
    api: Route53Api,
    zoneId: string,
    changes: readonly RecordChange[],
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const term = this.liveTerm();
    const both = AbortSignal.any([signal, term.signal]);
    const fence = await this.ensure(api, zoneId, term, both);
    const next = tokenRecord(fence.parent, fence.seq + 1);
    term.assertMayWrite();
    let id: string | undefined;
    try {
      id = await api.changeRecordSets(
        zoneId,
        [{ action: "DELETE", record: fence.token }, { action: "CREATE", record: next }, ...changes],
        both,
      );
    } catch (error) {
      throw await this.explain(api, zoneId, term, fence, error, both);
    }
    fence.token = next;
    fence.seq += 1;
    return id;
  }

  private liveTerm(): LeaderTerm {
    const term = this.term();
    if (term === undefined)
      throw new NotLeaderError("this replica does not lead: Route 53 writes are not sent");
    term.assertMayWrite();
    return term;
  }

  /** The zone's fence for `term`: read and, unless it is already this term's, taken. */
  private async ensure(
    api: Route53Api,
    zoneId: string,
    term: LeaderTerm,
    signal: AbortSignal,
  ): Promise<ZoneFence> {
    const known = this.zones.get(zoneId);
    if (known !== undefined && known.epoch === term.epoch) return known;
    this.zones.delete(zoneId);
    const parent = fenceParent(this.resourceName, await this.zoneName(api, zoneId, signal));
    const view = readFence(await api.listRecordSets(zoneId, parent, signal), parent);
    const decision = decideFence(view, parent, term.epoch, term.identity);
    switch (decision.kind) {
      case "stale":
        throw this.fencedOut(term, zoneId, decision.observedEpoch, decision.holder);
      case "broken":
        throw new FenceBrokenError(`zone ${zoneId}: ${decision.message}`);
      case "adopt": {
        const fence = { epoch: term.epoch, parent, token: decision.token, seq: decision.seq };
        this.zones.set(zoneId, fence);
        return fence;
      }
      case "take": {
        term.assertMayWrite();
        try {
          await api.changeRecordSets(zoneId, decision.changes, signal);
        } catch (error) {
          // Another leader took it between the read and this write: find out whether it was a later one.
          const after = readFence(await api.listRecordSets(zoneId, parent, signal).catch(() => []), parent);
          if (after.term !== undefined && outranks(after.term, term.epoch, term.identity)) {
            throw this.fencedOut(term, zoneId, after.term.epoch, after.term.holder, error);
          }
          throw error;
        }
        this.logger?.info("took the Route 53 fence", {
          zoneId,
          epoch: term.epoch,
          token: decision.token.name,
        });
        const fence = { epoch: term.epoch, parent, token: decision.token, seq: decision.seq };
        this.zones.set(zoneId, fence);
        return fence;
      }
    }
  }

  /**
   * Why a fenced batch failed. If the fence now shows a later epoch, this leader is stale: the term ends and the
   * error says to step down. Otherwise the failure was the batch's own (its token still stands) or the outcome is
   * unknown (a timeout: the zone's fence is read again before the next batch); the original error goes on.
   */
  private async explain(
    api: Route53Api,
    zoneId: string,
    term: LeaderTerm,
    fence: ZoneFence,
    error: unknown,
    signal: AbortSignal,
  ): Promise<unknown> {
    if (signal.aborted) {
      this.zones.delete(zoneId);
      return error;
    }
    const parent = fence.parent;
    let view: FenceView;
    try {
      view = readFence(await api.listRecordSets(zoneId, parent, signal), parent);
    } catch {
      this.zones.delete(zoneId);
      return error;
    }
    if (view.term !== undefined && outranks(view.term, term.epoch, term.identity)) {
      return this.fencedOut(term, zoneId, view.term.epoch, view.term.holder, error);
    }
    if (!view.tokens.some((t) => t.record.name === fence.token.name)) this.zones.delete(zoneId);
    return error;
  }

  private fencedOut(
    term: LeaderTerm,
    zoneId: string,
    observedEpoch: number,
    holder: string,
    cause?: unknown,
  ): StaleLeaderError {
    this.zones.delete(zoneId);
    const detail = `zone ${zoneId}: the Route 53 fence holds epoch ${observedEpoch} (${holder}), above this term's ${term.epoch}`;
    term.fencedOut(observedEpoch, detail);
    return new StaleLeaderError(term.epoch, observedEpoch, `${detail}; this replica steps down`, { cause });
  }

  private async zoneName(api: Route53Api, zoneId: string, signal: AbortSignal): Promise<string> {
    const known = this.zoneNames.get(zoneId);
    if (known !== undefined) return known;
    const zone = await api.zoneById(zoneId, signal);
    if (zone === undefined) throw new Error(`route53: hosted zone ${zoneId} not found`);
    this.zoneNames.set(zoneId, zone.name);
    return zone.name;
  }

  private serialized<T>(zoneId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(zoneId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(zoneId, settled);
    void settled.then(() => {
      if (this.queues.get(zoneId) === settled) this.queues.delete(zoneId);
    });
    return run;
  }
}
