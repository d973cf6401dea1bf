import { Type, type Static, type TSchema } from "@sinclair/typebox";

export const API_VERSION = "ecs-log-operator/v1alpha1";

/** A lowercase DNS label: what `metadata.name` must be. */
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

export const MetadataSchema = Type.Object(
  {
    name: Type.String({
      pattern: DNS_LABEL_PATTERN,
      description: "Unique per kind; a lowercase DNS label.",
      errorHint:
        "a lowercase DNS label: a-z, 0-9 and '-', at most 63, starting and ending with a letter or digit",
    }),
    labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Free-form labels." })),
  },
  { additionalProperties: false },
);
export type Metadata = Static<typeof MetadataSchema>;

/** Where a value came from, for `FILE:LINE:COL` messages. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One validated spec document. */
export interface SpecDocument<TSpec = unknown> {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: string;
  readonly metadata: Metadata;
  readonly spec: TSpec;
  /** Where the document starts. */
  readonly source: SourcePosition;
  /** A short content hash of kind, name and spec: changes exactly when the desired state does. */
  readonly generation: string;
  /** Resolves a path inside the document (e.g. ["spec", "hostedZone"]) to its position, for errors found later. */
  positionOf(path: readonly (string | number)[]): SourcePosition;
}

/** `Kind/name`: the key a resource is known by in plans, the work queue, logs and metrics. */
export function resourceKey(doc: Pick<SpecDocument, "kind" | "metadata">): string {
  return `${doc.kind}/${doc.metadata.name}`;
}

/** A problem found in a spec, located by a path inside its document. */
export interface SpecIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** For a problem inside a string value (a filter pattern's syntax error): the index of the character at fault. */
  readonly index?: number;
}

/**
 * What the loader needs to know about a kind. Each `reconcilers/<kind>/` exports one; `cmd/` lists them.
 * The schema is the single source of the TypeScript type, the validator and the published JSON Schema.
 */
export interface KindDefinition<TSpecSchema extends TSchema = TSchema> {
  readonly kind: string;
  readonly description: string;
  readonly specSchema: TSpecSchema;
  /**
   * Checks the schema cannot express. Pure: no I/O. Also called on a spec that failed its schema, so that every
   * problem is reported in one run: it may throw there (that adds nothing), and what it finds inside a field the
   * schema rejected is dropped.
   */
  check?(spec: Static<TSpecSchema>): SpecIssue[];
  /**
   * Advice on a valid spec that `validate` prints without failing (the same advice `plan` gives), e.g. a start
   * order that does not wait for what it probably needs. Pure: no I/O.
   */
  warn?(spec: Static<TSpecSchema>): SpecIssue[];
  /**
   * Identities of the AWS objects the spec manages, such as `route53:zone/name/type`. Two specs that claim the
   * same identity would fight over it, so the loader rejects the second. `name` is the document's `metadata.name`,
   * for identities a spec's name gives by default.
   */
  claims?(
    spec: Static<TSpecSchema>,
    name: string,
  ): { readonly key: string; readonly path: readonly (string | number)[] }[];
}

export function defineKind<T extends TSchema>(def: KindDefinition<T>): KindDefinition<T> {
  return def;
}

/** Narrows a document to a kind's spec type. */
export function isKind<T extends TSchema>(
  doc: SpecDocument,
  def: KindDefinition<T>,
): doc is SpecDocument<Static<T>> {
  return doc.kind === def.kind;
}
