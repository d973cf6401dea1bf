/** A Kubernetes-style condition: what `/status` shows for each resource. */
export interface Condition {
  /** `DeletionHeld`: on a kind's orphan sweep (`Kind/*`), deletions the prune guard holds back. */
  readonly type: "Ready" | "Stalled" | "DeletionHeld";
  readonly status: "True" | "False" | "Unknown";
  /** CamelCase, machine-readable. */
  readonly reason: string;
  readonly message: string;
  /** ISO 8601; moves only when `status` changes. */
  readonly lastTransitionTime: string;
}

export interface ResourceStatus {
  readonly key: string;
  readonly kind: string;
  readonly name: string;
  /** `doc.generation` of the spec now loaded. */
  readonly generation: string | undefined;
  /** `doc.generation` of the spec last applied successfully. */
  readonly observedGeneration: string | undefined;
  readonly conditions: readonly Condition[];
  readonly lastError: string | undefined;
  readonly lastReconcileTime: string | undefined;
  /** Changes made by the last successful reconcile. */
  readonly lastChanges: number;
}

interface Entry {
  kind: string;
  name: string;
  generation: string | undefined;
  observedGeneration: string | undefined;
  conditions: Condition[];
  lastError: string | undefined;
  lastReconcileTime: string | undefined;
  lastChanges: number;
  synced: boolean;
}

export type Outcome =
  | { readonly result: "success"; readonly generation: string | undefined; readonly changes: number }
  | { readonly result: "error" | "requeue" | "terminal"; readonly reason: string; readonly message: string };

/** Each resource's state, as the controller last saw it. */
export class StatusStore {
  private readonly now: () => Date;
  private readonly entries = new Map<string, Entry>();

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  /**
   * The spec now loaded for a key (undefined generation for a key that is not a spec, such as a kind's orphan sweep).
   * Only tracked keys have a status: an outcome recorded for a key that is gone (a reconcile that finished after its
   * spec was removed) is dropped, so the store holds exactly the live keys.
   */
  track(key: string, generation: string | undefined): void {
    const entry = this.entryOf(key);
    entry.generation = generation;
    if (entry.conditions.length === 0) {
      this.setCondition(entry, "Ready", "Unknown", "Pending", "not reconciled yet");
    }
  }

  /** A key whose spec is gone. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key not in `live`. */
  retain(live: ReadonlySet<string>): void {
    for (const key of [...this.entries.keys()]) if (!live.has(key)) this.entries.delete(key);
  }

  /** The keys held, for tests and the soak benchmark: bounded by the live keys. */
  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Deletions the prune guard holds back for this key (a kind's sweep), and why. */
  held(key: string, reason: string, message: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.setCondition(entry, "DeletionHeld", "True", reason, message);
  }

  /** The prune guard holds nothing back for this key any more. */
  released(key: string): void {
    const entry = this.entries.get(key);
    if (entry?.conditions.some((c) => c.type === "DeletionHeld" && c.status === "True")) {
      this.setCondition(entry, "DeletionHeld", "False", "NothingHeld", "");
    }
  }

  /** A spec whose file became invalid: the last valid version is kept and reconciled. */
  invalid(key: string, message: string): void {
    if (!this.entries.has(key)) return;
    this.setCondition(this.entryOf(key), "Stalled", "True", "InvalidSpec", message);
  }

  /** True once a reconcile of the key succeeded. */
  synced(key: string): boolean {
    return this.entries.get(key)?.synced ?? false;
  }

  observedGeneration(key: string): string | undefined {
    return this.entries.get(key)?.observedGeneration;
  }

  record(key: string, outcome: Outcome): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    entry.lastReconcileTime = this.now().toISOString();
    switch (outcome.result) {
      case "success":
        entry.synced = true;
        entry.observedGeneration = outcome.generation;
        entry.lastError = undefined;
        entry.lastChanges = outcome.changes;
        this.setCondition(
          entry,
          "Ready",
          "True",
          "Converged",
          outcome.changes > 0 ? `applied ${outcome.changes} change(s)` : "no changes needed",
        );
        if (entry.conditions.some((c) => c.type === "Stalled" && c.reason !== "InvalidSpec")) {
          this.setCondition(entry, "Stalled", "False", "Converged", "");
        }
        break;
      case "requeue":
        this.setCondition(entry, "Ready", "False", outcome.reason, outcome.message);
        break;
      case "error":
        entry.lastError = outcome.message;
        this.setCondition(entry, "Ready", "False", outcome.reason, outcome.message);
        break;
      case "terminal":
        entry.lastError = outcome.message;
        this.setCondition(entry, "Ready", "False", outcome.reason, outcome.message);
        this.setCondition(entry, "Stalled", "True", outcome.reason, outcome.message);
        break;
    }
  }

  /** A spec whose file is valid again: clears the InvalidSpec stall. */
  valid(key: string): void {
    const entry = this.entries.get(key);
    if (
      entry?.conditions.some((c) => c.type === "Stalled" && c.reason === "InvalidSpec" && c.status === "True")
    ) {
      this.setCondition(entry, "Stalled", "False", "SpecValid", "");
    }
  }

  get(key: string): ResourceStatus | undefined {
    const e = this.entries.get(key);
    return e === undefined ? undefined : snapshot(key, e);
  }

  list(): ResourceStatus[] {
    return [...this.entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, e]) => snapshot(key, e));
  }

  private entryOf(key: string): Entry {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const slash = key.indexOf("/");
      entry = {
        kind: key.slice(0, slash),
        name: key.slice(slash + 1),
        generation: undefined,
        observedGeneration: undefined,
        conditions: [],
        lastError: undefined,
        lastReconcileTime: undefined,
        lastChanges: 0,
        synced: false,
      };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private setCondition(
    entry: Entry,
    type: Condition["type"],
    status: Condition["status"],
    reason: string,
    message: string,
  ): void {
    const old = entry.conditions.find((c) => c.type === type);
    const lastTransitionTime =
      old !== undefined && old.status === status ? old.lastTransitionTime : this.now().toISOString();
    const next: Condition = { type, status, reason, message, lastTransitionTime };
    entry.conditions = [...entry.conditions.filter((c) => c.type !== type), next].sort((a, b) =>
      a.type < b.type ? -1 : 1,
    );
  }
}

function snapshot(key: string, e: Entry): ResourceStatus {
  return {
    key,
    kind: e.kind,
    name: e.name,
    generation: e.generation,
    observedGeneration: e.observedGeneration,
    conditions: e.conditions,
    lastError: e.lastError,
    lastReconcileTime: e.lastReconcileTime,
    lastChanges: e.lastChanges,
  };
}
