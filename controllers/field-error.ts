import { TerminalError } from "./reconciler.ts";
import { resourceKey, type SpecDocument } from "./spec/document.ts";

/**
 * A problem AWS showed with one field of a spec (a cluster or group that does not exist), printed at that field as
 * `FILE:LINE:COL: Kind/name: message` rather than at the document's first line.
 */
export function fieldError(
  doc: SpecDocument,
  path: readonly (string | number)[],
  message: string,
  options?: ErrorOptions,
): TerminalError {
  const p = doc.positionOf(path);
  return new TerminalError(`${p.file}:${p.line}:${p.col}: ${resourceKey(doc)}: ${message}`, options);
}

/** Waits for `work`; a TerminalError it throws (of `type`, when given) is located at `path` of `doc`. */
export async function atField<T>(
  doc: SpecDocument,
  path: readonly (string | number)[],
  work: Promise<T>,
  type: abstract new (...args: never[]) => Error = TerminalError,
): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (
      error instanceof type &&
      error instanceof TerminalError &&
      !/^[^\s:]+:\d+:\d+: /.test(error.message)
    ) {
      throw fieldError(doc, path, error.message, { cause: error });
    }
    throw error;
  }
}
