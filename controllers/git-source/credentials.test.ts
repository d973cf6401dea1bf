import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanSecret, FileSecretSource } from "./credentials.ts";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("FileSecretSource", () => {
  it("reads the secret alone, without the file's trailing newline, again at each read", async () => {
    dir = mkdtempSync(join(tmpdir(), "secret-"));
    const file = join(dir, "token");
    writeFileSync(file, "ghp_first\n");
    const source = new FileSecretSource(file);
    expect(await source.read()).toBe("ghp_first");
    writeFileSync(file, "ghp_rotated");
    expect(await source.read()).toBe("ghp_rotated");
  });

  it.each([
    [
      "a missing file",
      (d: string) => join(d, "missing"),
      /^cannot read the token file .*missing: no such file$/,
    ],
    ["a directory", (d: string) => d, /^cannot read the token file .*: it is a directory$/],
  ])("names %s, never with a stack trace", async (_label, path, message) => {
    dir = mkdtempSync(join(tmpdir(), "secret-"));
    await expect(new FileSecretSource(path(dir)).read()).rejects.toThrow(message);
  });
});

describe("cleanSecret", () => {
  it.each([
    ["", /is empty/],
    ["  \n", /is empty/],
    ["line one\nline two", /holds more than one line or control characters/],
    ["tab\tinside", /holds more than one line or control characters/],
  ])("refuses %j without quoting it", (text, message) => {
    expect(() => cleanSecret(text, "the token file /t")).toThrow(message);
    try {
      cleanSecret(text, "the token file /t");
    } catch (error) {
      if (text.trim() !== "") expect((error as Error).message).not.toContain(text.trim());
    }
  });
});
