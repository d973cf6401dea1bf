import { describe, expect, it } from "vitest";
import { lsRemotePatterns, parseGitRef, selectRef } from "./git-ref.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const T = "c".repeat(40);

describe("parseGitRef", () => {
  it.each([
    [undefined, { kind: "default" }],
    ["HEAD", { kind: "default" }],
    ["main", { kind: "name", name: "main" }],
    ["release/2026-01", { kind: "name", name: "release/2026-01" }],
    ["refs/heads/main", { kind: "name", name: "refs/heads/main" }],
    [A.toUpperCase(), { kind: "commit", commit: A }],
    ["f".repeat(64), { kind: "commit", commit: "f".repeat(64) }],
  ])("reads %j", (text, expected) => {
    expect(parseGitRef(text)).toEqual(expected);
  });

  it.each([
    "--upload-pack=x",
    "a..b",
    "a b",
    "x.lock",
    "a/.hidden",
    "a~1",
    "a^",
    "a:b",
    "@",
    "x@{1}",
    "a//b",
    "/a",
    "a/",
  ])("refuses %j", (text) => {
    expect(() => parseGitRef(text)).toThrow(/is not a valid Git branch, tag or ref name/);
  });
});

describe("selectRef", () => {
  const out = [
    "ref: refs/heads/main\tHEAD",
    `${A}\tHEAD`,
    `${A}\trefs/heads/main`,
    `${B}\trefs/heads/v1`,
    `${B}\trefs/tags/v1`,
    `${B}\trefs/tags/v2`,
    `${T}\trefs/tags/v2^{}`,
    "",
  ].join("\n");

  it("follows HEAD's symref to the default branch", () => {
    expect(selectRef({ kind: "default" }, out)).toEqual({ ref: "refs/heads/main", commit: A });
  });

  it("takes a branch, and an annotated tag's commit rather than the tag object", () => {
    expect(selectRef(parseGitRef("main"), out)).toEqual({ ref: "refs/heads/main", commit: A });
    expect(selectRef(parseGitRef("v2"), out)).toEqual({ ref: "refs/tags/v2", commit: T });
    expect(selectRef(parseGitRef("refs/tags/v1"), out)).toEqual({ ref: "refs/tags/v1", commit: B });
  });

  it("refuses a name that is both a branch and a tag", () => {
    expect(() => selectRef(parseGitRef("v1"), out)).toThrow(
      '"v1" is both a branch and a tag; give refs/heads/v1 or refs/tags/v1',
    );
  });

  it("names a missing ref, and hints at a short commit id", () => {
    expect(() => selectRef(parseGitRef("nope"), out)).toThrow('no branch or tag "nope" in the repository');
    expect(() => selectRef(parseGitRef("abc1234"), out)).toThrow(/given in full, 40 hex digits/);
    expect(() => selectRef({ kind: "default" }, "")).toThrow(/no default branch/);
  });

  it("asks ls-remote for the few refs that matter", () => {
    expect(lsRemotePatterns({ kind: "default" })).toEqual(["HEAD"]);
    expect(lsRemotePatterns(parseGitRef("main"))).toEqual(["refs/heads/main", "refs/tags/main"]);
    expect(lsRemotePatterns(parseGitRef("refs/heads/x"))).toEqual(["refs/heads/x"]);
  });
});
