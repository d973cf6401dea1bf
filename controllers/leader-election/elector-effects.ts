import { fromPromise } from "xstate";
import type { Clock } from "../clock.ts";
import type { LeaderElectionConfig } from "./config.ts";
import type { AcquireInput, Held, ReadOutput } from "./elector-machine.ts";
import type { LeaseFields, LeaseLock } from "./lease-lock.ts";

export interface ElectorEffectDeps {
  readonly lock: LeaseLock;
  readonly config: LeaderElectionConfig;
  /** Monotonic: when writes are sent and reads complete. */
  readonly clock: Clock;
  /** Wall clock, only for the record's informational timestamps. */
  readonly wallNow: () => number;
}

/**
 * The elector machine's lock calls. Each reads the monotonic clock right before it sends a write (`sentAt`: the lease
 * counts from then) and right after a read completes. xstate's `signal` goes to the lock call, so a call whose state
 * was left (its time box ran out) is aborted.
 */
export function electorEffects(deps: ElectorEffectDeps) {
  const { lock, config, clock } = deps;
  const fields = (epoch: number, acquiredAt: number, released = false): LeaseFields => ({
    holder: config.identity,
    epoch,
    leaseDurationMs: config.leaseDurationMs,
    acquiredAt,
    renewedAt: deps.wallNow(),
    released,
  });
  return {
    read: fromPromise<ReadOutput>(async ({ signal }) => {
      const record = await lock.get(signal);
      return { record, readAt: clock.now() };
    }),
    acquire: fromPromise<Held, AcquireInput>(async ({ input, signal }) => {
      const wanted = fields(input.epoch, deps.wallNow());
      const sentAt = clock.now();
      const record =
        input.observed === undefined
          ? await lock.create(wanted, signal)
          : await lock.update(input.observed.version, wanted, signal);
      return { record, sentAt };
    }),
    renew: fromPromise<Held, Held>(async ({ input, signal }) => {
      const wanted = fields(input.record.epoch, input.record.acquiredAt);
      const sentAt = clock.now();
      const record = await lock.update(input.record.version, wanted, signal);
      return { record, sentAt };
    }),
    raiseEpoch: fromPromise<void, { held: Held; epoch: number }>(async ({ input, signal }) => {
      const { record } = input.held;
      if (input.epoch <= record.epoch) return;
      await lock.update(record.version, fields(input.epoch, record.acquiredAt), signal);
    }),
    release: fromPromise<void, Held>(async ({ input, signal }) => {
      await lock.update(
        input.record.version,
        fields(input.record.epoch, input.record.acquiredAt, true),
        signal,
      );
    }),
  };
}
