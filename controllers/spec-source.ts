import { resourceKey, type SpecDocument } from "./spec/document.ts";
import { undeclaredEnvironment } from "./spec/environments.ts";
import { isComplete, type LoadResult, type SpecDiagnostic } from "./spec/load.ts";

/** Which version of the specs a snapshot is, for a source that has versions (a Git commit). */
export interface SpecRevision {
  /** A commit id, say. */
  readonly id: string;
  /** When the source fetched it (epoch ms, from the injected clock). */
  readonly fetchedAt: number;
}

/** The desired state as last read: one whole snapshot, which the controller swaps in at once. */
export interface SpecSnapshot {
  readonly documents: readonly SpecDocument[];
  /** Every file read cleanly: only then may a missing spec mean "delete what it managed". */
  readonly complete: boolean;
  readonly diagnostics: readonly SpecDiagnostic[];
  /** Keys whose file is invalid now, kept at their last valid version. */
  readonly kept: readonly string[];
  /** Set by a source with versions; a directory has none. */
  readonly revision?: SpecRevision | undefined;
  /**
   * Set when this read cannot stand for the desired state at all, with the sentence that says why: nothing could be
   * read (a missing or unreadable directory, a failed fetch), or `--environment` names an environment no spec
   * declares (the base specs would be applied where an environment's were meant). Every previous spec is then kept.
   * The controller refuses to start on such a read.
   */
  readonly unusable?: { readonly reason: "unreadable" | "environment"; readonly message: string } | undefined;
}

/** What changed between two reads. */
export interface SpecChanges {
  /** Keys added, or whose generation changed. */
  readonly changed: readonly string[];
  /** Keys whose spec is gone (their file was removed, or the document removed from a valid file). */
  readonly removed: readonly string[];
}

export interface SpecRead {
  readonly snapshot: SpecSnapshot;
  readonly changes: SpecChanges;
}

export const EMPTY_SNAPSHOT: SpecSnapshot = { documents: [], complete: false, diagnostics: [], kept: [] };

/**
 * Where the controller's desired state comes from: the spec directory (`SpecWatcher`), or anything else that yields
 * whole snapshots (a Git repository's revisions). A source never reads an invalid spec, an emptied directory or a
 * failed fetch as a deletion: it keeps what it read before and says the read is not `complete`.
 */
export interface SpecSource {
  /** Reads now (the controller's start and every resync). Reads never overlap: a second waits for the first. */
  load(): Promise<SpecRead>;
  /** Starts telling `onRead` about reads the source makes by itself (a file changed, a new revision), until `close`. */
  watch(onRead: (read: SpecRead) => void): void;
  close(): void;
  /** Where the specs are read from, for logs: a directory, a repository. */
  readonly location: string;
}

/** The specs could not be used at start (`SpecSnapshot.unusable`): the controller does not start on them. */
export class UnusableSpecsError extends Error {
  override readonly name = "UnusableSpecsError";
  readonly reason: "unreadable" | "environment";

  constructor(unusable: NonNullable<SpecSnapshot["unusable"]>) {
    super(unusable.message);
    this.reason = unusable.reason;
  }
}

/** Where a source read, for messages (the `--environment` it read with comes in the load result). */
export interface ReadOptions {
  readonly location?: string | undefined;
}

/**
 * The snapshot a source gives after `previous` when a read found `loaded`: a spec whose file became invalid keeps its
 * previous valid version (listed in `kept`), and when the read is unusable (nothing could be read at all: a
 * diagnostic on no file read; or an environment no spec declares) every previous spec is kept. Pure; every source
 * reads through it, so that none reads a broken read as a deletion.
 */
export function nextRead(previous: SpecSnapshot, loaded: LoadResult, options: ReadOptions = {}): SpecRead {
  const files = new Set(loaded.files);
  const badFiles = new Set(loaded.diagnostics.map((d) => d.file));
  const location = options.location ?? "the spec source";
  // A diagnostic on no file read means the directory itself could not be read: keep everything.
  const unreadable = loaded.diagnostics.filter((d) => !files.has(d.file));
  const environment = undeclaredEnvironment(loaded.environment, loaded.environments, location);
  const unusable: SpecSnapshot["unusable"] =
    unreadable.length > 0
      ? {
          reason: "unreadable",
          message: `cannot read the specs: ${unreadable.map((d) => `${d.file}: ${d.message}`).join("; ")}`,
        }
      : environment !== undefined
        ? { reason: "environment", message: environment }
        : undefined;
  const wholeFailed = unusable !== undefined;
  // An unusable read stands for nothing: not even its documents (read without the overlay asked for) replace any.
  const documents = wholeFailed ? [] : [...loaded.documents];
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
    complete: !wholeFailed && isComplete(loaded),
    diagnostics: loaded.diagnostics,
    kept: kept.sort(),
    ...(unusable !== undefined ? { unusable } : {}),
  };
  const before = new Map(previous.documents.map((d) => [resourceKey(d), d.generation]));
  const changed = documents
    .filter((d) => before.get(resourceKey(d)) !== d.generation)
    .map(resourceKey)
    .sort();
  const removed = [...before.keys()].filter((k) => !present.has(k)).sort();
  return { snapshot, changes: { changed, removed } };
}
