import { systemClock, type Clock } from "./clock.ts";
import type { Change } from "./reconciler.ts";
import type { ChangeRecord, DecisionRecord, TargetRef, TargetSummary } from "./status-model.ts";

export interface ResourceActivityOptions {
  readonly clock?: Clock;
  /** Changes kept per resource. Default 20. */
  readonly maxChanges?: number;
  /** Decisions kept, all resources together. Default 50. */
  readonly maxDecisions?: number;
  /** Targets listed per resource (all are counted). Default 100. */
  readonly maxTargets?: number;
}

/**
 * What `/status` shows beside each resource's conditions: the latest changes it made, its targets, and the
 * controller's latest decisions. Bounded: a few entries per resource, and resources forgotten with their spec.
 */
export class ResourceActivity {
  private readonly clock: Clock;
  private readonly maxChanges: number;
  private readonly maxDecisions: number;
  private readonly maxTargets: number;
  private readonly changes = new Map<string, ChangeRecord[]>();
  private readonly targets = new Map<string, TargetSummary>();
  private recent: DecisionRecord[] = [];

  constructor(options: ResourceActivityOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxChanges = options.maxChanges ?? 20;
    this.maxDecisions = options.maxDecisions ?? 50;
    this.maxTargets = options.maxTargets ?? 100;
  }

  /** Changes a reconcile applied, in the order it applied them. */
  changed(resource: string, changes: readonly Change[]): void {
    if (changes.length === 0) return;
    const time = this.now();
    const added = changes.map((c): ChangeRecord => ({
      time,
      action: c.action,
      target: c.target,
      detail: c.detail ?? null,
    }));
    this.changes.set(
      resource,
      [...added.reverse(), ...(this.changes.get(resource) ?? [])].slice(0, this.maxChanges),
    );
  }

  /**
   * One decision: `applied`, `drift-corrected`, `failed`, `waiting`, `orphan-removed`, `invalid-spec`. A repeat of
   * the resource's latest decision (a retry failing the same way) moves it up with its new time instead of crowding
   * out the others.
   */
  decided(resource: string, decision: string, message: string): void {
    const latest = this.recent.findIndex((d) => d.resource === resource);
    const same = this.recent[latest];
    const rest =
      same !== undefined && same.decision === decision && same.message === message
        ? this.recent.filter((_, i) => i !== latest)
        : this.recent;
    this.recent = [{ time: this.now(), resource, decision, message }, ...rest].slice(0, this.maxDecisions);
  }

  /** What the resource points at after its latest reconcile. */
  setTargets(resource: string, targets: readonly TargetRef[]): void {
    const sorted = [...targets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.targets.set(resource, { count: sorted.length, items: sorted.slice(0, this.maxTargets) });
  }

  /** A spec that is gone: its changes and targets go too (its decisions age out). */
  forget(resource: string): void {
    this.changes.delete(resource);
    this.targets.delete(resource);
  }

  changesOf(resource: string): readonly ChangeRecord[] {
    return this.changes.get(resource) ?? [];
  }

  targetsOf(resource: string): TargetSummary | undefined {
    return this.targets.get(resource);
  }

  decisions(): readonly DecisionRecord[] {
    return this.recent;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
