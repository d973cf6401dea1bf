import type { LeaseRecord } from "./lease-lock.ts";

/**
 * What a follower has seen of the lease, on its own monotonic clock: the record and since when its version has been
 * unchanged. As amazon-dynamodb-lock-client does, a follower never compares the holder's timestamps with its own
 * clock: the holder's clock may be minutes off. It waits until the version it saw has stayed the same for the lease
 * duration *it* has measured.
 */
export interface Observation {
  readonly record: LeaseRecord | undefined;
  /** Monotonic time at which a read first returned this version (or this absence). */
  readonly since: number;
}

/**
 * The observation after a read that completed at `readAt`. The completion time, not the start, is used: a read
 * started before the holder's last write may be served after it, and the holder's lease counts from that write.
 */
export function observe(
  previous: Observation | undefined,
  record: LeaseRecord | undefined,
  readAt: number,
): Observation {
  const unchanged = previous !== undefined && previous.record?.version === record?.version;
  return { record, since: unchanged ? previous.since : readAt };
}

export type FollowerDecision =
  | { readonly acquire: true; readonly why: "absent" | "released" | "expired" }
  | { readonly acquire: false; readonly waitMs: number };

/**
 * Whether the follower may try to take the lease now (the write is still conditional on the version it saw). The
 * holder's own lease duration rules, since that is what the holder promised to stay within; our own is the fallback
 * for a record without one.
 */
export function decide(observation: Observation, now: number, ownLeaseDurationMs: number): FollowerDecision {
  const record = observation.record;
  if (record === undefined) return { acquire: true, why: "absent" };
  if (record.released) return { acquire: true, why: "released" };
  const duration = record.leaseDurationMs > 0 ? record.leaseDurationMs : ownLeaseDurationMs;
  const left = observation.since + duration - now;
  return left <= 0 ? { acquire: true, why: "expired" } : { acquire: false, waitMs: left };
}

/** The epoch of the next acquisition: above the record's and above any epoch seen elsewhere (a fence record). */
export function nextEpoch(record: LeaseRecord | undefined, floor: number): number {
  return Math.max(record?.epoch ?? 0, floor) + 1;
}
