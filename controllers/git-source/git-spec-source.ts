import { join, relative } from "node:path";
import { systemClock, type Clock } from "../clock.ts";
import { silentLogger, type Logger } from "../logger.ts";
import type { Condition } from "../status.ts";
import type { GitRemote } from "./git-cli.ts";
import { GitSourceError, type GitFailureReason, type RevisionRejectionReason } from "./git-errors.ts";
import { describeRef, type GitRefSpec, type ResolvedRef } from "./git-ref.ts";
import { redactUrl, type GitUrl } from "./git-url.ts";
import type { GitFetchResult, GitSourceMetrics } from "./git-source-metrics.ts";
import { inspectCheckout, RevisionStore } from "./revision-store.ts";

/** One revision of the specs, checked out whole. Its directories are not written again while it is kept. */
export interface GitSnapshot {
  /** The spec path inside this revision's checkout: read the specs from here. */
  readonly dir: string;
  /** The checkout's root (the repository's top), to print spec files relative to the repository. */
  readonly root: string;
  /** The commit id. */
  readonly revision: string;
  /** The full ref it was reached by (`refs/heads/main`), or the commit id when a commit was asked for. */
  readonly ref: string;
  /** When this revision was fetched and checked out. */
  readonly fetchedAt: Date;
}

/** A spec file's path as the repository names it (`prod/app.yaml`), not by the checkout's temp path. */
export function repositoryPath(snapshot: Pick<GitSnapshot, "root">, file: string): string {
  const r = relative(snapshot.root, file);
  return r === "" || r.startsWith("..") ? file : r;
}

/** Why a fetched revision is refused; the previous revision stays. */
export interface RevisionRejection {
  readonly reason: RevisionRejectionReason;
  readonly message: string;
}

/**
 * Checks a checked-out revision before it may replace the applied one (cmd/ reads and validates its specs here).
 * Returns why it is refused, or undefined to accept it.
 */
export type RevisionCheck = (
  snapshot: GitSnapshot,
  signal: AbortSignal,
) => Promise<RevisionRejection | undefined>;

/** What one fetch did. */
export type FetchOutcome =
  | { readonly result: "applied" | "unchanged"; readonly snapshot: GitSnapshot }
  | {
      readonly result: "rejected";
      readonly revision: string;
      readonly reason: RevisionRejectionReason;
      readonly message: string;
    }
  | { readonly result: "failed"; readonly reason: GitFailureReason; readonly message: string };

/** What prompted a fetch, for logs. */
export type FetchTrigger = "start" | "interval" | "webhook" | "manual";

/** The Git source's part of `/status`. */
export interface GitSourceStatus {
  readonly url: string;
  /** As asked: a branch, a tag, a commit, or `(default branch)`. */
  readonly ref: string;
  readonly path: string;
  readonly intervalSeconds: number;
  /** The commit applied (the last good revision), and how it was reached. */
  readonly revision: string | undefined;
  readonly resolvedRef: string | undefined;
  /** When the applied revision was fetched (ISO 8601). */
  readonly fetchedAt: string | undefined;
  /** When the remote last answered a fetch. */
  readonly lastFetchTime: string | undefined;
  readonly lastAttemptTime: string | undefined;
  /** `Ready`: True when the newest commit of the ref is applied and the last fetch succeeded. */
  readonly conditions: readonly Condition[];
  /** The last fetch's failure, until a fetch succeeds. */
  readonly lastError:
    { readonly reason: string; readonly message: string; readonly time: string } | undefined;
  /** The newest commit of the ref when it is refused. */
  readonly rejected:
    | { readonly revision: string; readonly reason: string; readonly message: string; readonly time: string }
    | undefined;
}

export interface GitSpecSourceOptions {
  readonly url: GitUrl;
  readonly ref: GitRefSpec;
  /** The spec path inside the repository ("." for its top). */
  readonly path: string;
  readonly intervalMs: number;
  readonly remote: GitRemote;
  /** A private directory; the revisions are checked out under it. Removed by `close`. */
  readonly workDir: string;
  readonly check?: RevisionCheck | undefined;
  /** Revisions kept on disk besides those pinned by a reader. Default 3. */
  readonly keep?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: GitSourceMetrics | undefined;
}

