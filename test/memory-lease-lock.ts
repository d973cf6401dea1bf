import {
  LeaseConflictError,
  type LeaseFields,
  type LeaseLock,
  type LeaseRecord,
} from "../controllers/leader-election/lease-lock.ts";

export type LeaseOperation = "get" | "create" | "update";

/**
 * Hooks around one client's calls, to simulate the network and the process: `beforeSend` runs before the call
 * leaves (a paused process sends nothing), `beforeApply` while it is on the wire, `beforeAnswer` after the store has
 * applied it and before the caller sees the answer (a slow network, or a process paused with the answer in flight).
 */
export interface LeaseClientHooks {
  beforeSend?(op: LeaseOperation): Promise<void>;
  /** Between sending and the store applying it: a request on the wire, which aborting no longer recalls. */
  beforeApply?(op: LeaseOperation): Promise<void>;
  beforeAnswer?(op: LeaseOperation): Promise<void>;
}

/**
 * A lease store in memory with the same compare-and-swap semantics as the DynamoDB one (a write conditional on the
 * version, a create conditional on absence), for one process or for tests of several electors sharing one store.
 * Each `client` is one replica's view of the store.
 */
export class MemoryLeaseLock {
  private current: LeaseRecord | undefined;
  private versions = 0;
  /** Every successful write, in order: tests read the epochs and holders from it. */
  readonly history: LeaseRecord[] = [];

  get record(): LeaseRecord | undefined {
    return this.current;
  }

  client(hooks: LeaseClientHooks = {}, description = "memory lease"): LeaseLock {
    const call = async <T>(
      op: LeaseOperation,
      signal: AbortSignal | undefined,
      apply: () => T,
    ): Promise<T> => {
      await hooks.beforeSend?.(op);
      signal?.throwIfAborted();
      await hooks.beforeApply?.(op);
      const result = apply();
      await hooks.beforeAnswer?.(op);
      signal?.throwIfAborted();
      return result;
    };
    return {
      description,
      get: (signal) => call("get", signal, () => this.current),
      create: (fields, signal) =>
        call("create", signal, () => {
          if (this.current !== undefined) throw new LeaseConflictError("the lease record exists");
          return this.write(fields);
        }),
      update: (expected, fields, signal) =>
        call("update", signal, () => {
          if (this.current?.version !== expected)
            throw new LeaseConflictError(`the lease record is not at version ${expected}`);
          return this.write(fields);
        }),
    };
  }

  private write(fields: LeaseFields): LeaseRecord {
    const record = { ...fields, version: `v${++this.versions}` };
    this.current = record;
    this.history.push(record);
    return record;
  }
}
