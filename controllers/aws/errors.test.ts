import { describe, expect, it } from "vitest";
import { AwsError, classifyAwsError, type AwsErrorClass } from "./errors.ts";

/** An error shaped as the SDK throws it: `name` is the code, `$metadata` the HTTP answer, `code` Node's errno. */
function sdkError(name: string, message: string, status?: number, errno?: string): Error {
  return Object.assign(new Error(message), {
    name,
    ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : { $metadata: {} }),
    ...(errno !== undefined ? { code: errno } : {}),
  });
}

const cases: [what: string, error: Error, cls: AwsErrorClass, says?: RegExp][] = [
  ["Route 53 throttling", sdkError("Throttling", "Rate exceeded", 400), "throttled"],
  ["a zone's previous batch still pending", sdkError("PriorRequestNotComplete", "retry", 400), "throttled"],
  ["Cloud Map's request quota", sdkError("RequestLimitExceeded", "quota", 400), "throttled"],
  ["a 429", sdkError("SomethingNew", "slow down", 429), "throttled"],
  ["S3 SlowDown", sdkError("SlowDown", "reduce your request rate", 503), "throttled"],
  [
    "a CREATE of a record someone created meanwhile",
    sdkError(
      "InvalidChangeBatch",
      "[Tried to create resource record set [name='fluentd.logs.internal.', type='A', set-identifier='i-1'] but it already exists]",
      400,
    ),
    "conflict",
    /read again/,
  ],
  [
    "a DELETE of a record gone meanwhile",
    sdkError(
      "InvalidChangeBatch",
      "[Tried to delete resource record set [name='a.logs.internal.', type='A'] but it was not found]",
      400,
    ),
    "conflict",
  ],
  [
    "a DELETE of a record changed meanwhile",
    sdkError(
      "InvalidChangeBatch",
      "Tried to delete resource record set [name='a.', type='A'] but the values provided do not match the current values",
      400,
    ),
    "conflict",
  ],
  [
    "a batch that can never be valid",
    sdkError(
      "InvalidChangeBatch",
      "[RRSet with DNS name a.other. is not permitted in zone logs.internal.]",
      400,
    ),
    "invalid",
  ],
  ["a Cloud Map operation in progress", sdkError("DuplicateRequest", "in progress", 400), "conflict"],
  ["a service created by a lost answer", sdkError("ServiceAlreadyExists", "exists", 400), "conflict"],
  ["an Auto Scaling update pending", sdkError("ResourceContention", "pending update", 500), "conflict"],
  ["a 409", sdkError("Whatever", "conflict", 409), "conflict"],
  ["a missing zone", sdkError("NoSuchHostedZone", "no zone", 404), "not-found"],
  ["an expired session token (query APIs)", sdkError("ExpiredToken", "expired", 403), "transient", /new one/],
  ["an expired session token (JSON APIs)", sdkError("ExpiredTokenException", "expired", 403), "transient"],
  [
    "an unknown access key",
    sdkError("UnrecognizedClientException", "bad key", 403),
    "invalid",
    /credentials/,
  ],
  ["a missing permission", sdkError("AccessDeniedException", "denied", 400), "invalid", /iam-policy/],
  ["a quota reached", sdkError("ResourceLimitExceeded", "too many", 400), "invalid", /Service Quotas/],
  ["a 500", sdkError("InternalFailure", "oops", 500), "transient"],
  ["ECS ServerException", sdkError("ServerException", "server issue", 500), "transient"],
  ["a 503 with an unknown code", sdkError("Unknown", "unavailable", 503), "transient"],
  ["a reset connection", sdkError("Error", "read ECONNRESET", undefined, "ECONNRESET"), "transient"],
  ["a refused connection", sdkError("Error", "connect ECONNREFUSED", undefined, "ECONNREFUSED"), "transient"],
  ["socket hang up", sdkError("Error", "socket hang up"), "transient"],
  [
    "the request timeout",
    sdkError(
      "TimeoutError",
      "a request has exceeded the configured 1000 ms requestTimeout",
      undefined,
      "ETIMEDOUT",
    ),
    "timeout",
    /--aws-request-timeout/,
  ],
  ["an aborted call", sdkError("AbortError", "Request aborted"), "timeout"],
  [
    "no credentials at all",
    sdkError("CredentialsProviderError", "Could not load credentials from any providers"),
    "terminal",
    /no AWS credentials/,
  ],
  ["no region", sdkError("Error", "Region is missing"), "terminal", /AWS_REGION/],
  [
    "a host that does not resolve",
    sdkError("Error", "getaddrinfo ENOTFOUND motto", undefined, "ENOTFOUND"),
    "terminal",
    /--endpoint-url/,
  ],
  ["no HTTP status and no network error", sdkError("Error", "something odd"), "terminal", /no HTTP answer/],
  ["an unknown 4xx", sdkError("Teapot", "short and stout", 418), "invalid"],
];

describe("classifyAwsError", () => {
  it.each(cases)("classifies %s", (_what, error, cls, says) => {
    const e = classifyAwsError("route53", "ChangeResourceRecordSets", error);
    expect(e).toBeInstanceOf(AwsError);
    expect(e.errorClass).toBe(cls);
    if (says !== undefined) expect(e.message).toMatch(says);
    expect(e.cause).toBe(error);
  });

  it("keeps an error already classified, and says what is retried", () => {
    const e = new AwsError("invalid", "ecs", "ListTasks", "ClientException", "bad");
    expect(classifyAwsError("ecs", "ListTasks", e)).toBe(e);
    expect(e.retryable).toBe(false);
    for (const cls of ["throttled", "transient", "timeout", "conflict"] as const) {
      expect(new AwsError(cls, "ecs", "ListTasks", "X", "y").retryable).toBe(true);
    }
  });
});
