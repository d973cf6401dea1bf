import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { awsCall, AwsError } from "../../controllers/aws/errors.ts";
import { ConfigBucketNotFoundError, type ConfigObjectStore } from "./config-object-store.ts";

export class AwsS3ConfigStore implements ConfigObjectStore {
  private readonly s3: S3Client;

  constructor(clients: { s3: S3Client }) {
    this.s3 = clients.s3;
  }

  async read(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return await awsCall("s3", "GetObject", async () => {
        try {
          const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
            abortSignal: signal,
          });
          return (await out.Body?.transformToString("utf-8")) ?? "";
        } catch (error) {
          // S3 answers a missing key with 404 NoSuchKey only to callers allowed s3:ListBucket on the bucket;
          // without it, a missing key is 403 AccessDenied, which is reported as such.
          if ((error as { name?: string }).name === "NoSuchKey") return undefined;
          throw error;
        }
      });
    } catch (error) {
      if (error instanceof AwsError && error.code === "NoSuchBucket") {
        throw new ConfigBucketNotFoundError(`S3 bucket ${bucket} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  async write(bucket: string, key: string, body: string, signal?: AbortSignal): Promise<void> {
    await awsCall("s3", "PutObject", () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: "text/plain; charset=utf-8",
        }),
        { abortSignal: signal },
      ),
    );
  }
}
