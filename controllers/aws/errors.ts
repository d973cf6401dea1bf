/**
 * AWS errors are classified once, in the adapters, into the few classes the reconcilers and the work queue act on.
 * - throttled: the account's request quota is spent. Not retried inside the call: the key goes back to the work
 *   queue's backoff, so a throttled operator slows down instead of hammering.
 * - transient: a 5xx, a reset connection, expired credentials the chain was asked to refresh. The SDK retries it a
 *   few times with the operator's backoff; then the work queue does.
 * - timeout: no answer within the request timeout, or the reconcile's deadline aborted the call. Not retried inside
 *   the call (a hung endpoint would cost attempts x timeout); the work queue retries it with backoff.
 * - conflict: a race that a re-read fixes (the object changed under us, an operation in progress, a creation whose
 *   answer was lost): the next reconcile re-reads and plans again.
 * - not-found: callers usually turn this into `undefined` instead.
 * - invalid / terminal: retrying the same request cannot succeed until a spec, the configuration or AWS state
 *   changes; the message says what to fix. Tried again at the next resync.
 */
export type AwsErrorClass =
  "throttled" | "transient" | "timeout" | "conflict" | "not-found" | "invalid" | "terminal";

export class AwsError extends Error {
  override readonly name = "AwsError";
  readonly errorClass: AwsErrorClass;
  readonly service: string;
  readonly operation: string;
  readonly code: string;

