import { Backoff } from "../backoff.ts";
import { EXPIRED_CREDENTIALS } from "./errors.ts";

/** The SDK's retry token and error description, as @smithy/types declares them (RetryStrategyV2). */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}
interface RetryErrorInfo {
  readonly error?: { name?: string; code?: string } | undefined;
  readonly errorType: "TRANSIENT" | "THROTTLING" | "SERVER_ERROR" | "CLIENT_ERROR";
}

export interface OperatorRetryStrategyOptions {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  /** Delays between attempts; default at most 100 ms, doubling to 5 s. */
  readonly backoff?: Backoff;
  /** Called on expired credentials, before the one retry they get: asks the credential chain for new ones. */
  readonly refreshCredentials?: () => void;
}

/**
 * How the SDK retries inside one call (a RetryStrategyV2, given to every client as `retryStrategy`):
 * - transient failures (5xx, reset connections; the SDK's own classification) are retried up to `maxAttempts`, with
 *   the operator's backoff;
 * - throttling is not retried here: the call fails at once and the key goes back to the work queue's backoff, so an
 *   account out of request quota sees the operator slow down instead of each call trying six times;
 * - a timeout is not retried here either: against a hung endpoint each attempt would cost a whole request timeout;
 * - expired credentials are retried once, after the credential chain is asked for new ones (the next attempt is
 *   signed again, with them);
 * - everything else (4xx) is the caller's to classify.
 */
export class OperatorRetryStrategy {
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly refreshCredentials: (() => void) | undefined;

  constructor(options: OperatorRetryStrategyOptions) {
    this.maxAttempts = Math.max(1, options.maxAttempts);
    this.backoff = options.backoff ?? new Backoff({ baseMs: 100, maxMs: 5_000 });
    this.refreshCredentials = options.refreshCredentials;
  }

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0, false);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retries = previous.getRetryCount();
    const name = info.error?.name ?? "";
    if (retries + 1 >= this.maxAttempts) throw new Error("no attempts left");
    if (EXPIRED_CREDENTIALS.has(name)) {
      if ((previous as OperatorToken).credentialsRefreshed) throw new Error("credentials refreshed already");
      this.refreshCredentials?.();
      return token(retries + 1, 0, true);
    }
    if (info.errorType !== "TRANSIENT" || name === "TimeoutError" || name === "AbortError") {
      throw new Error(`${info.errorType} is not retried inside the call`);
    }
    return token(
      retries + 1,
      this.backoff.delayMs(retries),
      (previous as OperatorToken).credentialsRefreshed,
    );
  }

  recordSuccess(_token: RetryToken): void {}
}

interface OperatorToken extends RetryToken {
  readonly credentialsRefreshed: boolean;
}

function token(retries: number, delayMs: number, credentialsRefreshed: boolean): OperatorToken {
  return { getRetryCount: () => retries, getRetryDelay: () => delayMs, credentialsRefreshed };
}
