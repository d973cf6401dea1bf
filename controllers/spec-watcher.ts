import { watch as fsWatch } from "node:fs";
import { basename, dirname } from "node:path";
import { systemClock, type Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import type { KindDefinition } from "./spec/document.ts";
import { loadSpecDirectory } from "./spec/load.ts";
import {
  EMPTY_SNAPSHOT,
  nextRead,
  type SpecRead,
  type SpecSnapshot,
  type SpecSource,
} from "./spec-source.ts";

export type { SpecChanges, SpecSnapshot } from "./spec-source.ts";

/** A running watch of a directory tree; `onEvent` is called for any change below it. */
export interface DirectoryWatch {
  close(): void;
}

/** Starts watching `dir` (recursively); `onError` when the watch breaks. Throws when it cannot start. */
export type WatchDirectory = (
  dir: string,
  onEvent: () => void,
  onError: (error: Error) => void,
) => DirectoryWatch;

/** `fs.watch`, recursive, not keeping the process alive. */
export const watchDirectory: WatchDirectory = (dir, onEvent, onError) => {
  const watcher = fsWatch(dir, { recursive: true, persistent: false }, () => onEvent());
  watcher.on("error", onError);
  return watcher;
};

/**
 * Starts watching the entry `path` itself (not what is below it): `onEvent` when it is replaced, as a git-sync style
 * checkout swaps a symlink. Throws when it cannot start.
 */
export type WatchEntry = (
  path: string,
  onEvent: () => void,
  onError: (error: Error) => void,
) => DirectoryWatch;

/** `fs.watch` on the entry's parent directory, not recursive, filtered to the entry's name. */
export const watchEntry: WatchEntry = (path, onEvent, onError) => {
  const name = basename(path);
  const watcher = fsWatch(dirname(path), { persistent: false }, (_event, file) => {
    if (file === null || file === name) onEvent();
  });
  watcher.on("error", onError);
  return watcher;
};

export interface SpecWatcherOptions {
  readonly dir: string;
  readonly kinds: readonly KindDefinition[];
  readonly environment?: string | undefined;
  readonly logger: Logger;
  /** Quiet time after the last file event before the directory is read again. */
  readonly debounceMs?: number;
  readonly clock?: Clock;
  /** How file events are watched for; `fs.watch` by default. */
  readonly watchDirectory?: WatchDirectory;
  /** How a swap of `dir` itself is watched for; `fs.watch` on its parent by default. */
  readonly watchEntry?: WatchEntry;
}

/**
 * The spec directory as a `SpecSource`: reads it, and again when a file in it changes (debounced) or when asked (each
 * resync). A file that became invalid keeps its previous valid documents: an invalid spec is never read as a deletion.
 */
export class SpecWatcher implements SpecSource {
  private readonly dir: string;
  private readonly kinds: readonly KindDefinition[];
  private readonly environment: string | undefined;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly clock: Clock;
  private readonly watchDirectory: WatchDirectory;
  private readonly watchEntry: WatchEntry;
  private current: SpecSnapshot = EMPTY_SNAPSHOT;
  private watcher: DirectoryWatch | undefined;
  /** Watches `dir` itself for a swap (a git-sync style symlink replaced). */
  private linkWatcher: DirectoryWatch | undefined;
  /** The real path `dir` was last read from; the watch follows it when a symlink swap moves it. */
  private root: string | undefined;
  private watchedRoot: string | undefined;
  private onRead: ((read: SpecRead) => void) | undefined;
  /** Aborts the pending debounce. */
  private debounce: AbortController | undefined;
  private reading: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: SpecWatcherOptions) {
    this.dir = options.dir;
    this.kinds = options.kinds;
    this.environment = options.environment;
    this.logger = options.logger;
    this.debounceMs = options.debounceMs ?? 250;
    this.clock = options.clock ?? systemClock;
    this.watchDirectory = options.watchDirectory ?? watchDirectory;
    this.watchEntry = options.watchEntry ?? watchEntry;
  }

  get location(): string {
    return this.dir;
  }

  get snapshot(): SpecSnapshot {
    return this.current;
  }

  /** Reads the directory now. Reads never overlap: a second call waits for the first. */
  load(): Promise<SpecRead> {
    const next = this.reading.then(() => this.read());
    this.reading = next.catch(() => undefined);
    return next;
  }

  /** Starts watching for file events. Harmless to call again after the watch failed. */
  watch(onRead: (read: SpecRead) => void): void {
    this.onRead = onRead;
    this.startWatches();
  }

  private startWatches(): void {
    if (this.closed) return;
    if (this.linkWatcher === undefined) {
      try {
        this.linkWatcher = this.watchEntry(
          this.dir,
          () => this.schedule(),
          () => {
            this.linkWatcher?.close();
            this.linkWatcher = undefined;
          },
        );
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
      this.watcher = this.watchDirectory(
        this.root ?? this.dir,
        () => this.schedule(),
        (error) => {
          this.logger.warn("spec directory watch failed; re-read each resync", { dir: this.dir, error });
          this.watcher?.close();
          this.watcher = undefined;
        },
      );
    } catch (error) {
      this.logger.warn("cannot watch the spec directory; re-read each resync", { dir: this.dir, error });
    }
  }

  close(): void {
    this.closed = true;
    this.debounce?.abort();
    this.watcher?.close();
    this.watcher = undefined;
    this.linkWatcher?.close();
    this.linkWatcher = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    this.debounce?.abort();
    const debounce = new AbortController();
    this.debounce = debounce;
    this.clock.sleep(this.debounceMs, debounce.signal).then(
      () => {
        if (this.debounce === debounce) this.debounce = undefined;
        this.load().then(
          (read) => {
            if (!this.closed) this.onRead?.(read);
          },
          (error: unknown) => this.logger.warn("spec directory read failed", { dir: this.dir, error }),
        );
      },
      () => undefined,
    );
  }

  private async read(): Promise<SpecRead> {
    const loaded = await loadSpecDirectory(this.dir, this.kinds, { environment: this.environment });
    if (loaded.root !== undefined && loaded.root !== this.root) {
      this.root = loaded.root;
      if (this.watcher !== undefined) this.startWatches();
    }
    const read = nextRead(this.current, loaded, { location: this.dir });
    this.current = read.snapshot;
    return read;
  }
}
