import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Type } from "@sinclair/typebox";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../clock.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { defineKind } from "../spec/document.ts";
import type { SpecRead } from "../spec-source.ts";
import type { GitRemote } from "./git-cli.ts";
import { GitSourceError } from "./git-errors.ts";
import { parseGitRef } from "./git-ref.ts";
import type { ResolvedRef } from "./git-ref.ts";
import { GitSourceMetrics } from "./git-source-metrics.ts";
import { GitSpecSource, type GitSnapshot, type RevisionCheck } from "./git-spec-source.ts";
import { GitSpecWatcher } from "./git-spec-watcher.ts";
import { parseGitUrl } from "./git-url.ts";

/** A remote in memory: the ref names `head`; each commit is a set of files; `failure` makes every call fail. */
class FakeRemote implements GitRemote {
  head: ResolvedRef = { ref: "refs/heads/main", commit: "" };
  readonly trees = new Map<string, Record<string, string>>();
  failure: GitSourceError | undefined;
  resolves = 0;
  checkouts = 0;
  resets = 0;
  /** Holds the next checkout until released, to observe a fetch in flight. */
  hold: Promise<void> | undefined;

  /** Holds checkouts from now until the returned function is called. */
  holdNextCheckout(): () => void {
    let release: () => void = () => undefined;
    this.hold = new Promise((r) => (release = r));
    return release;
  }

  push(commit: string, files: Record<string, string>): void {
    this.trees.set(commit, files);
    this.head = { ref: "refs/heads/main", commit };
  }

  async resolve(): Promise<ResolvedRef> {
    this.resolves++;
    if (this.failure !== undefined) throw this.failure;
    return this.head;
  }

  async checkout(target: ResolvedRef, dir: string): Promise<string> {
    this.checkouts++;
    await this.hold;
    if (this.failure !== undefined) throw this.failure;
    const files = this.trees.get(target.commit) ?? {};
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      if (text.startsWith("symlink:")) symlinkSync(text.slice("symlink:".length), join(dir, path));
      else writeFileSync(join(dir, path), text);
    }
    return target.commit;
  }

  async reset(): Promise<void> {
    this.resets++;
  }

  async compact(): Promise<void> {}
}

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const C3 = "3".repeat(40);
const C4 = "4".repeat(40);

let work = "";
let source: GitSpecSource | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
  rmSync(work, { recursive: true, force: true });
});

/** Refuses a revision whose specs/ holds a file with "invalid" in it, or nothing. */
const check: RevisionCheck = async (s) => {
  const files = existsSync(s.dir) ? readdirSync(s.dir) : [];
  if (files.length === 0) return { reason: "NoSpecs", message: "no spec documents" };
  for (const f of files) {
    if (readFileSync(join(s.dir, f), "utf8").includes("invalid")) {
      return { reason: "InvalidSpecs", message: `specs/${f}:1:1: invalid` };
    }
  }
  return undefined;
};

function setup(options: { keep?: number; check?: RevisionCheck; registry?: Registry; logger?: Logger } = {}) {
  work = mkdtempSync(join(tmpdir(), "git-source-"));
  const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
  const remote = new FakeRemote();
  const metrics =
    options.registry !== undefined ? new GitSourceMetrics(options.registry, { clock }) : undefined;
  source = new GitSpecSource({
    url: parseGitUrl("https://git.example.com/platform/specs.git"),
    ref: parseGitRef("main"),
    path: "specs",
    intervalMs: 60_000,
    remote,
    workDir: work,
    check: options.check ?? check,
    keep: options.keep,
    clock,
    metrics,
    logger: options.logger,
  });
  return { clock, remote, source };
}

const spec = (n: number): Record<string, string> => ({
  "specs/app.yaml": `size: ${n}\n`,
  "README.md": "specs\n",
});

