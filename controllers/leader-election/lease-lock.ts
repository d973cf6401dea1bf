/**
 * The lease as a lock service holds it, after client-go's `resourcelock.Interface` (Get, Create, Update): one record
 * per resource name, written only with compare-and-swap on its version, so two writers can never both succeed from
 * the same observed state. Implemented by `DynamoDbLeaseLock` (conditional writes) and `MemoryLeaseLock` (tests).
 */
export interface LeaseLock {
  /** Names the lock for logs and errors, e.g. `DynamoDB table ecs-log-operator-leases, item default`. */
  readonly description: string;
  /** The record as it is now (a strongly consistent read); undefined when none was ever written. */
  get(signal?: AbortSignal): Promise<LeaseRecord | undefined>;
  /** Writes the first record; `LeaseConflictError` when one exists. Returns it with its new version. */
  create(fields: LeaseFields, signal?: AbortSignal): Promise<LeaseRecord>;
  /**
   * Replaces the record if its version is still `expectedVersion`; `LeaseConflictError` when it is not (someone else
   * wrote since). Returns it with its new version.
   */
  update(expectedVersion: string, fields: LeaseFields, signal?: AbortSignal): Promise<LeaseRecord>;
}

/** What a holder writes. Wall-clock times are for people (`/status`); expiry is never judged by them. */
export interface LeaseFields {
  /** The replica holding (or that last held) the lease. */
  readonly holder: string;
  /** The fencing token: strictly greater on every acquisition, unchanged by renewals. */
  readonly epoch: number;
  /** How long followers must see the record unchanged before they may take it: the holder's promise. */
  readonly leaseDurationMs: number;
  /** Epoch milliseconds on the holder's wall clock, informational. */
  readonly acquiredAt: number;
  readonly renewedAt: number;
  /** Set by a holder that gave the lease up after its writes had finished: a follower may take it at once. */
  readonly released: boolean;
}

export interface LeaseRecord extends LeaseFields {
  /** Changes on every write (a random id): what followers watch and what every write is conditional on. */
  readonly version: string;
}

/** The record changed (or appeared) since it was read: another replica wrote first. */
export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
}