/**
 * The specs as a Git repository holds them: the ref is asked for each interval (and on demand, e.g. by the webhook);
 * a new commit is fetched shallowly, checked out whole into a fresh directory, checked, and only then swapped in as
 * the current snapshot. A fetch that fails, or a revision that is refused, changes nothing: the last good revision
 * stays current, and `status()` says why. The ref is followed wherever it goes, force-pushes to an older commit
 * included: the source applies what the ref names, not the newest commit it has seen.
 */
export class GitSpecSource {
  readonly url: GitUrl;
  private readonly ref: GitRefSpec;
  private readonly path: string;
  private readonly intervalMs: number;
  private readonly remote: GitRemote;
  private readonly check: RevisionCheck | undefined;
  private readonly store: RevisionStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: GitSourceMetrics | undefined;
  private readonly listeners = new Set<(snapshot: GitSnapshot) => void>();
  private readonly closing = new AbortController();
  private snapshot: GitSnapshot | undefined;
  private releaseCurrent: (() => void) | undefined;
  private running: Promise<FetchOutcome> | undefined;
  private queued: Promise<FetchOutcome> | undefined;
  private lastError: { reason: GitFailureReason; message: string; time: number } | undefined;
  private rejected:
    { revision: string; reason: RevisionRejectionReason; message: string; time: number } | undefined;
  private lastFetch: number | undefined;
  private lastAttempt: number | undefined;
  private ready: Condition;

  constructor(options: GitSpecSourceOptions) {
    this.url = options.url;
    this.ref = options.ref;
    this.path = options.path;
    this.intervalMs = options.intervalMs;
    this.remote = options.remote;
    this.check = options.check;
    this.store = new RevisionStore(join(options.workDir, "revisions"), { keep: options.keep });
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.metrics?.interval(options.intervalMs / 1000);
    this.ready = this.condition("Unknown", "Pending", "not fetched yet");
  }

  /** The revision applied now, if any. */
  current(): GitSnapshot | undefined {
    return this.snapshot;
  }

  /**
   * The first fetch. Resolves with the first snapshot; a failure or a refused revision is thrown as a
   * `GitSourceError` whose message is a sentence to show as it is (an unreachable URL, an unknown ref, a missing
   * path, unreadable credentials, invalid specs).
   */
  async start(): Promise<GitSnapshot> {
    const outcome = await this.refresh("start");
    if (outcome.result === "failed") throw new GitSourceError(outcome.reason, outcome.message);
    if (outcome.result === "rejected") {
      const where = `${redactUrl(this.url.text)} ${describeRef(this.ref)}`;
      throw new GitSourceError(outcome.reason, `${where} at ${outcome.revision}: ${outcome.message}`);
    }
    return outcome.snapshot;
  }

  /** Calls `listener` with each new revision applied after this call. Returns the unsubscribe function. */
  onRevision(listener: (snapshot: GitSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Fetches now. A fetch already running is not interrupted: one more fetch is queued after it (it may have asked the
   * remote before the push that prompted this call), and every caller in the meantime shares that one.
   */
  refresh(trigger: FetchTrigger): Promise<FetchOutcome> {
    if (this.running === undefined) return this.begin(trigger);
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.begin(trigger);
    });
    return this.queued;
  }

  /** Fetches each interval until `signal` is aborted (or `close`). Never throws: failures are in `status()`. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = AbortSignal.any([signal, this.closing.signal]);
    while (!stop.aborted) {
      try {
        await this.clock.sleep(this.intervalMs, stop);
      } catch {
        return;
      }
      await this.refresh("interval");
    }
  }

  /**
   * Runs `read` on the current snapshot with its directory kept until `read` settles, however many revisions arrive
   * meanwhile. Throws when there is no revision yet.
   */
  async read<T>(read: (snapshot: GitSnapshot) => Promise<T>): Promise<T> {
    const snapshot = this.snapshot;
    if (snapshot === undefined)
      throw new GitSourceError("FetchFailed", "the Git source has not fetched a revision yet");
    const release = this.store.pin(snapshot.revision);
    try {
      return await read(snapshot);
    } finally {
      release();
    }
  }

