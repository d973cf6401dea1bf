import { formatDiagnostic, type LoadResult } from "../controllers/spec/load.ts";
import { undeclaredEnvironment } from "../controllers/spec/environments.ts";
import type { Output } from "./cli-support.ts";

/**
 * When nothing could be read at all (a missing directory, an unreadable path), says so plainly: the path and what
 * is wrong with it, without a made-up `1:1` position. True when it did.
 */
export function reportUnreadable(loaded: LoadResult, dir: string, io: Output): boolean {
  if (loaded.files.length > 0 || loaded.diagnostics.length === 0) return false;
  for (const d of loaded.diagnostics) {
    io.err(d.file === dir ? `${dir}: ${d.message}\n` : formatDiagnostic(d) + "\n");
  }
  io.err(
    `Nothing to read at ${dir}: give a directory of spec files (*.yaml, *.yml), e.g. manifests/examples/kinds.\n`,
  );
  return true;
}

/** `--environment NAME` that no spec under `dir` declares, as a sentence; undefined when fine. */
export function environmentProblem(
  environment: string | undefined,
  loaded: LoadResult,
  dir: string,
): string | undefined {
  return undeclaredEnvironment(environment, loaded.environments, dir);
}
