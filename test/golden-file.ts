import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";

const GOLDEN = join(import.meta.dirname, "fixtures/golden");

/**
 * Compares `text` with `test/fixtures/golden/NAME`. A missing golden file fails the test (a golden that writes
 * itself asserts nothing); `UPDATE_GOLDEN=1` writes it, to be read and committed.
 */
export function expectGolden(name: string, text: string): void {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} is missing: run with UPDATE_GOLDEN=1, read it, and commit it`);
  }
  expect(text).toBe(readFileSync(path, "utf8"));
}
