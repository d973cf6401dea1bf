/** A revision that carries a tag, as a tag listing gives it: no content, its tags. */
export interface TaggedRevision {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
}

/** Finds the revisions this operator registered, in every family, by their owner tag. */
export interface TaggedRevisionsApi {
  /** Every task definition revision whose tag `key` has `value`. */
  withTag(key: string, value: string, signal?: AbortSignal): Promise<TaggedRevision[]>;
}

/** `arn:...:task-definition/FAMILY:REVISION` -> family and revision; undefined for another ARN. */
export function parseTaskDefinitionArn(arn: string): { family: string; revision: number } | undefined {
  const m = /:task-definition\/([^:/]+):(\d+)$/.exec(arn);
  return m === null ? undefined : { family: m[1]!, revision: Number(m[2]) };
}