  status(): GitSourceStatus {
    const iso = (t: number | undefined): string | undefined =>
      t === undefined ? undefined : new Date(t).toISOString();
    return {
      url: redactUrl(this.url.text),
      ref:
        this.ref.kind === "default"
          ? "(default branch)"
          : this.ref.kind === "commit"
            ? this.ref.commit
            : this.ref.name,
      path: this.path,
      intervalSeconds: this.intervalMs / 1000,
      revision: this.snapshot?.revision,
      resolvedRef: this.snapshot?.ref,
      fetchedAt: this.snapshot?.fetchedAt.toISOString(),
      lastFetchTime: iso(this.lastFetch),
      lastAttemptTime: iso(this.lastAttempt),
      conditions: [this.ready],
      lastError:
        this.lastError === undefined
          ? undefined
          : {
              reason: this.lastError.reason,
              message: this.lastError.message,
              time: new Date(this.lastError.time).toISOString(),
            },
      rejected:
        this.rejected === undefined
          ? undefined
          : {
              revision: this.rejected.revision,
              reason: this.rejected.reason,
              message: this.rejected.message,
              time: new Date(this.rejected.time).toISOString(),
            },
    };
  }

  /** Stops the loop, waits for a fetch in flight, and removes every checkout. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.queued?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    this.listeners.clear();
    await this.store.clear();
  }

  private begin(trigger: FetchTrigger): Promise<FetchOutcome> {
    const p = this.fetch(trigger).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async fetch(trigger: FetchTrigger): Promise<FetchOutcome> {
    const started = this.clock.now();
    this.lastAttempt = started;
    const signal = this.closing.signal;
    let staging: string | undefined;
    let outcome: FetchOutcome;
    try {
      if (signal.aborted) throw new GitSourceError("FetchFailed", "the Git source is closed");
      const target = await this.remote.resolve(signal);
      outcome = await this.take(target, signal, (dir) => (staging = dir));
    } catch (error) {
      if (staging !== undefined) await this.store.discard(staging).catch(() => undefined);
      const err =
        error instanceof GitSourceError
          ? error
          : new GitSourceError("FetchFailed", error instanceof Error ? error.message : String(error), {
              cause: error,
            });
      if (!(error instanceof GitSourceError) || err.reason !== "RefNotFound") {
        // An interrupted or failed transfer may leave lock files or a half-written pack: start the next one afresh.
        await this.remote.reset().catch(() => undefined);
      }
      outcome = { result: "failed", reason: err.reason as GitFailureReason, message: err.message };
      // Interrupted by close(): the process is stopping, not the remote failing. Neither a warning nor a failure
      // metric, nor any line at all: "stopped" is run's last line (a fetch in flight at SIGTERM logged "Git fetch
      // failed" after it).
      if (signal.aborted) return outcome;
    }
    this.record(outcome, trigger, (this.clock.now() - started) / 1000);
    return outcome;
  }

  /** After the remote named `target`: reuse, check out and check, or keep what is applied. */
  private async take(
    target: ResolvedRef,
    signal: AbortSignal,
    staged: (dir: string) => void,
  ): Promise<FetchOutcome> {
    const current = this.snapshot;
    if (current !== undefined && current.revision === target.commit) {
      if (current.ref !== target.ref) this.snapshot = { ...current, ref: target.ref };
      return { result: "unchanged", snapshot: this.snapshot ?? current };
    }
    if (this.rejected !== undefined && this.rejected.revision === target.commit) {
      const r = this.rejected;
      return { result: "rejected", revision: r.revision, reason: r.reason, message: r.message };
    }
    // A revision still on disk (the ref went back to it): it passed its checks when it was applied.
    const kept = this.store.find(target.commit);
    if (kept !== undefined) {
      this.store.touch(target.commit);
      return this.accept({
        root: kept,
        dir: join(kept, this.path),
        revision: target.commit,
        ref: target.ref,
        fetchedAt: new Date(this.clock.now()),
      });
    }
    const staging = await this.store.stage();
    staged(staging);
    const commit = await this.remote.checkout(target, staging, signal);
    if (this.rejected?.revision === commit) {
      await this.store.discard(staging);
      const r = this.rejected;
      return { result: "rejected", revision: r.revision, reason: r.reason, message: r.message };
    }
    const candidate: GitSnapshot = {
      root: staging,
      dir: join(staging, this.path),
      revision: commit,
      ref: target.ref,
      fetchedAt: new Date(this.clock.now()),
    };
    const problem = (await inspectCheckout(staging, this.path)) ?? (await this.check?.(candidate, signal));
    if (problem !== undefined) {
      await this.store.discard(staging);
      return { result: "rejected", revision: commit, reason: problem.reason, message: problem.message };
    }
    const root = await this.store.publish(staging, commit);
    const snapshot = { ...candidate, root, dir: join(root, this.path) };
    // The object store only needs what the next fetch negotiates from; a failed compaction costs disk, not a revision.
    await this.remote
      .compact(signal)
      .catch((error: unknown) => this.logger.debug("git gc failed", { error }));
    return this.accept(snapshot);
  }

