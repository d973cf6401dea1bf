import type { Logger } from "../logger.ts";
import type { KindDefinition, SourcePosition, SpecDocument } from "../spec/document.ts";
import { loadSpecDirectory, type LoadResult } from "../spec/load.ts";
import {
  EMPTY_SNAPSHOT,
  nextRead,
  type SpecRead,
  type SpecSnapshot,
  type SpecSource,
} from "../spec-source.ts";
import {
  repositoryPath,
  type GitSnapshot,
  type GitSourceStatus,
  type GitSpecSource,
} from "./git-spec-source.ts";

export interface GitSpecWatcherOptions {
  readonly source: GitSpecSource;
  readonly kinds: readonly KindDefinition[];
  readonly environment?: string | undefined;
  readonly logger: Logger;
}

/** The Git source's part of `/status`: what `GitSpecSource.status()` says, named as a spec source. */
export interface GitSourceSection extends GitSourceStatus {
  readonly type: "git";
  /** The repository (credentials removed), the ref and the path, as in logs. */
  readonly location: string;
}

/**
 * The Git source as the controller's `SpecSource`: the first `load` makes the first fetch, and each revision the
 * source applies afterwards (each pull interval, or at once through the webhook) is read whole and handed to `watch`'s
 * callback. A revision reaches this class only after the source's check (`specRevisionCheck`), and is read through
 * `nextRead` all the same, so the rule that an invalid read is never a deletion holds here as for a directory. Spec
 * files are named as the repository names them (`prod/app.yaml`), not by the checkout's temp path, in every position a
 * later error may quote. Each snapshot carries its commit as `revision`.
 */
export class GitSpecWatcher implements SpecSource {
  readonly location: string;
  private readonly source: GitSpecSource;
  private readonly kinds: readonly KindDefinition[];
  private readonly environment: string | undefined;
  private readonly logger: Logger;
  private current: SpecSnapshot = EMPTY_SNAPSHOT;
  private reading: Promise<unknown> = Promise.resolve();
  private readonly stop = new AbortController();
  private running: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: GitSpecWatcherOptions) {
    this.source = options.source;
    this.kinds = options.kinds;
    this.environment = options.environment;
    this.logger = options.logger;
    const { url, ref, path } = options.source.status();
    this.location = `${url} ${ref}${path === "." ? "" : ` path ${path}`}`;
  }

  /**
   * Reads the source's current revision (the first call fetches it, and throws the source's one-sentence error when it
   * cannot). Reading an unchanged revision again changes nothing. Reads never overlap.
   */
  load(): Promise<SpecRead> {
    const next = this.reading.then(() => this.read());
    this.reading = next.catch(() => undefined);
    return next;
  }

  /** Starts the source's pull loop; each new revision is read and handed to `onRead`, until `close`. */
  watch(onRead: (read: SpecRead) => void): void {
    if (this.running !== undefined || this.stop.signal.aborted) return;
    this.unsubscribe = this.source.onRevision(() => {
      this.load().then(
        (read) => {
          if (!this.stop.signal.aborted) onRead(read);
        },
        (error: unknown) =>
          this.logger.warn("Git revision could not be read; the previous specs stay", { error }),
      );
    });
    this.running = this.source.run(this.stop.signal);
  }

  /** Stops the pull loop. The source itself (its fetch in flight, its checkouts) is closed by its owner. */
  close(): void {
    this.stop.abort();
    this.unsubscribe?.();
  }

  /** `/status`'s `source` section. */
  status(): GitSourceSection {
    return { type: "git", location: this.location, ...this.source.status() };
  }

  private async read(): Promise<SpecRead> {
    if (this.source.current() === undefined) await this.source.start();
    return this.source.read(async (git) => {
      if (git.revision === this.current.revision?.id) {
        return { snapshot: this.current, changes: { changed: [], removed: [] } };
      }
      const loaded = await loadSpecDirectory(git.dir, this.kinds, { environment: this.environment });
      const read = nextRead(this.current, inRepository(loaded, git), { location: this.location });
      this.current = {
        ...read.snapshot,
        revision: { id: git.revision, fetchedAt: git.fetchedAt.getTime() },
      };
      return { snapshot: this.current, changes: read.changes };
    });
  }
}

/** A load's files, diagnostics and positions named relative to the repository, consistently for `nextRead`. */
function inRepository(loaded: LoadResult, git: GitSnapshot): LoadResult {
  const path = (file: string): string => repositoryPath(git, file);
  const at = (p: SourcePosition): SourcePosition => ({ ...p, file: path(p.file) });
  // Every other field as loaded: the environment asked for and those declared are what `nextRead` judges.
  return {
    ...loaded,
    documents: loaded.documents.map((doc): SpecDocument => ({
      ...doc,
      source: at(doc.source),
      positionOf: (p) => at(doc.positionOf(p)),
    })),
    diagnostics: loaded.diagnostics.map((d) => ({ ...d, file: path(d.file) })),
    ...(loaded.warnings !== undefined
      ? { warnings: loaded.warnings.map((d) => ({ ...d, file: path(d.file) })) }
      : {}),
    files: loaded.files.map(path),
  };
}
