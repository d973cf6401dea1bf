import { describe, expect, it } from "vitest";
import { parseS3ObjectArn, s3Url } from "./s3-object-arn.ts";

describe("parseS3ObjectArn", () => {
  it.each([
    ["arn:aws:s3:::example-log-config/api/extra.conf", "aws", "example-log-config", "api/extra.conf"],
    ["arn:aws-cn:s3:::logs.cn-north-1/extra.conf", "aws-cn", "logs.cn-north-1", "extra.conf"],
    ["arn:aws-us-gov:s3:::gov-logs/a/b/c=1_2.conf", "aws-us-gov", "gov-logs", "a/b/c=1_2.conf"],
    ["arn:aws:s3:::abc/x", "aws", "abc", "x"],
  ])("reads %s", (arn, partition, bucket, key) => {
    expect(parseS3ObjectArn(arn)).toEqual({ partition, bucket, key });
  });

  it.each([
    ["s3://example-log-config/api/extra.conf", "an s3:// URL, not an ARN"],
    ["arn:aws:s3:::example-log-config", "a bucket ARN without a key"],
    ["arn:aws:s3:::example-log-config/", "an empty key"],
    ["arn:aws:s3:::example-log-config//extra.conf", "a key starting with a slash"],
    ["arn:awsx:s3:::example-log-config/extra.conf", "an unknown partition"],
    ["arn:aws-iso:s3:::example-log-config/extra.conf", "a partition outside aws, aws-cn, aws-us-gov"],
    ["arn:aws:s3:us-east-1:123456789012:example-log-config/extra.conf", "a region and account"],
    ["arn:aws:s3:::Example-Log-Config/extra.conf", "an upper-case bucket"],
    ["arn:aws:s3:::ab/extra.conf", "a bucket name under 3 characters"],
    [`arn:aws:s3:::${"a".repeat(64)}/extra.conf`, "a bucket name over 63 characters"],
    ["arn:aws:s3:::-logs/extra.conf", "a bucket starting with a hyphen"],
    ["arn:aws:s3:::logs-/extra.conf", "a bucket ending with a hyphen"],
    ["arn:aws:s3:::my..logs/extra.conf", "adjacent dots in the bucket"],
    ["arn:aws:s3:::logs/extra conf", "a space in the key"],
    ["arn:aws:s3:::logs/extra.conf\n[OUTPUT]", "a line break in the key"],
    ["arn:aws:s3:::logs/a?b", "a query string"],
  ])("rejects %s (%s)", (arn) => {
    expect(parseS3ObjectArn(arn)).toBeUndefined();
  });

  it("prints the object as an s3:// URL", () => {
    expect(s3Url(parseS3ObjectArn("arn:aws:s3:::example-log-config/api/extra.conf")!)).toBe(
      "s3://example-log-config/api/extra.conf",
    );
  });
});
