/** What `--git-ref` asks for: the remote's default branch, a full commit id, or a branch or tag name. */
export type GitRefSpec =
  | { readonly kind: "default" }
  | { readonly kind: "commit"; readonly commit: string }
  | { readonly kind: "name"; readonly name: string };

/** A ref as the remote resolved it. */
export interface ResolvedRef {
  /** The full ref name (`refs/heads/main`, `refs/tags/v1.2.0`), or the commit id when a commit was asked for. */
  readonly ref: string;
  readonly commit: string;
}

export class GitRefError extends Error {
  override readonly name = "GitRefError";
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Checks `--git-ref` as git's check-ref-format would (plus: no leading dash, which git would read as an option).
 * A 40 (or, for SHA-256 repositories, 64) hex digit value is a commit; a shorter one cannot be fetched from a remote.
 */
export function parseGitRef(text: string | undefined): GitRefSpec {
  if (text === undefined || text === "" || text === "HEAD") return { kind: "default" };
  const lower = text.toLowerCase();
  if (COMMIT.test(lower)) return { kind: "commit", commit: lower };
  const bad =
    text.startsWith("-") ||
    text.startsWith("/") ||
    text.endsWith("/") ||
    text.endsWith(".") ||
    text.endsWith(".lock") ||
    text.includes("..") ||
    text.includes("//") ||
    text.includes("@{") ||
    text === "@" ||
    /[\p{Cc} ~^:?*[\\]/u.test(text) ||
    text.split("/").some((c) => c.startsWith(".") || c.endsWith(".lock"));
  if (bad) throw new GitRefError(`"${text}" is not a valid Git branch, tag or ref name`);
  return { kind: "name", name: text };
}

/** The patterns `git ls-remote` is asked for, so that a remote with many refs answers with a few lines. */
export function lsRemotePatterns(spec: GitRefSpec): string[] {
  if (spec.kind === "default") return ["HEAD"];
  if (spec.kind === "commit") return [];
  if (spec.name.startsWith("refs/")) return [spec.name];
  return [`refs/heads/${spec.name}`, `refs/tags/${spec.name}`];
}

/** Describes the spec for messages. */
export function describeRef(spec: GitRefSpec): string {
  if (spec.kind === "default") return "the default branch";
  if (spec.kind === "commit") return `commit ${spec.commit}`;
  return spec.name;
}

/**
 * Picks the commit a ref spec names from `git ls-remote --symref` output. Pure. A tag's peeled line (`^{}`) wins over
 * the tag object; a name that is both a branch and a tag is refused rather than guessed (git itself would warn and
 * pick the tag).
 */
export function selectRef(spec: GitRefSpec, lsRemoteOutput: string): ResolvedRef {
  if (spec.kind === "commit") return { ref: spec.commit, commit: spec.commit };
  const refs = new Map<string, string>();
  let headTarget: string | undefined;
  for (const line of lsRemoteOutput.split("\n")) {
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref !== null) {
      headTarget = symref[1];
      continue;
    }
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/.exec(line);
    if (m !== null) refs.set(m[2] ?? "", m[1] ?? "");
  }
  const commitOf = (ref: string): string | undefined => refs.get(`${ref}^{}`) ?? refs.get(ref);
  if (spec.kind === "default") {
    const commit = refs.get("HEAD");
    if (commit === undefined) {
      throw new GitRefError(
        "the repository has no default branch (it is empty, or its HEAD names no branch)",
      );
    }
    return { ref: headTarget ?? "HEAD", commit };
  }
  const candidates = spec.name.startsWith("refs/")
    ? [spec.name]
    : [`refs/heads/${spec.name}`, `refs/tags/${spec.name}`];
  const found = candidates.filter((r) => commitOf(r) !== undefined);
  if (found.length > 1) {
    throw new GitRefError(
      `"${spec.name}" is both a branch and a tag; give refs/heads/${spec.name} or refs/tags/${spec.name}`,
    );
  }
  const ref = found[0];
  const commit = ref === undefined ? undefined : commitOf(ref);
  if (ref === undefined || commit === undefined) {
    const hint = /^[0-9a-f]{7,39}$/i.test(spec.name)
      ? " (a commit must be given in full, 40 hex digits)"
      : "";
    throw new GitRefError(`no branch or tag "${spec.name}" in the repository${hint}`);
  }
  return { ref, commit };
}