describe("GitSpecSource", () => {
  it("checks out the ref's commit whole into its own directory and reports it", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    const first = await source.start();
    expect(first).toMatchObject({
      revision: C1,
      ref: "refs/heads/main",
      fetchedAt: new Date("2026-01-01T00:00:00Z"),
    });
    expect(first.dir).toBe(join(first.root, "specs"));
    expect(readFileSync(join(first.dir, "app.yaml"), "utf8")).toBe("size: 1\n");
    expect(readFileSync(join(first.root, "README.md"), "utf8")).toBe("specs\n");
    expect(source.status()).toMatchObject({
      url: "https://git.example.com/platform/specs.git",
      ref: "main",
      path: "specs",
      revision: C1,
      resolvedRef: "refs/heads/main",
      conditions: [
        { type: "Ready", status: "True", reason: "Synced", message: `synced to ${C1} (refs/heads/main)` },
      ],
      lastError: undefined,
      rejected: undefined,
    });
  });

  it("a new commit becomes a new snapshot at the next interval; the old directory is left as it was", async () => {
    const { clock, remote, source } = setup();
    remote.push(C1, spec(1));
    const first = await source.start();
    const seen: GitSnapshot[] = [];
    source.onRevision((s) => seen.push(s));
    const loop = new AbortController();
    const running = source.run(loop.signal);
    remote.push(C2, spec(2));
    await clock.advance(59_999);
    expect(seen).toEqual([]);
    await clock.advance(1);
    await waitFor(() => seen.length === 1);
    expect(seen[0]?.revision).toBe(C2);
    expect(source.current()?.revision).toBe(C2);
    expect(readFileSync(join(seen[0]?.dir ?? "", "app.yaml"), "utf8")).toBe("size: 2\n");
    expect(readFileSync(join(first.dir, "app.yaml"), "utf8")).toBe("size: 1\n");
    loop.abort();
    await running;
  });

  it("a revision whose specs do not validate is refused: the last good one stays, and status says why", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, { "specs/app.yaml": "invalid\n" });
    const outcome = await source.refresh("manual");
    expect(outcome).toEqual({
      result: "rejected",
      revision: C2,
      reason: "InvalidSpecs",
      message: "specs/app.yaml:1:1: invalid",
    });
    expect(source.current()?.revision).toBe(C1);
    const status = source.status();
    expect(status.revision).toBe(C1);
    expect(status.rejected).toMatchObject({ revision: C2, reason: "InvalidSpecs" });
    expect(status.conditions[0]).toMatchObject({
      status: "False",
      reason: "RevisionInvalidSpecs",
      message: `commit ${C2} is refused: specs/app.yaml:1:1: invalid; keeping ${C1}`,
    });
    // The refused commit is not checked out again at each interval.
    const checkouts = remote.checkouts;
    expect((await source.refresh("interval")).result).toBe("rejected");
    expect(remote.checkouts).toBe(checkouts);
    // A fix is applied, and the refusal is gone from the status.
    remote.push(C3, spec(3));
    expect((await source.refresh("manual")).result).toBe("applied");
    expect(source.status()).toMatchObject({
      revision: C3,
      rejected: undefined,
      conditions: [{ status: "True" }],
    });
  });

  it.each([
    ["an emptied spec path", { "README.md": "nothing\n", "specs/.keep": "" }, "NoSpecs"],
    ["a spec path removed from the repository", { "README.md": "moved\n" }, "PathNotFound"],
    ["a symbolic link out of the repository", { "specs/app.yaml": "symlink:/etc/passwd" }, "UnsafeSymlink"],
    ["a spec path that is a link out of the repository", { specs: "symlink:/etc" }, "UnsafeSymlink"],
  ])("%s is refused, never read as a deletion", async (_label, files, reason) => {
    const { remote, source } = setup({
      check: async (s) =>
        readdirSync(s.dir).some((f) => !f.startsWith("."))
          ? undefined
          : { reason: "NoSpecs", message: "empty" },
    });
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, files);
    const outcome = await source.refresh("manual");
    expect(outcome).toMatchObject({ result: "rejected", revision: C2, reason });
    expect(source.current()?.revision).toBe(C1);
    expect(readFileSync(join(source.current()?.dir ?? "", "app.yaml"), "utf8")).toBe("size: 1\n");
  });

  it("a force-push to an older commit applies that commit, from the directory still kept", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, spec(2));
    await source.refresh("manual");
    const checkouts = remote.checkouts;
    remote.head = { ref: "refs/heads/main", commit: C1 };
    const outcome = await source.refresh("manual");
    expect(outcome).toMatchObject({ result: "applied", snapshot: { revision: C1 } });
    expect(remote.checkouts).toBe(checkouts);
    expect(readFileSync(join(source.current()?.dir ?? "", "app.yaml"), "utf8")).toBe("size: 1\n");
  });

  it("a force-push to an older commit no longer on disk fetches and applies it", async () => {
    const { remote, source } = setup({ keep: 1 });
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, spec(2));
    await source.refresh("manual");
    remote.head = { ref: "refs/heads/main", commit: C1 };
    expect(await source.refresh("manual")).toMatchObject({ result: "applied", snapshot: { revision: C1 } });
    expect(readFileSync(join(source.current()?.dir ?? "", "app.yaml"), "utf8")).toBe("size: 1\n");
  });

  it("a failed fetch keeps the last good revision, starts the next one afresh, and recovers", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    await source.start();
    remote.failure = new GitSourceError(
      "Unreachable",
      "cannot reach https://git.example.com/platform/specs.git: Connection refused",
    );
    const outcome = await source.refresh("interval");
    expect(outcome).toMatchObject({ result: "failed", reason: "Unreachable" });
    expect(remote.resets).toBe(1);
    expect(source.current()?.revision).toBe(C1);
    expect(existsSync(join(source.current()?.dir ?? "", "app.yaml"))).toBe(true);
    expect(source.status()).toMatchObject({
      revision: C1,
      lastError: { reason: "Unreachable" },
      conditions: [
        { status: "False", reason: "Unreachable", message: expect.stringContaining(`; keeping ${C1}`) },
      ],
    });
    remote.failure = undefined;
    expect((await source.refresh("interval")).result).toBe("unchanged");
    expect(source.status()).toMatchObject({ lastError: undefined, conditions: [{ status: "True" }] });
  });

  it("a failure in the middle of a checkout leaves no staging directory and no new revision", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, spec(2));
    const release = remote.holdNextCheckout();
    const pending = source.refresh("manual");
    await waitFor(() => remote.checkouts === 2);
    remote.failure = new GitSourceError("Timeout", "git fetch took longer than 120 s");
    release();
    expect((await pending).result).toBe("failed");
    expect(readdirSync(join(work, "revisions"))).toEqual([C1]);
  });

  it("the first fetch's failure or refusal is thrown as one sentence", async () => {
    const { remote, source } = setup();
    remote.failure = new GitSourceError(
      "RefNotFound",
      'https://git.example.com/platform/specs.git: no branch or tag "main" in the repository',
    );
    await expect(source.start()).rejects.toThrow(
      /^https:\/\/git\.example\.com\/platform\/specs\.git: no branch or tag "main"/,
    );
    remote.failure = undefined;
    remote.push(C1, { "README.md": "no specs\n" });
    const error = await source.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitSourceError);
    expect((error as GitSourceError).reason).toBe("PathNotFound");
    expect((error as Error).message).toBe(
      `https://git.example.com/platform/specs.git main at ${C1}: the path "specs" does not exist in this commit`,
    );
  });

  it("keeps at most `keep` revisions on disk, and never one a reader still holds", async () => {
    const { remote, source } = setup({ keep: 2 });
    remote.push(C1, spec(1));
    await source.start();
    let release: () => void = () => undefined;
    const reading = source.read(async (s) => {
      await new Promise<void>((r) => (release = r));
      return readFileSync(join(s.dir, "app.yaml"), "utf8");
    });
    for (const [c, n] of [
      [C2, 2],
      [C3, 3],
      [C4, 4],
    ] as const) {
      remote.push(c, spec(n));
      await source.refresh("manual");
    }
    expect(readdirSync(join(work, "revisions")).sort()).toEqual([C1, C3, C4]);
    release();
    expect(await reading).toBe("size: 1\n");
    remote.push(C2, spec(2));
    await source.refresh("manual");
    expect(readdirSync(join(work, "revisions")).sort()).toEqual([C2, C4]);
  });

  it("a refresh while a fetch is in flight queues exactly one more, shared by every caller", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, spec(2));
    const release = remote.holdNextCheckout();
    const first = source.refresh("webhook");
    await waitFor(() => remote.checkouts === 2);
    remote.push(C3, spec(3));
    const second = source.refresh("webhook");
    const third = source.refresh("webhook");
    expect(second).toBe(third);
    remote.hold = undefined;
    release();
    expect(await first).toMatchObject({ result: "applied", snapshot: { revision: C2 } });
    expect(await second).toMatchObject({ result: "applied", snapshot: { revision: C3 } });
    expect(remote.resolves).toBe(3);
  });

  it("a fetch that close interrupts is no failure: no warning, no failure counted", async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (msg) => void warnings.push(msg) };
    const registry = new Registry();
    const { remote, source } = setup({ registry, logger });
    remote.push(C1, spec(1));
    await source.start();
    remote.push(C2, spec(2));
    const release = remote.holdNextCheckout();
    const inFlight = source.refresh("interval");
    // SIGTERM: the process closes the source while the fetch is in the middle of its transfer, which then fails.
    const closed = source.close();
    remote.failure = new GitSourceError("FetchFailed", "git: the transfer was interrupted");
    release();
    await closed;
    expect((await inFlight).result).toBe("failed");
    expect(warnings).toEqual([]);
    expect(await registry.metrics()).not.toMatch(/^ecs_log_operator_git_fetch_failures_total\{.*\} [1-9]/m);
  });

  it("close removes every checkout", async () => {
    const { remote, source } = setup();
    remote.push(C1, spec(1));
    await source.start();
    await source.close();
    expect(existsSync(join(work, "revisions"))).toBe(false);
  });
});

