/**
 * AWS errors are classified once, in the adapters, into the few classes the reconcilers and the work queue act on.
 * - throttled / transient: retry later with backoff (the SDK has already retried a few times).
 * - conflict: the object changed under us or an operation is in progress; re-read and retry.
 * - not-found: callers usually turn this into `undefined` instead.
 * - invalid / terminal: retrying the same request cannot succeed until a spec or AWS state changes.
 */
export type AwsErrorClass = "throttled" | "transient" | "conflict" | "not-found" | "invalid" | "terminal";

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
      this.errorClass === "throttled" || this.errorClass === "transient" || this.errorClass === "conflict"
    );
  }
}

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
]);

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
]);

const NOT_FOUND = new Set([
  "NoSuchHostedZone",
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
]);

const INVALID = new Set([
  "InvalidInput",
  "InvalidInputException",
  "InvalidParameterException",
  "InvalidParameterValue",
  "InvalidChangeBatch",
  "ValidationError",
  "ValidationException",
  "ClientException",
  "NamespaceAlreadyExists",
  "ServiceAlreadyExists",
  "TooManyTagsException",
  "ResourceLimitExceeded",
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ExpiredToken",
]);

interface SdkLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function classifyAwsError(service: string, operation: string, error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkLikeError;
  const code = e.name && e.name !== "Error" ? e.name : (e.Code ?? e.code ?? "UnknownError");
  const status = e.$metadata?.httpStatusCode;
  let cls: AwsErrorClass;
  if (THROTTLING.has(code) || status === 429) cls = "throttled";
  else if (CONFLICT.has(code) || status === 409) cls = "conflict";
  else if (NOT_FOUND.has(code) || status === 404) cls = "not-found";
  else if (INVALID.has(code)) cls = "invalid";
  else if (
    status === undefined ||
    status >= 500 ||
    code === "TimeoutError" ||
    code === "AbortError" ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up/.test(e.message ?? "")
  )
    cls = "transient";
  else if (status >= 400) cls = "invalid";
  else cls = "terminal";
  return new AwsError(cls, service, operation, code, e.message ?? String(error), { cause: error });
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
