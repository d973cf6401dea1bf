/** The bucket named by a router's `configFile` does not exist; the operator does not create buckets. */
export class ConfigBucketNotFoundError extends Error {
  override readonly name = "ConfigBucketNotFoundError";
}

/**
 * The narrow view of S3 the task definition reconciler uses: the Fluent Bit config objects FireLens reads
 * (`config-file-type s3`).
 */
export interface ConfigObjectStore {
  /**
   * The object's content as UTF-8 text, or undefined when the bucket has no such key. Throws
   * `ConfigBucketNotFoundError` when the bucket itself does not exist.
   */
  read(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Creates or replaces the object. */
  write(bucket: string, key: string, body: string, signal?: AbortSignal): Promise<void>;
}
