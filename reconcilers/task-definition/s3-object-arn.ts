/** An S3 object named by its ARN, as FireLens's `config-file-value` takes it for `config-file-type s3`. */
export interface S3ObjectRef {
  readonly partition: "aws" | "aws-cn" | "aws-us-gov";
  readonly bucket: string;
  readonly key: string;
}

// S3 object ARNs carry no region or account: `arn:PARTITION:s3:::BUCKET/KEY`. Bucket names are 3-63 lowercase
// letters, digits, dots and hyphens, beginning and ending with a letter or digit. Keys are kept to characters that
// need no escaping in a URL, a task definition option or a Fluent Bit file.
const S3_OBJECT_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([A-Za-z0-9_.=-][A-Za-z0-9/_.=-]*)$/;

/** The bucket and key of `arn:aws:s3:::bucket/key` (also the aws-cn and aws-us-gov partitions), or undefined. */
export function parseS3ObjectArn(arn: string): S3ObjectRef | undefined {
  const m = S3_OBJECT_ARN.exec(arn);
  if (m === null) return undefined;
  const [, partition, bucket, key] = m;
  // S3 rejects bucket names with two adjacent dots.
  if (bucket!.includes("..")) return undefined;
  return { partition: partition as S3ObjectRef["partition"], bucket: bucket!, key: key! };
}

export function s3Url(ref: S3ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}`;
}
