import type { Logger } from "./logger.ts";
import type { SpecDocument } from "./spec/document.ts";

/** What a plan shows: `+` create, `~` update, `-` delete. */
export type ChangeAction = "create" | "update" | "delete";

/** One change a plan proposes. Plain data: `plan --output json` prints it as it is. */
export interface Change {
  readonly action: ChangeAction;
  /** The AWS object, in words a person reads: `instance 0c2f2e45 10.0.1.5:24224`. */
  readonly target: string;
  /** Why, or what differs: `ttl 60 -> 10`. */
  readonly detail?: string | undefined;
  /**
   * The one AWS write this change is, as `service:Operation` (the IAM prefix and the API action, as in a policy):
   * `servicediscovery:RegisterInstance`. One change is one write call, or one change of a batch (a record of a Route 53
   * ChangeResourceRecordSets), so that `plan` lists every write `apply` then makes, and no other. Undefined only in
   * tests' fakes.
   */
  readonly write?: string | undefined;
  /**
   * A write of the operator's own coordination records (the Route 53 fence taken for a leadership term), not a change
   * of what the spec manages: it is applied and listed, but never counted as drift corrected.
   */
  readonly bookkeeping?: boolean | undefined;
}

/** What a resource points at: a task or an instance, and the address it is reached at. */
export interface PlanTarget {
  /** A task id or an EC2 instance id. */
  readonly id: string;
  readonly address: string | undefined;
}

/** The changes for one resource (a spec, or an orphan the operator owns), ready to apply. */
export interface ResourcePlan {
  /** `Kind/name`. */
  readonly key: string;
  readonly kind: string;
  readonly changes: readonly Change[];
  /**
   * Notes for the reader that are not changes: a dependency not yet created, a layout. Shown by `plan`.
   */
  readonly notes?: readonly string[];
  /**
   * True when AWS itself checks every precondition of these writes against its current state, so that a plan made
   * from the tick's shared reads is safe to apply as it is: a stale read makes AWS refuse the write (which then
   * drops the cached reads it touched, and the retry reads live), never overwrite (Route 53 refuses a CREATE of a
   * record that exists and a DELETE that does not match the record exactly, and applies a batch whole or not at
   * all), or the write puts the desired state whatever was read (Cloud Map's RegisterInstance of a task's
   * instance). Otherwise a plan that writes is made again from live reads first (`planForWrite`).
   */
  readonly guarded?: boolean;
  /**
   * What the resource points at once the plan is applied (the tasks a Cloud Map service registers, the targets of
   * weighted records), for `/status`; absent for a kind that has none.
   */
  readonly targets?: readonly PlanTarget[];
  /**
   * For a sweep's plan: the removed specs whose objects it takes back, when more than its `key` (one task definition
   * revision takes back the patches of every removed spec of a family). The prune guard counts these.
   */
  readonly removes?: readonly string[] | undefined;
  /**
   * Set by the pass or the controller, never by a reconciler: the prune guard holds this plan's deletions, and why.
   * Its changes are shown, marked held, and its `apply` does nothing.
   */
  readonly held?: string | undefined;
  /**
   * Makes the changes. Every step is idempotent and ownership is read back from AWS, so a pass killed half-way
   * and run again converges with nothing duplicated. Resolves when AWS has accepted every change.
   */
  apply(signal: AbortSignal): Promise<void>;
}

export interface ReconcileContext {
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Marks what this operator instance owns in AWS (tags, attributes, registry records). */
  readonly ownerId: string;
  /** Every valid spec of this run, for references across specs (a service naming a namespace another spec declares). */
  readonly documents: readonly SpecDocument[];
  /**
   * True when this pass also plans orphans (`planOrphans`) with this same context: a reconciler whose sweep reads
   * whole listings anyway may then answer its specs' reads from those listings instead of reading twice.
   */
  readonly sweeping?: boolean;
  /**
   * True under `run` when this reconcile's reads of watched state come from the tick's shared cache
   * (`TickReadCache`): whole listings cost nothing more than narrow ones, so a reconciler may plan from them (a
   * zone's whole listing, read once per tick for every spec in it). A plan that would write is made again with this
   * false and live reads (`planForWrite`).
   */
  readonly sharedReads?: boolean;
  /**
   * Present under `run`: takes work that waits far longer than a reconcile should (a drain's TTL wait before it
   * completes a lifecycle action) off the key's worker, so the resource reconciles again meanwhile (a scale-out during
   * a drain is published at once) and other keys keep their workers. The work's signal aborts at shutdown, so it must
   * be safe to abandon at any moment, its state recoverable from AWS; when it fails, the resource is retried with
   * backoff. Absent (`apply`, `plan`), the reconciler awaits such work inside `apply`.
   */
  readonly detach?: Detach;
  /**
   * The pass this context belongs to, when it was derived for one resource of it (with that resource's deadline as
   * its signal): reads a reconciler shares per pass (`PassMemo`) are keyed by it, so they stay shared. Absent, the
   * context is its own pass.
   */
  readonly pass?: object;
}

/** Runs `work` beside the work queue; `what` names it in logs. */
export type Detach = (what: string, work: (signal: AbortSignal) => Promise<void>) => void;

/** One kind's reconciler: observe AWS, diff against the spec with a pure planner, hand back the plan. */
export interface Reconciler {
  readonly kind: string;
  /** Apply order across kinds: lower first (a namespace before its services). */
  readonly order: number;
  /** Observes AWS (reads only) and plans the changes for one spec. */
  plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan>;
  /**
   * Plans the removal of what this owner made for specs that no longer exist (and asked to be pruned). Only called
   * when every spec file loaded cleanly: an invalid spec is never read as a deletion.
   */
  planOrphans?(ctx: ReconcileContext): Promise<ResourcePlan[]>;
  /** Keys of AWS state (e.g. `ecs:cluster/service`, `asg:name`) whose change should wake this spec's reconcile. */
  watches?(doc: SpecDocument): readonly string[];
}

/** A reconcile that cannot succeed until a spec or AWS state changes: not retried by the controller. */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

/** A dependency (such as a namespace another spec creates) is not there yet: retry soon, not an error to report. */
export class DependencyNotReadyError extends Error {
  override readonly name = "DependencyNotReadyError";
}

/**
 * What a plan was made from changed in AWS before it was applied (someone else wrote between the read and the write):
 * plan again from a fresh read. Retried by `apply` and under `run`, never reported as a spec problem.
 */
export class StalePlanError extends Error {
  override readonly name: string = "StalePlanError";
}

/** The key of a kind's orphan sweep: what the owner made for specs that no longer exist. */
export function sweepKey(kind: string): string {
  return `${kind}/*`;
}

/** Whether a key is a kind's orphan sweep (`sweepKey`), not a spec's. */
export function isSweepKey(key: string): boolean {
  return key.endsWith("/*");
}
