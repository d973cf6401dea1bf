import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Golden files: rendered output checked in, compared byte for byte; `npm run golden` writes them. */
export const GOLDEN_DIR = join(import.meta.dirname, "fixtures/golden");

/**
 * The text of a golden file. A missing one is a failure, not a file to write: a test that writes its own expectation
 * passes whatever the code renders.
 */
export function readGolden(name: string): string {
  const path = join(GOLDEN_DIR, name);
  if (!existsSync(path)) {
    throw new Error(
      `golden file ${path} is missing: run \`npm run golden\`, check what it wrote, and commit it`,
    );
  }
  return readFileSync(path, "utf8");
}
