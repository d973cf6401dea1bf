import type { Logger } from "../logger.ts";
import {
  resourceKey,
  type KindDefinition,
  type SourcePosition,
  type SpecDocument,
} from "../spec/document.ts";
import { isComplete, loadSpecDirectory } from "../spec/load.ts";
import type { SpecChanges, SpecSnapshot } from "../spec-watcher.ts";
import { repositoryPath, type GitSnapshot, type GitSpecSource } from "./git-spec-source.ts";

export interface GitSpecWatcherOptions {
  readonly source: GitSpecSource;
  readonly kinds: readonly KindDefinition[];
  readonly environment?: string | undefined;
  readonly logger: Logger;
  /** Called with each new revision's specs once `watch` has started. */
  readonly onReload?: (snapshot: SpecSnapshot, changes: SpecChanges) => void;
}

/**
 * The Git source seen as the controller sees a spec directory (the same `load`, `watch`, `close` and snapshots as
 * `SpecWatcher`): each revision the source applies is read whole, and only a revision that passed the source's check
 * gets here, so every snapshot is complete. Spec files are named as the repository names them (`prod/app.yaml`),
 * not by the checkout's temp path, in every position a later error may quote.
 */
export class GitSpecWatcher {
  private readonly source: GitSpecSource;
  private readonly kinds: readonly KindDefinition[];
  private readonly environment: string | undefined;
  private readonly logger: Logger;
  private readonly onReload: ((snapshot: SpecSnapshot, changes: SpecChanges) => void) | undefined;
  private current: SpecSnapshot = { documents: [], complete: false, diagnostics: [], kept: [] };
  private revision: string | undefined;
  private reading: Promise<unknown> = Promise.resolve();
  private readonly stop = new AbortController();
  private running: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: GitSpecWatcherOptions) {
    this.source = options.source;
    this.kinds = options.kinds;
    this.environment = options.environment;
    this.logger = options.logger;
    this.onReload = options.onReload;
  }

  get snapshot(): SpecSnapshot {
    return this.current;
  }

  /** The commit the snapshot was read from. */
  get appliedRevision(): string | undefined {
    return this.revision;
  }

  /**
   * Reads the source's current revision (the first call fetches it, and throws the source's one-sentence error when it
   * cannot). Reading an unchanged revision again changes nothing. Reads never overlap.
   */
  load(): Promise<{ snapshot: SpecSnapshot; changes: SpecChanges }> {
    const next = this.reading.then(() => this.read());
    this.reading = next.catch(() => undefined);
    return next;
  }

  /** Starts the source's pull loop; each new revision is read and handed to `onReload`. */
  watch(): void {
    if (this.running !== undefined || this.stop.signal.aborted) return;
    this.unsubscribe = this.source.onRevision(() => {
      this.load().then(
        ({ snapshot, changes }) => {
          if (!this.stop.signal.aborted) this.onReload?.(snapshot, changes);
        },
        (error: unknown) =>
          this.logger.warn("Git revision could not be read; the previous specs stay", { error }),
      );
    });
    this.running = this.source.run(this.stop.signal);
  }

  /** Stops the pull loop (the source itself is closed by its owner). */
  close(): void {
    this.stop.abort();
    this.unsubscribe?.();
  }

  private async read(): Promise<{ snapshot: SpecSnapshot; changes: SpecChanges }> {
    if (this.source.current() === undefined) await this.source.start();
    return this.source.read(async (git) => {
      if (git.revision === this.revision)
        return { snapshot: this.current, changes: { changed: [], removed: [] } };
      const loaded = await loadSpecDirectory(git.dir, this.kinds, { environment: this.environment });
      const documents = loaded.documents.map((d) => inRepository(d, git));
      const snapshot: SpecSnapshot = {
        documents,
        complete: isComplete(loaded),
        diagnostics: loaded.diagnostics.map((d) => ({ ...d, file: repositoryPath(git, d.file) })),
        kept: [],
      };
      const before = new Map(this.current.documents.map((d) => [resourceKey(d), d.generation]));
      const present = new Set(documents.map(resourceKey));
      const changes: SpecChanges = {
        changed: documents
          .filter((d) => before.get(resourceKey(d)) !== d.generation)
          .map(resourceKey)
          .sort(),
        removed: [...before.keys()].filter((k) => !present.has(k)).sort(),
      };
      this.current = snapshot;
      this.revision = git.revision;
      return { snapshot, changes };
    });
  }
}

function inRepository(doc: SpecDocument, git: GitSnapshot): SpecDocument {
  const at = (p: SourcePosition): SourcePosition => ({ ...p, file: repositoryPath(git, p.file) });
  return { ...doc, source: at(doc.source), positionOf: (path) => at(doc.positionOf(path)) };
}
