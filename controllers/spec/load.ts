import { createHash } from "node:crypto";
import { readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { type TSchema } from "@sinclair/typebox";
import { Value, ValueErrorType, type ValueError } from "@sinclair/typebox/value";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import { closest } from "../did-you-mean.ts";
import { sourceOffsetInScalar } from "./scalar-offset.ts";
import {
  API_VERSION,
  MetadataSchema,
  resourceKey,
  type KindDefinition,
  type SourcePosition,
  type SpecDocument,
  type SpecIssue,
} from "./document.ts";

/** A located problem: printed as `FILE:LINE:COL: message`. */
export interface SpecDiagnostic extends SourcePosition {
  readonly message: string;
}

export function formatDiagnostic(d: SpecDiagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

export interface LoadOptions {
  /** Selects `spec.environments.<name>` overlays. */
  readonly environment?: string | undefined;
}

export interface LoadResult {
  readonly documents: SpecDocument[];
  readonly diagnostics: SpecDiagnostic[];
  /** Findings that do not make a document invalid (a kind's `warn`): `validate` prints them. */
  readonly warnings?: SpecDiagnostic[];
  /** Every `spec.environments` name the documents declare, sorted: what `--environment` may select. */
  readonly environments?: string[];
  /**
   * The `--environment` the documents were read with (their overlays applied): `nextRead` judges it against
   * `environments`, so a source cannot pass one to the load and forget it for the judgement.
   */
  readonly environment?: string | undefined;
  /** The files read, relative to nothing: as they would be printed. */
  readonly files: string[];
  /** The real path the directory was read from (its symlinks resolved once, at the start of the read). */
  readonly root?: string | undefined;
}

type Path = readonly (string | number)[];

/** Larger than any spec set needs: a file this size is a mistake (a log, a dump), not specs. */
export const MAX_SPEC_FILE_BYTES = 8 * 1024 * 1024;
/** Directories below the spec directory followed at most, symlinks included. */
const MAX_DEPTH = 64;

/**
 * Reads every `*.yaml` / `*.yml` below `dir`, validates every document, then checks the documents against each
 * other. All problems of the run are returned at once; a document with a problem is left out of `documents`, and
 * callers must not treat a run with diagnostics as the complete desired state (see `isComplete`).
 *
 * Symlinked files and directories are followed (git-sync style checkouts and mounted config volumes are made of
 * them). `dir` itself is resolved to its real path once, at the start of the read, and every file is read below that
 * path: a checkout whose link is swapped mid-read is read wholly from one tree. A symlink loop, a dangling symlink
 * and a file that cannot be read are each a diagnostic naming the path, so the set is incomplete and deletes nothing.
 */
export async function loadSpecDirectory(
  dir: string,
  kinds: readonly KindDefinition[],
  options: LoadOptions = {},
): Promise<LoadResult> {
  let listing: SpecListing;
  let root: string;
  try {
    root = await realpath(dir);
    const info = await stat(root);
    listing = info.isDirectory()
      ? await listSpecFiles(dir, root)
      : { files: [{ path: dir, real: root }], problems: [] };
  } catch (error) {
    return {
      documents: [],
      files: [],
      diagnostics: [{ file: dir, line: 1, col: 1, message: unreadablePath(error) }],
      environment: options.environment,
    };
  }
  const documents: SpecDocument[] = [];
  const identified: SpecDocument[] = [];
  const diagnostics: SpecDiagnostic[] = [...listing.problems];
  const warnings: SpecDiagnostic[] = [];
  const environments = new Set<string>();
  for (const file of listing.files) {
    const text = await readSpecFile(file);
    if (typeof text !== "string") {
      diagnostics.push(text);
      continue;
    }
    const parsed = parseSpecText(file.path, text, kinds, options);
    documents.push(...parsed.documents);
    identified.push(...parsed.identified);
    // In reading order, whatever order the checks found them in.
    diagnostics.push(...parsed.diagnostics.sort((a, b) => a.line - b.line || a.col - b.col));
    warnings.push(...parsed.warnings);
    for (const e of parsed.environments) environments.add(e);
  }
  // Invalid documents take part too: a duplicate is reported in the same run as the document's own problems.
  const cross = crossCheck(identified, kinds);
  const rejected = new Set(cross.rejected);
  return {
    documents: documents.filter((d) => !rejected.has(d)),
    diagnostics: [...diagnostics, ...cross.diagnostics],
    warnings,
    environments: [...environments].sort(),
    environment: options.environment,
    files: listing.files.map((f) => f.path),
    root,
  };
}

/** Why a spec path could not be read at all, in the words `ls` would use. */
function unreadablePath(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR") return "not a directory";
  return error instanceof Error ? error.message : String(error);
}

/** True when every file parsed and validated: only then may absence from the specs mean "delete". */
export function isComplete(result: LoadResult): boolean {
  return result.diagnostics.length === 0;
}

/** A spec file: the path it is shown by (through the links the user gave), and the real path it is read from. */
interface SpecFile {
  readonly path: string;
  readonly real: string;
}

interface SpecListing {
  readonly files: SpecFile[];
  readonly problems: SpecDiagnostic[];
}

/**
 * Every spec file below `root` (the real path of `shown`), following symlinks. A directory reached again through a
 * link below itself is a loop, reported and not followed; a directory or file reached twice by two links is read
 * once.
 */
async function listSpecFiles(shown: string, root: string): Promise<SpecListing> {
  const files: SpecFile[] = [];
  const problems: SpecDiagnostic[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>([root]);
  const problem = (file: string, message: string): void => {
    problems.push({ file, line: 1, col: 1, message });
  };
  const walk = async (shownDir: string, realDir: string, ancestors: readonly string[]): Promise<void> => {
    let entries;
    try {
      entries = await readdir(realDir, { withFileTypes: true });
    } catch (error) {
      problem(shownDir, `cannot read this directory: ${fsProblem(error)}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const shownPath = join(shownDir, e.name);
      const entryPath = join(realDir, e.name);
      let real = entryPath;
      let isDirectory = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          real = await realpath(entryPath);
          const info = await stat(real);
          isDirectory = info.isDirectory();
          isFile = info.isFile();
        } catch (error) {
          const target = await readlink(entryPath).catch(() => "?");
          problem(
            shownPath,
            (error as NodeJS.ErrnoException).code === "ELOOP"
              ? `symlink loop: ${shownPath} -> ${target} never reaches a file or directory; not followed`
              : `dangling symlink: ${shownPath} -> ${target} (${fsProblem(error)}); what its specs managed is kept`,
          );
          continue;
        }
      }
      if (isDirectory) {
        if (ancestors.includes(real)) {
          problem(
            shownPath,
            `symlink loop: ${shownPath} leads back to ${displayAncestor(real, root, shown)}; not followed`,
          );
          continue;
        }
        if (seenDirs.has(real)) continue;
        seenDirs.add(real);
        if (ancestors.length >= MAX_DEPTH) {
          problem(shownPath, `more than ${MAX_DEPTH} directories deep; not read`);
          continue;
        }
        await walk(shownPath, real, [...ancestors, real]);
      } else if (isFile && /\.ya?ml$/i.test(e.name)) {
        if (seenFiles.has(real)) continue;
        seenFiles.add(real);
        files.push({ path: shownPath, real });
      }
    }
  };
  await walk(shown, root, [root]);
  return { files, problems };
}

function displayAncestor(real: string, root: string, shown: string): string {
  const rel = relative(root, real);
  return rel === "" ? shown : rel.startsWith("..") ? real : join(shown, rel);
}

/** The file's text, or a diagnostic naming it when it cannot be read as a spec file. */
async function readSpecFile(file: SpecFile): Promise<string | SpecDiagnostic> {
  const at = (message: string): SpecDiagnostic => ({ file: file.path, line: 1, col: 1, message });
  try {
    const info = await stat(file.real);
    if (info.size > MAX_SPEC_FILE_BYTES) {
      return at(`${info.size} bytes, more than the ${MAX_SPEC_FILE_BYTES} a spec file may have; not read`);
    }
    return await readFile(file.real, "utf8");
  } catch (error) {
    // A checkout swapped mid-read can remove the old tree under us: the read is incomplete, never a deletion.
    return at(`cannot read this file: ${fsProblem(error)}`);
  }
}

/** A file system error in words, with its code. */
function fsProblem(error: unknown, fallback?: string): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case "ENOENT":
      return fallback ?? "no such file or directory (ENOENT)";
    case "EACCES":
    case "EPERM":
      return `permission denied (${e.code})`;
    case "ELOOP":
      return "too many levels of symbolic links (ELOOP)";
    case "ENOTDIR":
      return "a path component is not a directory (ENOTDIR)";
    default:
      return e.code !== undefined ? `${e.code}: ${e.message}` : String(e.message ?? error);
  }
}

/** One file's documents and findings. */
export interface ParsedSpecText {
  /** The valid documents. */
  readonly documents: SpecDocument[];
  readonly diagnostics: SpecDiagnostic[];
  readonly warnings: SpecDiagnostic[];
  /**
   * Every document that names a known kind and a name, valid or not, in file order: what `crossCheck` compares,
   * so that a duplicate shows up in the same run as the document's other problems. Never reconciled unless it is
   * also in `documents`.
   */
  readonly identified: SpecDocument[];
  /** The `spec.environments` names declared, valid documents or not. */
  readonly environments: string[];
}

/** The identified documents that failed validation: their specs may not have the kind's type. */
const unvalidated = new WeakSet<SpecDocument>();

/** Parses one file's text. Pure: no I/O. */
export function parseSpecText(
  file: string,
  text: string,
  kinds: readonly KindDefinition[],
  options: LoadOptions = {},
): ParsedSpecText {
  const lineCounter = new LineCounter();
  const yamlDocs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: SpecDocument[] = [];
  const identified: SpecDocument[] = [];
  const diagnostics: SpecDiagnostic[] = [];
  const warnings: SpecDiagnostic[] = [];
  const environments = new Set<string>();
  const at = (offset: number, message: string): SpecDiagnostic => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col, message };
  };
  if (!Array.isArray(yamlDocs)) {
    // An empty stream parses to an EmptyStream: nothing to read.
    return { documents, diagnostics, warnings, identified, environments: [] };
  }
  for (const ydoc of yamlDocs) {
    if (ydoc.errors.length > 0) {
      for (const e of ydoc.errors) diagnostics.push(at(e.pos[0], `invalid YAML: ${yamlProblem(e.message)}`));
      continue;
    }
    // An empty document, e.g. after a trailing `---`.
    if (ydoc.contents === null || (isScalar(ydoc.contents) && ydoc.contents.value === null)) continue;
    const start = ydoc.contents.range?.[0] ?? 0;
    let value: unknown;
    try {
      // Each alias expands to a copy: an "alias bomb" of nested aliases would expand to gigabytes.
      value = ydoc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // Whatever a hostile document makes the YAML library throw is a problem of this file, named.
      diagnostics.push(at(start, `invalid YAML: ${yamlProblem(messageOf(error))}`));
      continue;
    }
    try {
      parseDocument(ydoc, value, start);
    } catch (error) {
      // A document nested deeper than the validator's stack is the file's problem too; any other throw is a bug of
      // a kind's check on a spec its schema accepted, and is not to be hidden as a finding.
      if (!(error instanceof RangeError)) throw error;
      diagnostics.push(at(start, `invalid YAML: ${yamlProblem(messageOf(error))}`));
    }
  }
  return { documents, diagnostics, warnings, identified, environments: [...environments] };

  function parseDocument(ydoc: Document, value: unknown, start: number): void {
    const positionOf = (path: Path, atKey = false, index?: number): SourcePosition => {
      const inValue = index !== undefined ? sourceOffsetInScalar(ydoc, text, path, index) : undefined;
      const offset = inValue ?? offsetOf(ydoc, path, atKey) ?? start;
      const { line, col } = lineCounter.linePos(offset);
      return { file, line, col };
    };
    const located = (issue: Issue): SpecDiagnostic => ({
      ...positionOf(issue.path, issue.atKey, issue.index),
      message: issue.message,
    });
    if (isRecord(value) && isRecord(value.spec) && isRecord(value.spec.environments)) {
      for (const name of Object.keys(value.spec.environments)) environments.add(name);
    }
    const result = validateDocument(value, kinds, options);
    if (!result.ok) {
      // In reading order, whatever order the checks found them in.
      diagnostics.push(...result.issues.map(located).sort((a, b) => a.line - b.line || a.col - b.col));
      if (result.identity !== undefined) {
        const invalid: SpecDocument = {
          apiVersion: API_VERSION,
          ...result.identity,
          generation: "",
          source: positionOf([]),
          positionOf: (path) => positionOf(path),
        };
        unvalidated.add(invalid);
        identified.push(invalid);
      }
      return;
    }
    warnings.push(...result.warnings.map(located));
    const doc: SpecDocument = {
      ...result.document,
      source: positionOf([]),
      positionOf: (path) => positionOf(path),
    };
    documents.push(doc);
    identified.push(doc);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The YAML library's message as a sentence for the user (its first line; its resource guards in plain words). */
function yamlProblem(message: string): string {
  if (/Excessive alias count/i.test(message)) {
    return "too many aliases expand in this document (more than 100; an alias bomb?); not read";
  }
  if (/call stack|stack overflow/i.test(message)) return "nested too deeply to be a spec; not read";
  return firstLine(message);
}

type ValidatedDocument = Omit<SpecDocument, "source" | "positionOf">;

/** A problem at a path; `atKey` points at the field's key rather than its value (an unknown field). */
interface Issue {
  readonly path: Path;
  readonly message: string;
  readonly atKey?: boolean;
  /** A character index inside the string value at `path`. */
  readonly index?: number;
}

/** A schema problem, with the field it is about (`path` may be its parent, where a missing field is shown). */
interface SchemaIssue extends Issue {
  readonly field: Path;
}

const ENVELOPE_FIELDS = ["apiVersion", "kind", "metadata", "spec"];

export type DocumentValidation =
  | { ok: true; document: ValidatedDocument; warnings: Issue[] }
  | {
      ok: false;
      issues: Issue[];
      /** Set when the document names a known kind and a name: enough to find duplicates among invalid documents. */
      identity?: Pick<SpecDocument, "kind" | "metadata" | "spec">;
    };

/**
 * Validates one parsed document against the envelope and its kind. Pure. Every problem is reported at once: the
 * envelope, the spec's schema, and the kind's cross-field `check`, which runs even when the schema failed (on the
 * document as written; a `check` that throws on such a spec adds nothing, and its findings at or inside a field
 * the schema already rejected are left out, being that field's problem told twice).
 */
export function validateDocument(
  value: unknown,
  kinds: readonly KindDefinition[],
  options: LoadOptions = {},
): DocumentValidation {
  const issues: Issue[] = [];
  if (!isRecord(value)) {
    return { ok: false, issues: [{ path: [], message: "a spec document must be a mapping" }] };
  }
  const label = typeof value.kind === "string" ? value.kind : "document";
  if (value.apiVersion !== API_VERSION) {
    issues.push({
      path: ["apiVersion"],
      message:
        value.apiVersion === undefined
          ? `${label}: missing apiVersion (expected "${API_VERSION}")`
          : `${label}: unsupported apiVersion ${JSON.stringify(value.apiVersion)} (expected "${API_VERSION}")`,
    });
  }
  const def = kinds.find((k) => k.kind === value.kind);
  if (def === undefined) {
    const known = kinds.map((k) => k.kind);
    const suggestion = typeof value.kind === "string" ? closest(value.kind, known) : undefined;
    issues.push({
      path: ["kind"],
      message:
        value.kind === undefined
          ? `missing kind (one of ${known.join(", ")})`
          : `unknown kind ${JSON.stringify(value.kind)} ` +
            (suggestion !== undefined ? `(did you mean ${suggestion}?)` : `(one of ${known.join(", ")})`),
    });
  }
  // A misspelt envelope field is one problem, not also "missing spec".
  const meant = new Set<string>();
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_FIELDS.includes(key)) {
      const suggestion = closest(
        key,
        ENVELOPE_FIELDS.filter((f) => value[f] === undefined),
      );
      if (suggestion !== undefined) meant.add(suggestion);
      issues.push({
        path: [key],
        message: `${label}: unknown top-level field "${key}"${suggestion !== undefined ? ` (did you mean ${suggestion}?)` : ""}`,
        atKey: true,
      });
    }
  }
  const name = isRecord(value.metadata) && typeof value.metadata.name === "string" ? value.metadata.name : "";
  const who = name ? `${label} "${name}"` : label;
  if (value.metadata === undefined) {
    if (!meant.has("metadata")) issues.push({ path: [], message: `${who}: missing metadata` });
  } else {
    issues.push(...schemaIssues(MetadataSchema, value.metadata, ["metadata"], who));
  }
  const specIssues: SchemaIssue[] = [];
  if (value.spec === undefined) {
    if (!meant.has("spec")) issues.push({ path: [], message: `${who}: missing spec` });
  } else if (def !== undefined) {
    specIssues.push(...schemaIssues(def.specSchema, value.spec, ["spec"], who));
  }
  if (def === undefined || !isRecord(value.spec)) {
    return { ok: false, issues: [...issues, ...specIssues] };
  }

  let spec = value.spec;
  let overlayOf = (path: Path): Path => path;
  const envs = spec.environments;
  if (isRecord(envs)) {
    const env = options.environment;
    const overlay = env !== undefined ? envs[env] : undefined;
    const { environments: _ignored, ...base } = spec;
    spec = base;
    if (env !== undefined && isRecord(overlay)) {
      // An overlay replaces whole top-level fields of the spec: `output: {awslogs: ...}` replaces `output`.
      spec = { ...base, ...overlay };
      const overridden = new Set(Object.keys(overlay));
      overlayOf = (path) =>
        path[0] === "spec" && typeof path[1] === "string" && overridden.has(path[1])
          ? ["spec", "environments", env, ...path.slice(1)]
          : path;
      // The overlay itself was checked as part of the spec; the merge can only add problems when the base was valid.
      if (specIssues.length === 0) {
        const merged = schemaIssues(def.specSchema, spec, ["spec"], `${who} (environment ${env})`);
        specIssues.push(...merged.map((i) => ({ ...i, path: overlayOf(i.path), field: overlayOf(i.field) })));
      }
    }
  }
  let semantic: SpecIssue[];
  try {
    semantic = def.check?.(spec as never) ?? [];
  } catch (error) {
    // A check may assume the schema holds; when it does not, the schema's findings are the ones to fix first.
    if (specIssues.length === 0) throw error;
    semantic = [];
  }
  const rejectedFields = specIssues.map((i) => i.field);
  for (const i of semantic) {
    const path = overlayOf(["spec", ...i.path]);
    if (rejectedFields.some((f) => startsWith(path, f))) continue;
    specIssues.push({
      path,
      field: path,
      message: `${who}: ${i.message}`,
      ...(i.index !== undefined ? { index: i.index } : {}),
    });
  }
  const metadata = value.metadata as SpecDocument["metadata"];
  if (issues.length > 0 || specIssues.length > 0) {
    return {
      ok: false,
      issues: [...issues, ...specIssues.map(({ field: _field, ...i }) => i)],
      ...(name !== "" ? { identity: { kind: def.kind, metadata: { name }, spec } } : {}),
    };
  }
  const warnings = (def.warn?.(spec as never) ?? []).map((i) => ({
    path: overlayOf(["spec", ...i.path]),
    message: `${who}: ${i.message}`,
  }));
  return {
    ok: true,
    document: {
      apiVersion: API_VERSION,
      kind: def.kind,
      metadata,
      spec,
      generation: generationOf(def.kind, metadata.name, spec),
    },
    warnings,
  };
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

function schemaIssues(schema: TSchema, value: unknown, prefix: Path, who: string): SchemaIssue[] {
  const errors: { error: ValueError; rel: Path }[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const rel = pointerToPath(error.path);
    const key = rel.join("/");
    // A failed union reports once per branch; the first message for a path is the useful one.
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push({ error, rel });
  }
  // A misspelt field is one problem: "unknown field hostedZon (did you mean hostedZone?)" stands for the
  // "missing required field hostedZone" it causes.
  const missing = new Set(
    errors.filter((e) => e.error.type === ValueErrorType.ObjectRequiredProperty).map((e) => e.rel.join("/")),
  );
  const suggestions = new Map<ValueError, string>();
  const explained = new Set<string>();
  for (const { error, rel } of errors) {
    if (error.type !== ValueErrorType.ObjectAdditionalProperties) continue;
    const parent = rel.slice(0, -1);
    const known = Object.keys((error.schema as { properties?: Record<string, unknown> }).properties ?? {});
    const absent = known.filter((k) => missing.has([...parent, k].join("/")));
    const suggestion =
      closest(String(rel[rel.length - 1]), absent) ?? closest(String(rel[rel.length - 1]), known);
    if (suggestion === undefined) continue;
    suggestions.set(error, suggestion);
    explained.add([...parent, suggestion].join("/"));
  }
  const out: SchemaIssue[] = [];
  for (const { error, rel } of errors) {
    const field = [...prefix, ...rel];
    if (error.type === ValueErrorType.ObjectRequiredProperty && explained.has(rel.join("/"))) continue;
    const { path, message, atKey } = describe(error, rel, suggestions.get(error));
    out.push({
      path: [...prefix, ...path],
      field,
      message: `${who}: ${fieldName([...prefix, ...path])}${message}`,
      ...(atKey ? { atKey } : {}),
    });
  }
  return out;
}

function describe(error: ValueError, rel: Path, suggestion: string | undefined): Issue {
  const last = rel[rel.length - 1];
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { path: rel.slice(0, -1), message: `missing required field "${String(last)}"` };
    case ValueErrorType.ObjectAdditionalProperties:
      return {
        path: rel,
        message: `unknown field${suggestion !== undefined ? ` (did you mean ${suggestion}?)` : ""}`,
        atKey: true,
      };
    case ValueErrorType.Union: {
      const choices = unionConsts(error.schema);
      const near =
        typeof error.value === "string" && choices !== undefined ? closest(error.value, choices) : undefined;
      return {
        path: rel,
        message:
          `must be one of: ${choices?.map((c) => JSON.stringify(c)).join(", ") ?? "the documented forms"}` +
          (near !== undefined ? ` (did you mean ${JSON.stringify(near)}?)` : ""),
      };
    }
    case ValueErrorType.String:
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
    case ValueErrorType.Boolean:
    case ValueErrorType.Object:
    case ValueErrorType.Array:
      return {
        path: rel,
        message: `${lowerFirst(error.message)}, got ${typeName(error.value)}${hint(error.schema)}`,
      };
    case ValueErrorType.StringPattern:
      return {
        path: rel,
        message: `${JSON.stringify(error.value)} is not valid${hint(error.schema)}`,
      };
    default:
      return { path: rel, message: `${lowerFirst(error.message)}${hint(error.schema)}` };
  }
}

function hint(schema: TSchema): string {
  const h = (schema as { errorHint?: unknown }).errorHint;
  return typeof h === "string" ? ` (${h})` : "";
}

/** The choices of a union of constants (`"A" | "SRV"`), or undefined for a union of shapes. */
function unionConsts(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf ?? [];
  const consts = anyOf.map((s) => (s as { const?: unknown }).const).filter((c) => c !== undefined);
  return consts.length === anyOf.length ? consts.map(String) : undefined;
}

function fieldName(path: Path): string {
  if (path.length === 0) return "";
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s === "" ? p : `.${p}`;
  return `${s}: `;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

function pointerToPath(pointer: string): Path {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** The offset of the value (or, for a missing value, of its key or nearest parent) at `path`. */
function offsetOf(doc: Document, path: Path, atKey: boolean): number | undefined {
  let node: Node | null | undefined = doc.contents;
  let best = node?.range?.[0];
  for (const [index, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (pair === undefined) return best;
      const keyNode = pair.key as Node;
      best = keyNode.range?.[0] ?? best;
      node = pair.value as Node | null;
      if (atKey && index === path.length - 1) return best;
      // Point at the key for a value that is absent or null, otherwise at the value.
      const range = node?.range;
      if (range && !(isScalar(node) && node.value === null)) best = range[0];
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as Node | undefined;
      if (item === undefined) return best;
      node = item;
      best = item.range?.[0] ?? best;
    } else {
      return best;
    }
  }
  return best;
}

export function generationOf(kind: string, name: string, spec: unknown): string {
  return createHash("sha256").update(canonicalJson({ kind, name, spec })).digest("hex").slice(0, 12);
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks across documents: two documents of one kind with one name, and two specs that claim one AWS object.
 * The later document (in file order) is rejected and named; the earlier one is cited.
 */
export function crossCheck(
  documents: readonly SpecDocument[],
  kinds: readonly KindDefinition[],
): { diagnostics: SpecDiagnostic[]; rejected: SpecDocument[] } {
  const diagnostics: SpecDiagnostic[] = [];
  const rejected: SpecDocument[] = [];
  const byKey = new Map<string, SpecDocument>();
  const claims = new Map<string, { doc: SpecDocument; pos: SourcePosition }>();
  const cite = (p: SourcePosition): string => `${p.file}:${p.line}:${p.col}`;
  for (const doc of documents) {
    const key = resourceKey(doc);
    const first = byKey.get(key);
    if (first !== undefined) {
      diagnostics.push({
        ...doc.positionOf(["metadata", "name"]),
        message: `duplicate ${doc.kind} "${doc.metadata.name}": already declared at ${cite(first.positionOf(["metadata", "name"]))}`,
      });
      rejected.push(doc);
      continue;
    }
    byKey.set(key, doc);
    const def = kinds.find((k) => k.kind === doc.kind);
    for (const claim of claimsOf(def, doc)) {
      const pos = doc.positionOf(["spec", ...claim.path]);
      const holder = claims.get(claim.key);
      if (holder !== undefined && holder.doc !== doc) {
        diagnostics.push({
          ...pos,
          message: `${resourceKey(doc)} and ${resourceKey(holder.doc)} (${cite(holder.pos)}) both manage ${claim.key}`,
        });
        rejected.push(doc);
        break;
      }
      claims.set(claim.key, { doc, pos });
    }
  }
  return { diagnostics, rejected };
}

function claimsOf(
  def: KindDefinition | undefined,
  doc: SpecDocument,
): { readonly key: string; readonly path: readonly (string | number)[] }[] {
  if (!unvalidated.has(doc)) return def?.claims?.(doc.spec as never, doc.metadata.name) ?? [];
  // An invalid spec's claims, where they can be read: a conflict is worth telling in the same run.
  try {
    return def?.claims?.(doc.spec as never, doc.metadata.name).filter((c) => typeof c.key === "string") ?? [];
  } catch {
    return [];
  }
}

/** Relative path for display, when it is shorter. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel.startsWith("..") || rel === "" ? file : rel;
}