describe("GitSpecSource metrics", () => {
  it("expose the applied revision, the fetch age against the interval, failures and refusals", async () => {
    const registry = new Registry();
    const { clock, remote, source } = setup({ registry });
    remote.push(C1, spec(1));
    await clock.advance(5_000);
    await source.start();
    remote.push(C2, spec(2));
    await source.refresh("manual");
    remote.push(C3, { "specs/app.yaml": "invalid\n" });
    await source.refresh("manual");
    remote.failure = new GitSourceError("AuthenticationFailed", "refused");
    await clock.advance(90_000);
    await source.refresh("interval");
    const text = await registry.metrics();
    expect(text).toContain(
      `ecs_log_operator_git_source_info{url="https://git.example.com/platform/specs.git",ref="refs/heads/main",revision="${C2}"} 1`,
    );
    expect(text).not.toContain(`revision="${C1}"`);
    expect(text).toContain("ecs_log_operator_git_seconds_since_last_fetch 90");
    expect(text).toContain("ecs_log_operator_git_interval_seconds 60");
    expect(text).toContain('ecs_log_operator_git_fetch_failures_total{reason="AuthenticationFailed"} 1');
    expect(text).toContain("ecs_log_operator_git_revision_rejected 1");
    expect(text).toContain('ecs_log_operator_git_fetches_total{result="applied"} 2');
    expect(text).toContain('ecs_log_operator_git_fetches_total{result="rejected"} 1');
    expect(text).toContain('ecs_log_operator_git_fetches_total{result="failed"} 1');
  });

  it("count the age from the start when no fetch ever succeeded", async () => {
    const registry = new Registry();
    const { clock, remote, source } = setup({ registry });
    remote.failure = new GitSourceError("Unreachable", "down");
    await source.start().catch(() => undefined);
    await clock.advance(180_000);
    expect(await registry.metrics()).toContain("ecs_log_operator_git_seconds_since_last_fetch 180");
  });
});

