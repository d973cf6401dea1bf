import { describe, expect, it } from "vitest";
import { parseGitUrl, redactUrl } from "./git-url.ts";

describe("parseGitUrl", () => {
  it.each([
    [
      "https://github.com/acme/specs.git",
      { transport: "https", host: "github.com", origin: "https://github.com" },
    ],
    [
      "https://oauth2@gitlab.example.com:8443/a/b",
      { transport: "https", origin: "https://gitlab.example.com:8443", username: "oauth2" },
    ],
    [
      "ssh://git@github.com/acme/specs.git",
      { transport: "ssh", host: "github.com", username: "git", origin: "" },
    ],
    ["git@github.com:acme/specs.git", { transport: "ssh", host: "github.com", username: "git" }],
    ["github.com:acme/specs.git", { transport: "ssh", host: "github.com", username: undefined }],
    ["file:///srv/git/specs.git", { transport: "file", host: "" }],
    ["http://127.0.0.1:8080/specs.git", { transport: "http", origin: "http://127.0.0.1:8080" }],
    ["git://localhost/specs.git", { transport: "git", host: "localhost" }],
  ])("accepts %s", (text, expected) => {
    expect(parseGitUrl(text)).toMatchObject({ text, ...expected });
  });

  it.each([
    ["https://user:ghp_0123456789@github.com/acme/specs.git", /carries a password or token/],
    ["http://git.example.com/specs.git", /http:\/\/ sends the specs unencrypted .* loopback only/],
    ["git://git.example.com/specs.git", /git:\/\/ sends the specs unencrypted/],
    ["ftp://example.com/x", /scheme "ftp:" is not supported/],
    ["ext::sh -c touch% /tmp/pwned", /not a Git URL|spaces/],
    ["ext::sh", /remote helper/],
    ["fd::17", /remote helper/],
    ["--upload-pack=touch /tmp/x", /not a Git URL|spaces/],
    ["-oProxyCommand=x:y", /is not a Git URL/],
    ["/srv/git/specs.git", /is not a Git URL .*file:\/\/\/PATH/],
    ["https://github.com/acme/specs.git\n", /control characters/],
    ["", /empty/],
  ])("refuses %j", (text, message) => {
    expect(() => parseGitUrl(text)).toThrow(message);
  });
});

describe("redactUrl", () => {
  it("drops a password from any URL in a text, and keeps a bare user name", () => {
    expect(redactUrl("fatal: unable to access 'https://bot:s3cret@host/x.git/': 403")).toBe(
      "fatal: unable to access 'https://bot@host/x.git/': 403",
    );
    expect(redactUrl("ssh://git@github.com/a.git")).toBe("ssh://git@github.com/a.git");
  });
});