  constructor(
    errorClass: AwsErrorClass,
    service: string,
    operation: string,
    code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${service} ${operation}: ${code}: ${message}`, options);
    this.errorClass = errorClass;
    this.service = service;
    this.operation = operation;
    this.code = code;
  }

  get retryable(): boolean {
    return (
      this.errorClass === "throttled" ||
      this.errorClass === "transient" ||
      this.errorClass === "timeout" ||
      this.errorClass === "conflict"
    );
  }
}

/**
 * Request quota spent. The AWS common errors (`ThrottlingException`, 400); Route 53's `Throttling` ("Rate exceeded")
 * and `PriorRequestNotComplete` (a batch for the zone is still being processed; "retry the request"); Cloud Map's
 * `RequestLimitExceeded` ("you've reached the quota for the number of requests"); EC2's `RequestLimitExceeded`; Auto
 * Scaling's `Throttling`; S3's `SlowDown` (503); SQS's `RequestThrottled`; any 429.
 */
const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "PriorRequestNotComplete",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "EC2ThrottledException",
]);

/**
 * Races a re-read resolves. Route 53 `ConcurrentModification` ("another user submitted a request ... at the same
 * time"); Cloud Map `DuplicateRequest` ("the operation is already in progress"), `ResourceInUse` (a namespace still
 * holding services being deleted), `NamespaceAlreadyExists` / `ServiceAlreadyExists` (a creation whose answer was
 * lost, or someone else's: the next read adopts or reports it); ECS `ConflictException`, `ResourceInUseException`,
 * `UpdateInProgressException`; Auto Scaling `ResourceContention` ("You already have a pending update to an Auto
 * Scaling resource") and `ScalingActivityInProgress`; any 409.
 */
const CONFLICT = new Set([
  "ConcurrentModification",
  "ConflictException",
  "ResourceInUse",
  "ResourceInUseException",
  "DuplicateRequest",
  "InvalidChangeBatch-Conflict",
  "ServiceUpdateNotInProgress",
  // DynamoDB: a conditional write found the item changed (the lease adapter turns it into LeaseConflictError).
  "ConditionalCheckFailedException",
  "TransactionConflictException",
  "NamespaceAlreadyExists",
  "ServiceAlreadyExists",
  "UpdateInProgressException",
  "ResourceContention",
  "ScalingActivityInProgress",
]);

/**
 * Route 53 answers `InvalidChangeBatch` for two different things: a batch that can never be valid (a name outside the
 * zone, a CNAME beside other records), and a batch written from a stale read. The stale ones carry these messages,
 * e.g. "Tried to create resource record set [name='x.', type='A', set-identifier='i-1'] but it already exists",
 * "Tried to delete resource record set [...] but it was not found" and "... but the values provided do not match the
 * current values" (Route 53 API reference, ChangeResourceRecordSets: a DELETE must match the current record exactly):
 * someone (or this operator's own write whose answer was lost) changed the records since they were read.
 */
const STALE_CHANGE_BATCH = [
  /Tried to create resource record set .* but it already exists/i,
  /Tried to delete resource record set .* but it was not found/i,
  /Tried to delete resource record set .* but the values provided do not match the current values/i,
];

const NOT_FOUND = new Set([
  "NoSuchHostedZone",
  "NoSuchChange",
  "NamespaceNotFound",
  "ServiceNotFound",
  "InstanceNotFound",
  "OperationNotFound",
  "ResourceNotFoundException",
  "ClusterNotFoundException",
  "ServiceNotFoundException",
  "NotFoundException",
  "InvalidInstanceID.NotFound",
  "NoSuchEntity",
  "NoSuchKey",
]);

/**
 * The session token has expired (AWS common errors: `ExpiredTokenException`, 403, "The security token included in the
 * request is expired"; the query APIs, Route 53 and Auto Scaling among them, say `ExpiredToken`; `TokenRefreshRequired`
 * asks for a refresh). The credential chain (a task role, an assumed role) hands out a new one when asked again: the
 * client asks it (see credentials.ts) and the call is retried.
 */
export const EXPIRED_CREDENTIALS = new Set(["ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"]);

/** Invalid requests, quotas and permissions: a sentence for what to fix, where one helps. */
const INVALID: ReadonlyMap<string, string | undefined> = new Map([
  ["InvalidInput", undefined],
  ["InvalidInputException", undefined],
  ["InvalidParameterException", undefined],
  ["InvalidParameterValue", undefined],
  ["InvalidParameterCombination", undefined],
  ["InvalidChangeBatch", undefined],
  ["ValidationError", undefined],
  ["ValidationException", undefined],
  ["ClientException", undefined],
  ["TooManyTagsException", undefined],
  [
    "ResourceLimitExceeded",
    "an account quota is reached; raise it in Service Quotas or remove unused resources",
  ],
  [
    "LimitExceededException",
    "an account quota is reached; raise it in Service Quotas or remove unused resources",
  ],
  ["LimitExceeded", "an account quota is reached; raise it in Service Quotas or remove unused resources"],
  [
    "AccessDenied",
    "the operator's role lacks this permission; `ecs-log-operator iam-policy DIR` prints what it needs",
  ],
  [
    "AccessDeniedException",
    "the operator's role lacks this permission; `ecs-log-operator iam-policy DIR` prints what it needs",
  ],
  [
    "UnauthorizedOperation",
    "the operator's role lacks this permission; `ecs-log-operator iam-policy DIR` prints what it needs",
  ],
  [
    "UnrecognizedClientException",
    "AWS does not know these credentials' access key: check the credentials given",
  ],
  ["InvalidClientTokenId", "AWS does not know these credentials' access key: check the credentials given"],
  ["SignatureDoesNotMatch", "the secret key does not match the access key: check the credentials given"],
  ["IncompleteSignature", "the request was not signed: check the credentials given"],
  ["AuthFailure", "AWS did not accept these credentials: check the credentials given"],
  ["OptInRequired", "the account is not subscribed to this service in this region"],
  ["NoSuchBucket", "the bucket does not exist: create it, or fix the ARN in the spec"],
  ["QueueDoesNotExist", "the SQS queue does not exist: check --events-queue-url"],
  ["AWS.SimpleQueueService.NonExistentQueue", "the SQS queue does not exist: check --events-queue-url"],
]);

/**
 * Network failures before any answer: the SDK (@smithy/node-http-handler) keeps Node's error code. Retried, like
 * a 5xx: the endpoint was reached before, or will be.
 */
const NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_HTTP2_STREAM_ERROR",
]);

/**
 * Transient answers: 5xx, and the AWS common errors `InternalFailure` (500), `ServiceUnavailable` (503),
 * `RequestTimeoutException` (408); ECS `ServerException`; `RequestExpired` (a clock skew the SDK corrects on the
 * retry).
 */
const TRANSIENT = new Set([
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ServerException",
  "RequestTimeout",
  "RequestTimeoutException",
  "RequestExpired",
]);

interface SdkLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const GENERIC_NAMES = new Set(["Error", "TypeError", "RangeError", "SyntaxError"]);

export function classifyAwsError(service: string, operation: string, error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkLikeError;
  const errno = typeof e.code === "string" ? e.code : undefined;
  const code =
    e.name !== undefined && !GENERIC_NAMES.has(e.name) ? e.name : (e.Code ?? errno ?? "UnknownError");
  const status = e.$metadata?.httpStatusCode;
  const message = e.message ?? String(error);
  const { cls, hint } = classOf(code, errno, status, message);
  return new AwsError(cls, service, operation, code, hint !== undefined ? `${message}: ${hint}` : message, {
    cause: error,
  });
}

function classOf(
  code: string,
  errno: string | undefined,
  status: number | undefined,
  message: string,
): { cls: AwsErrorClass; hint?: string | undefined } {
  if (code === "AbortError")
    return { cls: "timeout", hint: "aborted by the reconcile's deadline or shutdown" };
  // @smithy/node-http-handler names its connection and request timeouts TimeoutError (code ETIMEDOUT).
  if (code === "TimeoutError") {
    return {
      cls: "timeout",
      hint: "no answer in time (--aws-connect-timeout, --aws-request-timeout): the endpoint may be hung",
    };
  }
  if (THROTTLING.has(code) || status === 429) return { cls: "throttled" };
  if (EXPIRED_CREDENTIALS.has(code)) {
    return {
      cls: "transient",
      hint: "the session token expired; the credential chain is asked for a new one",
    };
  }
  if (code === "InvalidChangeBatch" && STALE_CHANGE_BATCH.some((re) => re.test(message))) {
    return { cls: "conflict", hint: "the records changed since they were read; they are read again" };
  }
  if (CONFLICT.has(code) || status === 409) return { cls: "conflict" };
  if (NOT_FOUND.has(code) || status === 404) return { cls: "not-found" };
  if (INVALID.has(code)) return { cls: "invalid", hint: INVALID.get(code) };
  if (TRANSIENT.has(code) || (status !== undefined && status >= 500)) return { cls: "transient" };
  if (status !== undefined) return { cls: status >= 400 ? "invalid" : "terminal" };
  // No HTTP answer at all: a network failure is retried; anything else is the configuration, said in a sentence.
  if ((errno !== undefined && NETWORK.has(errno)) || /socket hang up|socket disconnected/i.test(message)) {
    return { cls: "transient" };
  }
  return { cls: "terminal", hint: configurationHint(code, errno, message) };
}

function configurationHint(code: string, errno: string | undefined, message: string): string {
  if (code === "CredentialsProviderError" || /credential/i.test(message)) {
    return (
      "no AWS credentials: the SDK found none in the environment, a profile or a task role " +
      "(against a local emulator, any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY will do)"
    );
  }
  if (/region is missing/i.test(message)) return "no AWS region: set AWS_REGION or pass --region";
  if (errno === "ENOTFOUND") {
    return "the endpoint's host name does not resolve: check --endpoint-url, AWS_ENDPOINT_URL and --region";
  }
  if (errno === "ERR_INVALID_URL" || /invalid url/i.test(message)) {
    return "the endpoint is not a URL: check --endpoint-url and AWS_ENDPOINT_URL";
  }
  if (/certificate|self.signed|TLS|SSL/i.test(message) || (errno?.startsWith("CERT_") ?? false)) {
    return "the TLS connection failed: check the endpoint and any proxy between";
  }
  return (
    "AWS gave no HTTP answer and no network error was seen: check the endpoint (--endpoint-url, " +
    "AWS_ENDPOINT_URL), the region and any proxy between"
  );
}

/** Runs an SDK call and rethrows its failure classified; "not found" becomes `undefined` where asked. */
export async function awsCall<T>(service: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyAwsError(service, operation, error);
  }
}

export async function awsCallOrUndefined<T>(
  service: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const classified = classifyAwsError(service, operation, error);
    if (classified.errorClass === "not-found") return undefined;
    throw classified;
  }
}