/** Lets the fetch's file system work finish: real I/O, so the event loop is turned until the condition holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error("condition not reached");
}

describe("GitSpecWatcher", () => {
  const kinds = [
    defineKind({ kind: "Widget", description: "test", specSchema: Type.Object({ size: Type.Integer() }) }),
  ];
  const widget = (name: string, size: number) =>
    `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: ${name} }\nspec: { size: ${size} }\n`;

  it("reads each applied revision whole, names files as the repository does, and reports what changed", async () => {
    const { clock, remote, source } = setup({ check: async () => undefined });
    remote.push(C1, { "specs/a.yaml": widget("a", 1) + "---\n" + widget("b", 1) });
    const reads: SpecRead[] = [];
    const watcher = new GitSpecWatcher({ source, kinds, logger: silentLogger });
    expect(watcher.location).toBe("https://git.example.com/platform/specs.git main path specs");
    const first = await watcher.load();
    expect(first.changes).toEqual({ changed: ["Widget/a", "Widget/b"], removed: [] });
    expect(first.snapshot.complete).toBe(true);
    expect(first.snapshot.revision).toEqual({ id: C1, fetchedAt: Date.parse("2026-01-01T00:00:00Z") });
    const b = first.snapshot.documents.find((d) => d.metadata.name === "b");
    expect(b?.source).toEqual({ file: "specs/a.yaml", line: 6, col: 1 });
    expect(b?.positionOf(["spec", "size"])).toEqual({ file: "specs/a.yaml", line: 9, col: 15 });
    expect((await watcher.load()).changes).toEqual({ changed: [], removed: [] });

    watcher.watch((r) => reads.push(r));
    remote.push(C2, { "specs/a.yaml": widget("a", 2) });
    await clock.advance(60_000);
    await waitFor(() => reads.length === 1);
    expect(reads[0]?.changes).toEqual({ changed: ["Widget/a"], removed: ["Widget/b"] });
    expect(reads[0]?.snapshot.revision?.id).toBe(C2);
    expect(watcher.status()).toMatchObject({
      type: "git",
      location: watcher.location,
      revision: C2,
      conditions: [expect.objectContaining({ type: "Ready", status: "True", reason: "Synced" })],
    });

    // Closed: the pull loop stops, and a revision pushed afterwards is neither fetched nor read.
    watcher.close();
    const resolves = remote.resolves;
    remote.push(C3, { "specs/a.yaml": widget("a", 3) });
    await clock.advance(600_000);
    expect(remote.resolves).toBe(resolves);
    expect(reads).toHaveLength(1);
  });

  it("reads a revision through nextRead: a file that became invalid keeps its specs, never read as a deletion", async () => {
    // No check: the source lets an invalid revision through, as a revision kept on disk from before would be.
    const { remote, source } = setup({ check: async () => undefined });
    remote.push(C1, { "specs/a.yaml": widget("a", 1), "specs/b.yaml": widget("b", 1) });
    const watcher = new GitSpecWatcher({ source, kinds, logger: silentLogger });
    await watcher.load();
    remote.push(C2, { "specs/a.yaml": widget("a", 2), "specs/b.yaml": "kind: Widget\nspec: [\n" });
    await source.refresh("manual");
    const read = await watcher.load();
    expect(read.changes).toEqual({ changed: ["Widget/a"], removed: [] });
    expect(read.snapshot.kept).toEqual(["Widget/b"]);
    expect(read.snapshot.complete).toBe(false);
    expect(read.snapshot.diagnostics.map((d) => d.file)).toEqual(["specs/b.yaml"]);
    expect(read.snapshot.revision?.id).toBe(C2);
  });

  it("reads a revision whose specs no longer declare --environment as unusable, keeping the applied specs", async () => {
    const overlaid = [
      defineKind({
        kind: "Widget",
        description: "test",
        specSchema: Type.Object({
          size: Type.Integer(),
          environments: Type.Optional(Type.Record(Type.String(), Type.Object({ size: Type.Integer() }))),
        }),
      }),
    ];
    const withOverlay = (env: string) =>
      `apiVersion: ecs-log-operator/v1alpha1\nkind: Widget\nmetadata: { name: a }\n` +
      `spec: { size: 1, environments: { ${env}: { size: 3 } } }\n`;
    const { remote, source } = setup({ check: async () => undefined });
    remote.push(C1, { "specs/a.yaml": withOverlay("prod") });
    const watcher = new GitSpecWatcher({
      source,
      kinds: overlaid,
      logger: silentLogger,
      environment: "prod",
    });
    const first = await watcher.load();
    expect(first.snapshot.unusable).toBeUndefined();
    expect(first.snapshot.documents.map((d) => d.spec)).toEqual([{ size: 3 }]);
    // A commit renames the overlay: read under --environment prod, the documents would be the base specs.
    remote.push(C2, { "specs/a.yaml": withOverlay("production") });
    await source.refresh("manual");
    const read = await watcher.load();
    expect(read.snapshot.unusable).toMatchObject({ reason: "environment" });
    expect(read.snapshot.unusable?.message).toMatch(/^--environment prod: no spec under .* declares it/);
    expect(read.snapshot.complete).toBe(false);
    expect(read.snapshot.documents.map((d) => d.spec)).toEqual([{ size: 3 }]);
    expect(read.changes).toEqual({ changed: [], removed: [] });
  });

  it("throws the source's sentence when the first fetch fails", async () => {
    const { remote, source } = setup();
    remote.failure = new GitSourceError(
      "Unreachable",
      "cannot reach https://git.example.com/platform/specs.git: down",
    );
    const watcher = new GitSpecWatcher({ source, kinds, logger: silentLogger });
    await expect(watcher.load()).rejects.toThrow(
      "cannot reach https://git.example.com/platform/specs.git: down",
    );
  });
});
