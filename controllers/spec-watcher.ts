import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "./logger.ts";
import { resourceKey, type KindDefinition, type SpecDocument } from "./spec/document.ts";
import { isComplete, loadSpecDirectory, type SpecDiagnostic } from "./spec/load.ts";

/** The desired state as last read. */
export interface SpecSnapshot {
  readonly documents: readonly SpecDocument[];
  /** Every file read cleanly: only then may a missing spec mean "delete what it managed". */
  readonly complete: boolean;
  readonly diagnostics: readonly SpecDiagnostic[];
  /** Keys whose file is invalid now, kept at their last valid version. */
  readonly kept: readonly string[];
}

/** What changed between two reads. */
export interface SpecChanges {
  /** Keys added, or whose generation changed. */
  readonly changed: readonly string[];
  /** Keys whose spec is gone (their file was removed, or the document removed from a valid file). */
  readonly removed: readonly string[];
}

export interface SpecWatcherOptions {
  readonly dir: string;
  readonly kinds: readonly KindDefinition[];
  readonly environment?: string | undefined;
  readonly logger: Logger;
  /** Quiet time after the last file event before the directory is read again. */
  readonly debounceMs?: number;
  /** Called after a read prompted by a file event. */
  readonly onReload?: (snapshot: SpecSnapshot, changes: SpecChanges) => void;
}

/**
 * Reads the spec directory, and again when a file in it changes (debounced) or when asked (each resync).
 * A file that became invalid keeps its previous valid documents: an invalid spec is never read as a deletion.
 */
export class SpecWatcher {
  private readonly dir: string;
  private readonly kinds: readonly KindDefinition[];
  private readonly environment: string | undefined;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly onReload: ((snapshot: SpecSnapshot, changes: SpecChanges) => void) | undefined;
  private current: SpecSnapshot = { documents: [], complete: false, diagnostics: [], kept: [] };
  private watcher: FSWatcher | undefined;
  /** Watches the directory holding `dir` for a swap of `dir` itself (a git-sync style symlink replaced). */
  private linkWatcher: FSWatcher | undefined;
  /** The real path `dir` was last read from; the watch follows it when a symlink swap moves it. */
  private root: string | undefined;
  private watchedRoot: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: SpecWatcherOptions) {
    this.dir = options.dir;
    this.kinds = options.kinds;
    this.environment = options.environment;
    this.logger = options.logger;
    this.debounceMs = options.debounceMs ?? 250;
    this.onReload = options.onReload;
  }

  get snapshot(): SpecSnapshot {
    return this.current;
  }

  /** Reads the directory now. Reads never overlap: a second call waits for the first. */
  load(): Promise<{ snapshot: SpecSnapshot; changes: SpecChanges }> {
    const next = this.reading.then(() => this.read());
    this.reading = next.catch(() => undefined);
    return next;
  }

  /** Starts watching for file events. Harmless to call again after the watch failed. */
  watch(): void {
    if (this.closed) return;
    if (this.linkWatcher === undefined) {
      try {
        const name = basename(this.dir);
        this.linkWatcher = watch(dirname(this.dir), { persistent: false }, (_event, file) => {
          if (file === null || file === name) this.schedule();
        });
        this.linkWatcher.on("error", () => {
          this.linkWatcher?.close();
          this.linkWatcher = undefined;
        });
      } catch {
        // Without it, a swapped link is still seen at the next resync's read.
      }
    }
    if (this.watcher !== undefined && this.watchedRoot === this.root) return;
    this.watcher?.close();
    this.watcher = undefined;
    try {
      // Watched by its real path: an inotify watch stays on the tree it was set on, so a swap means a new watch.
      this.watchedRoot = this.root;
      this.watcher = watch(this.root ?? this.dir, { recursive: true, persistent: false }, () =>
        this.schedule(),
      );
      this.watcher.on("error", (error) => {
        this.logger.warn("spec directory watch failed; re-read each resync", { dir: this.dir, error });
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.logger.warn("cannot watch the spec directory; re-read each resync", { dir: this.dir, error });
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    this.linkWatcher?.close();
    this.linkWatcher = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.load().then(
        ({ snapshot, changes }) => {
          if (!this.closed) this.onReload?.(snapshot, changes);
        },
        (error: unknown) => this.logger.warn("spec directory read failed", { dir: this.dir, error }),
      );
    }, this.debounceMs);
  }

  private async read(): Promise<{ snapshot: SpecSnapshot; changes: SpecChanges }> {
    const loaded = await loadSpecDirectory(this.dir, this.kinds, { environment: this.environment });
    if (loaded.root !== undefined && loaded.root !== this.root) {
      this.root = loaded.root;
      if (this.watcher !== undefined) this.watch();
    }
    const previous = this.current;
    const files = new Set(loaded.files);
    const badFiles = new Set(loaded.diagnostics.map((d) => d.file));
    // A diagnostic on no file read means the directory itself could not be read: keep everything.
    const wholeFailed = loaded.diagnostics.some((d) => !files.has(d.file));
    const documents = [...loaded.documents];
    const present = new Set(documents.map(resourceKey));
    const kept: string[] = [];
    for (const doc of previous.documents) {
      const key = resourceKey(doc);
      if (present.has(key)) continue;
      if (wholeFailed || badFiles.has(doc.source.file)) {
        documents.push(doc);
        present.add(key);
        kept.push(key);
      }
    }
    const snapshot: SpecSnapshot = {
      documents,
      complete: isComplete(loaded),
      diagnostics: loaded.diagnostics,
      kept: kept.sort(),
    };
    const before = new Map(previous.documents.map((d) => [resourceKey(d), d.generation]));
    const changed = documents
      .filter((d) => before.get(resourceKey(d)) !== d.generation)
      .map(resourceKey)
      .sort();
    const removed = [...before.keys()].filter((k) => !present.has(k)).sort();
    this.current = snapshot;
    return { snapshot, changes: { changed, removed } };
  }
}
