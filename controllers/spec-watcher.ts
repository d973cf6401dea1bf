import { watch as fsWatch } from "node:fs";
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
  private current: SpecSnapshot = EMPTY_SNAPSHOT;
  private watcher: DirectoryWatch | undefined;
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
    if (this.closed || this.watcher !== undefined) return;
    try {
      this.watcher = this.watchDirectory(
        this.dir,
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
    const read = nextRead(
      this.current,
      await loadSpecDirectory(this.dir, this.kinds, { environment: this.environment }),
      { environment: this.environment, location: this.dir },
    );
    this.current = read.snapshot;
    return read;
  }
}
