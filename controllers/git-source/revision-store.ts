import { lstat, mkdir, mkdtemp, readdir, readlink, realpath, rename, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { RevisionRejectionReason } from "./git-errors.ts";

/**
 * The checked-out revisions on disk, one directory per commit under `root`. A checkout is written into a staging
 * directory and renamed into place only when complete (rename(2) is atomic), and a published directory is never
 * written again: a reader holding a revision's path never sees half a checkout or a mix of two. At most `keep`
 * revisions stay (the newest ones), plus any still pinned by a reader.
 */
export class RevisionStore {
  readonly root: string;
  private readonly keep: number;
  /** Published commits, most recently published first. */
  private order: string[] = [];
  private readonly pins = new Map<string, number>();

  constructor(root: string, options: { keep?: number } = {}) {
    this.root = root;
    this.keep = Math.max(1, options.keep ?? 3);
  }

  /** A published revision's directory, if it is still kept. */
  find(commit: string): string | undefined {
    return this.order.includes(commit) ? this.dirOf(commit) : undefined;
  }

  /** A fresh, empty staging directory. */
  async stage(): Promise<string> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    return mkdtemp(join(this.root, ".staging-"));
  }

  /** Moves a complete staging directory into place as `commit`'s revision; returns its directory. */
  async publish(staging: string, commit: string): Promise<string> {
    const dir = this.dirOf(commit);
    if (this.order.includes(commit)) {
      await this.discard(staging);
    } else {
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    }
    this.touch(commit);
    return dir;
  }

  /** Marks a kept revision as the newest again (the ref went back to it). */
  touch(commit: string): void {
    this.order = [commit, ...this.order.filter((c) => c !== commit)];
  }

  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true });
  }

  /** Keeps `commit`'s directory while a reader uses it. */
  pin(commit: string): () => void {
    this.pins.set(commit, (this.pins.get(commit) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.pins.get(commit) ?? 1) - 1;
      if (n <= 0) this.pins.delete(commit);
      else this.pins.set(commit, n);
    };
  }

  /** Removes what is beyond the newest `keep` revisions and not pinned, and any staging left by an interruption. */
  async prune(): Promise<void> {
    const kept = this.order.slice(0, this.keep);
    const removable = this.order.slice(this.keep).filter((c) => !this.pins.has(c));
    this.order = this.order.filter((c) => kept.includes(c) || this.pins.has(c));
    for (const commit of removable) await rm(this.dirOf(commit), { recursive: true, force: true });
    const names = await readdir(this.root).catch(() => [] as string[]);
    const known = new Set(this.order);
    for (const name of names) {
      if (!name.startsWith(".staging-") && !known.has(name)) {
        await rm(join(this.root, name), { recursive: true, force: true });
      }
    }
  }

  /** The number of revision directories kept now (for tests and status). */
  get size(): number {
    return this.order.length;
  }

  async clear(): Promise<void> {
    this.order = [];
    await rm(this.root, { recursive: true, force: true });
  }

  private dirOf(commit: string): string {
    return join(this.root, commit);
  }
}

/**
 * Checks a checkout before its specs are read: the spec path exists, and no symbolic link under it (nor the path
 * itself) leads outside the checkout, where a repository could point the loader at the operator's own files.
 */
export async function inspectCheckout(
  root: string,
  path: string,
): Promise<{ reason: RevisionRejectionReason; message: string } | undefined> {
  const realRoot = await realpath(root);
  const dir = join(realRoot, path);
  const inside = (p: string): boolean => {
    const r = relative(realRoot, p);
    return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r));
  };
  let info;
  try {
    info = await lstat(dir);
  } catch {
    return { reason: "PathNotFound", message: `the path "${path}" does not exist in this commit` };
  }
  // Where a link leads: its real path, or for a dangling link the path it names (which may appear later).
  const targetOf = async (link: string): Promise<string> =>
    realpath(link).catch(async () => resolve(dirname(link), await readlink(link)));
  if (info.isSymbolicLink()) {
    if (!inside(await targetOf(dir))) {
      return {
        reason: "UnsafeSymlink",
        message: `the path "${path}" is a symbolic link that leads outside the repository`,
      };
    }
  }
  const walk = async (d: string): Promise<string | undefined> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isSymbolicLink()) {
        if (!inside(await targetOf(p))) return relative(realRoot, p);
      } else if (e.isDirectory() && e.name !== ".git") {
        const found = await walk(p);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  const target = await realpath(dir).catch(() => dir);
  const stats = await lstat(target);
  if (!stats.isDirectory()) return undefined;
  const escaping = await walk(target);
  if (escaping !== undefined) {
    return {
      reason: "UnsafeSymlink",
      message: `${escaping} is a symbolic link that leads outside the repository; such links are refused`,
    };
  }
  return undefined;
}