  private async accept(snapshot: GitSnapshot): Promise<FetchOutcome> {
    this.releaseCurrent?.();
    this.releaseCurrent = this.store.pin(snapshot.revision);
    this.snapshot = snapshot;
    await this.store.prune();
    return { result: "applied", snapshot };
  }

  private record(outcome: FetchOutcome, trigger: FetchTrigger, seconds: number): void {
    const now = this.clock.now();
    const url = redactUrl(this.url.text);
    const result: GitFetchResult = outcome.result;
    this.metrics?.fetched(result, seconds);
    if (outcome.result === "failed") {
      this.metrics?.failed(outcome.reason);
      const repeated = this.lastError?.message === outcome.message;
      this.lastError = { reason: outcome.reason, message: outcome.message, time: now };
      const keeping = this.snapshot === undefined ? "" : `; keeping ${this.snapshot.revision}`;
      this.setReady("False", outcome.reason, `${outcome.message}${keeping}`);
      const fields = {
        url,
        trigger,
        reason: outcome.reason,
        error: outcome.message,
        revision: this.snapshot?.revision,
      };
      if (repeated) this.logger.debug("Git fetch failed again; the applied revision stays", fields);
      else this.logger.warn("Git fetch failed; the applied revision stays", fields);
      return;
    }
    this.lastFetch = now;
    if (this.lastError !== undefined) {
      this.logger.info("Git fetch works again", { url, trigger });
      this.lastError = undefined;
    }
    if (outcome.result === "rejected") {
      const repeated = this.rejected?.revision === outcome.revision;
      this.rejected = {
        revision: outcome.revision,
        reason: outcome.reason,
        message: outcome.message,
        time: repeated ? (this.rejected?.time ?? now) : now,
      };
      const keeping = this.snapshot === undefined ? "" : `; keeping ${this.snapshot.revision}`;
      this.setReady(
        "False",
        `Revision${outcome.reason}`,
        `commit ${outcome.revision} is refused: ${outcome.message}${keeping}`,
      );
      if (!repeated) {
        this.logger.warn("Git revision refused; the applied revision stays", {
          url,
          trigger,
          revision: outcome.revision,
          reason: outcome.reason,
          problems: outcome.message,
          applied: this.snapshot?.revision,
        });
      }
      return;
    }
    const snapshot = outcome.snapshot;
    if (this.rejected !== undefined) {
      this.rejected = undefined;
      this.metrics?.notRejected();
    }
    this.setReady("True", "Synced", `synced to ${snapshot.revision} (${snapshot.ref})`);
    if (outcome.result === "applied") {
      this.metrics?.applied({ url, ref: snapshot.ref, revision: snapshot.revision });
      this.logger.info("Git revision applied", {
        url,
        trigger,
        ref: snapshot.ref,
        revision: snapshot.revision,
      });
      for (const listener of this.listeners) {
        try {
          listener(snapshot);
        } catch (error) {
          this.logger.error("Git revision listener failed", { error });
        }
      }
    } else {
      this.logger.debug("Git ref unchanged", { url, trigger, revision: snapshot.revision });
    }
  }

  private setReady(status: Condition["status"], reason: string, message: string): void {
    if (this.ready.status === status && this.ready.reason === reason && this.ready.message === message)
      return;
    this.ready = this.condition(
      status,
      reason,
      message,
      this.ready.status === status ? this.ready.lastTransitionTime : undefined,
    );
  }

  private condition(status: Condition["status"], reason: string, message: string, since?: string): Condition {
    return {
      type: "Ready",
      status,
      reason,
      message,
      lastTransitionTime: since ?? new Date(this.clock.now()).toISOString(),
    };
  }
}
