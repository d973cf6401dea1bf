import { normaliseWatchKey, parseWatchKey, WatchIndex } from "./informers.ts";
import { sweepKey, type Reconciler } from "./reconciler.ts";
import { resourceKey, type SpecDocument } from "./spec/document.ts";
import { EMPTY_SNAPSHOT, type SpecChanges, type SpecSnapshot } from "./spec-source.ts";

/** What a new read of the specs asks of the controller. */
export interface SpecUpdate {
  /**
   * Keys to reconcile, in order (a key may come twice): the specs that changed, the specs reconciled together with
   * one of them, and the sweeps that may now remove what removed specs left.
   */
  readonly wake: readonly string[];
  /** Kinds that lost a spec while a file is invalid: nothing of theirs is deleted until every file is valid. */
  readonly heldSweeps: readonly string[];
  /**
   * Sweeps whose deletions the prune guard holds, swept again at every read (not a spec change): restored specs
   * release the hold at once.
   */
  readonly resweep: readonly string[];
}

/**
 * Whether a sweep planned over the specs `planned` may still be applied now that the last read is `now`. A sweep
 * deletes what no spec manages, and the prune guard judged it by the spec set it was planned from: a read taken while
 * it planned (a checkout swapped back, a spec restored or edited, a file turned invalid) makes both judgements stale.
 * The sweep is then made again from the new read, not applied. Every kind's specs count, not only the sweep's: a
 * CloudMapNamespace sweep deletes the services of CloudMapService specs, and a task definition family's revert takes
 * back both LogRouter and SidecarVolume patches. Specs change rarely, so this costs no sweep that was still right.
 * Pure.
 */
export function sweepStillValid(planned: SpecSnapshot, now: SpecSnapshot): boolean {
  if (planned === now) return true;
  if (!now.complete) return false;
  return fingerprint(planned) === fingerprint(now);
}

/**
 * The specs of `now` that `planned` did not have as they are (new, back, or edited): those a sweep planned over
 * `planned` may have deleted objects of, to reconcile again once it has applied.
 */
export function specsChangedSince(planned: SpecSnapshot, now: SpecSnapshot): string[] {
  if (planned === now) return [];
  const before = new Set(versions(planned));
  return now.documents.filter((d) => !before.has(version(d))).map(resourceKey);
}

const version = (d: SpecDocument): string => `${resourceKey(d)}@${d.generation}`;
const versions = (snapshot: SpecSnapshot): string[] => snapshot.documents.map(version);

/** Each snapshot's specs as keys and generations, sorted: equal when no spec came, went or changed. */
const fingerprints = new WeakMap<SpecSnapshot, string>();
function fingerprint(snapshot: SpecSnapshot): string {
  let known = fingerprints.get(snapshot);
  if (known === undefined) fingerprints.set(snapshot, (known = versions(snapshot).sort().join("\n")));
  return known;
}

/**
 * The specs the controller works from (the source's last snapshot, swapped in whole), the watch index built from
 * them, and which keys a new snapshot wakes. Pure: no I/O, no clock.
 */
export class DesiredState {
  private readonly reconcilers: ReadonlyMap<string, Reconciler>;
  private current: SpecSnapshot = EMPTY_SNAPSHOT;
  private byKey = new Map<string, SpecDocument>();
  private index = new WatchIndex();
  private readonly swapListeners = new Set<() => void>();

  constructor(reconcilers: readonly Reconciler[]) {
    this.reconcilers = new Map(reconcilers.map((r) => [r.kind, r]));
  }

  get snapshot(): SpecSnapshot {
    return this.current;
  }

  /** `Kind/name` of every spec now loaded. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  document(key: string): SpecDocument | undefined {
    return this.byKey.get(key);
  }

  reconcilerOf(kind: string): Reconciler | undefined {
    return this.reconcilers.get(kind);
  }

  /** Every watch key a loaded spec watches: what the informers list. */
  watchKeys(): string[] {
    return this.index.watchKeys();
  }

  /** Each watch key a loaded spec watches, with the resource keys that watch it. */
  watchers(): Map<string, string[]> {
    return this.index.entries();
  }

  /** The watch keys of a loaded spec, normalised (cluster ARNs become names), sorted. */
  watchesOfKey(key: string): string[] {
    const doc = this.byKey.get(key);
    return doc === undefined ? [] : [...new Set(this.watchesOf(doc).map(normaliseWatchKey))].sort();
  }

  /** The resource keys the given watch keys wake, each once. */
  resourcesOf(watchKeys: Iterable<string>): string[] {
    return this.index.resourcesOf(watchKeys);
  }

  /**
   * Every key the controller may hold state for: the specs and every kind's sweep. Per-key structures keep exactly
   * these, so that memory grows with the specs, never with time.
   */
  liveKeys(): Set<string> {
    const live = new Set(this.byKey.keys());
    for (const r of this.reconcilers.values()) if (r.planOrphans !== undefined) live.add(sweepKey(r.kind));
    return live;
  }

  /** The orphan sweeps of the kinds that have one; none while a spec file is invalid. */
  sweepKeys(snapshot: SpecSnapshot = this.current): string[] {
    if (!snapshot.complete) return [];
    return [...this.reconcilers.values()]
      .filter((r) => r.planOrphans !== undefined)
      .map((r) => sweepKey(r.kind));
  }

  /**
   * Calls `listener` right after every swap (inside `update`), until the returned function is called: a sweep whose
   * deletions wait in a writer learns at once that its specs changed.
   */
  onSwap(listener: () => void): () => void {
    this.swapListeners.add(listener);
    return () => void this.swapListeners.delete(listener);
  }

  /** Swaps in a new snapshot, and says what it wakes; `held` are the kinds whose deletions the prune guard holds. */
  update(snapshot: SpecSnapshot, changes: SpecChanges, held: readonly string[] = []): SpecUpdate {
    const wasComplete = this.current.complete;
    this.current = snapshot;
    this.byKey = new Map(snapshot.documents.map((d) => [resourceKey(d), d]));
    this.index = new WatchIndex(
      snapshot.documents.map((doc) => ({ resource: resourceKey(doc), watches: this.watchesOf(doc) })),
    );
    for (const listener of [...this.swapListeners]) listener();
    const wake: string[] = [...changes.changed];
    // A watch key that names no AWS state (such as `taskdef:FAMILY`) groups specs that are reconciled together: an
    // edit to one wakes the others, since one of them may be the one that applies the group's changes.
    const groups = changes.changed.flatMap((key) => {
      const doc = this.byKey.get(key);
      return doc === undefined ? [] : this.watchesOf(doc).filter((w) => parseWatchKey(w) === undefined);
    });
    const changed = new Set(changes.changed);
    for (const key of this.index.resourcesOf(groups)) if (!changed.has(key)) wake.push(key);
    // Specs removed while a file was invalid were not swept then.
    if (snapshot.complete && !wasComplete) wake.push(...this.sweepKeys(snapshot));
    const heldSweeps: string[] = [];
    for (const kind of new Set(changes.removed.map((k) => k.slice(0, k.indexOf("/"))))) {
      if (!snapshot.complete) heldSweeps.push(kind);
      else if (this.reconcilers.get(kind)?.planOrphans !== undefined) wake.push(sweepKey(kind));
    }
    const resweep = snapshot.complete
      ? held.filter((kind) => this.reconcilers.get(kind)?.planOrphans !== undefined).map(sweepKey)
      : [];
    return { wake, heldSweeps, resweep };
  }

  private watchesOf(doc: SpecDocument): readonly string[] {
    return this.reconcilers.get(doc.kind)?.watches?.(doc) ?? [];
  }
}
