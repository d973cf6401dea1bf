import { assign, emit, fromPromise, setup } from "xstate";
import type { LeaderElectionConfig } from "./config.ts";
import { decide, nextEpoch, observe, type Observation } from "./follower.ts";
import { LeaseConflictError, type LeaseRecord } from "./lease-lock.ts";
import type { TermEndReason } from "./term.ts";

/** The lease as this replica last wrote it, and when (monotonic) that write was sent. */
export interface Held {
  readonly record: LeaseRecord;
  readonly sentAt: number;
}

export interface ReadOutput {
  readonly record: LeaseRecord | undefined;
  /** Monotonic time at which the read completed. */
  readonly readAt: number;
}

export interface AcquireInput {
  /** The record the write is conditional on; undefined: there is none, create it. */
  readonly observed: LeaseRecord | undefined;
  readonly epoch: number;
}

export interface ElectorInput {
  readonly config: LeaderElectionConfig;
  /** Monotonic milliseconds, the same clock the actor's timers run on. */
  readonly now: () => number;
  /** Whether this replica may take the lease now (`LeaderElectorOptions.eligible`). */
  readonly eligible: () => boolean;
}

export interface ElectorContext extends ElectorInput {
  readonly observation: Observation | undefined;
  readonly held: Held | undefined;
  /** Acquisitions take an epoch above this one, the highest seen on a fence. */
  readonly epochFloor: number;
  /** STOP came while a renewal was in flight: release once its answer is in (with its version), or stop. */
  readonly stopRequested: boolean;
}

export type ElectorEvent =
  /** Give up: the caller's writes have finished. A leader releases the lease, then the machine stops. */
  | { readonly type: "STOP" }
  /** The term saw its renew deadline pass on the clock before the deadline's timer ran (a paused process). */
  | { readonly type: "TERM_EXPIRED" }
  /** AWS refused a write of this term: a leader of `epoch` has written. */
  | { readonly type: "FENCED_OUT"; readonly epoch: number; readonly detail: string };

export type ElectorEmitted =
  | { readonly type: "observed"; readonly record: LeaseRecord | undefined }
  | { readonly type: "acquired"; readonly held: Held }
  | { readonly type: "renewed"; readonly held: Held }
  | { readonly type: "termEnded"; readonly reason: TermEndReason; readonly detail?: string }
  | { readonly type: "released"; readonly ok: boolean; readonly error?: unknown }
  | { readonly type: "failed"; readonly operation: "read" | "acquire" | "renew"; readonly error: unknown };

function notProvided(name: string): never {
  throw new Error(`leader election effect ${name} is not provided`);
}

/**
 * following (read the lease every retry period; take it when it is absent, released, or unchanged for a lease
 * duration) -> leading (renew every retry period; the term ends when no renewal has succeeded by the renew deadline,
 * when a renewal finds the record rewritten, or when AWS refuses a write as stale) -> following again; STOP ->
 * releasing (a leader gives the lease up, only once the caller's writes have finished) -> stopped.
 *
 * The renew deadline counts from when the last successful write was *sent*: a follower can only have seen that write
 * after it was sent, so it cannot take over before sentAt + lease duration, and the leader has stopped writing at
 * sentAt + renew deadline. Every lock call is time-boxed (a follower's by the renew deadline, a renewal by the time left
 * before the deadline); an answer arriving after its state was left is dropped with the state's actor.
 *
 * Effects (the lock calls) are provided by `electorEffects` (elector-effects.ts); tests swap them with `.provide`.
 */
export const electorMachine = setup({
  types: {
    input: {} as ElectorInput,
    context: {} as ElectorContext,
    events: {} as ElectorEvent,
    emitted: {} as ElectorEmitted,
  },
  actors: {
    read: fromPromise<ReadOutput>(async () => notProvided("read")),
    acquire: fromPromise<Held, AcquireInput>(async () => notProvided("acquire")),
    renew: fromPromise<Held, Held>(async () => notProvided("renew")),
    release: fromPromise<void, Held>(async () => notProvided("release")),
    raiseEpoch: fromPromise<void, { held: Held; epoch: number }>(async () => notProvided("raiseEpoch")),
  },
  delays: {
    retryPeriod: ({ context }) => context.config.retryPeriodMs,
    callTimeout: ({ context }) => context.config.renewDeadlineMs,
    untilRenewal: ({ context }) => Math.min(context.config.retryPeriodMs, msLeft(context)),
    untilDeadline: ({ context }) => msLeft(context),
  },
  guards: {
    mayAcquire: ({ context }) =>
      context.observation !== undefined &&
      context.eligible() &&
      decide(context.observation, context.now(), context.config.leaseDurationMs).acquire,
    pastDeadline: ({ context }) => msLeft(context) <= 0,
    lostToAnother: ({ event }) => (event as { error?: unknown }).error instanceof LeaseConflictError,
    stopRequested: ({ context }) => context.stopRequested,
  },
}).createMachine({
  id: "elector",
  context: ({ input }) => ({
    ...input,
    observation: undefined,
    held: undefined,
    epochFloor: 0,
    stopRequested: false,
  }),
  initial: "following",
  states: {
    following: {
      initial: "reading",
      entry: assign({ observation: undefined, held: undefined }),
      // A term that ended while a STOP waited for its renewal: nothing to release, stop.
      always: { guard: "stopRequested", target: "stopped" },
      on: { STOP: "stopped" },
      states: {
        reading: {
          invoke: {
            src: "read",
            onDone: {
              target: "deciding",
              actions: [
                assign({
                  observation: ({ context, event }) =>
                    observe(context.observation, event.output.record, event.output.readAt),
                }),
                emit(({ event }) => ({ type: "observed" as const, record: event.output.record })),
              ],
            },
            onError: {
              target: "waiting",
              actions: emit(({ event }) => ({
                type: "failed" as const,
                operation: "read",
                error: event.error,
              })),
            },
          },
          after: { callTimeout: "waiting" },
        },
        deciding: {
          always: [{ guard: "mayAcquire", target: "acquiring" }, { target: "waiting" }],
        },
        acquiring: {
          invoke: {
            src: "acquire",
            input: ({ context }) => ({
              observed: context.observation?.record,
              epoch: nextEpoch(context.observation?.record, context.epochFloor),
            }),
            onDone: {
              target: "#elector.leading",
              actions: assign({ held: ({ event }) => event.output }),
            },
            onError: [
              // Another follower (or the holder renewing) wrote first: read again.
              { guard: "lostToAnother", target: "waiting" },
              {
                target: "waiting",
                actions: emit(({ event }) => ({
                  type: "failed" as const,
                  operation: "acquire",
                  error: event.error,
                })),
              },
            ],
          },
          after: { callTimeout: "waiting" },
        },
        waiting: {
          after: { retryPeriod: "reading" },
        },
      },
    },
    leading: {
      entry: emit(({ context }) => ({ type: "acquired" as const, held: context.held! })),
      initial: "waiting",
      on: {
        TERM_EXPIRED: {
          target: "following",
          actions: emit({ type: "termEnded" as const, reason: "renew-deadline" }),
        },
        FENCED_OUT: {
          target: "raisingEpoch",
          actions: [
            assign({ epochFloor: ({ context, event }) => Math.max(context.epochFloor, event.epoch) }),
            emit(({ event }) => ({ type: "termEnded" as const, reason: "fenced-out", detail: event.detail })),
          ],
        },
        // The caller's writes have finished: end the term, then give the lease up.
        STOP: {
          target: "releasing",
          actions: emit({ type: "termEnded" as const, reason: "released" }),
        },
      },
      states: {
        waiting: {
          after: { untilRenewal: "checking" },
        },
        checking: {
          always: [
            {
              guard: "pastDeadline",
              target: "#elector.following",
              actions: emit({ type: "termEnded" as const, reason: "renew-deadline" }),
            },
            { target: "renewing" },
          ],
        },
        renewing: {
          // A release sent now would race the renewal on the wire and fail on its version: wait for the answer.
          on: { STOP: { actions: assign({ stopRequested: true }) } },
          invoke: {
            src: "renew",
            input: ({ context }) => context.held!,
            onDone: [
              {
                guard: "stopRequested",
                target: "#elector.releasing",
                actions: [
                  assign({ held: ({ event }) => event.output }),
                  emit(({ event }) => ({ type: "renewed" as const, held: event.output })),
                  emit({ type: "termEnded" as const, reason: "released" }),
                ],
              },
              {
                target: "waiting",
                actions: [
                  assign({ held: ({ event }) => event.output }),
                  emit(({ event }) => ({ type: "renewed" as const, held: event.output })),
                ],
              },
            ],
            onError: [
              {
                guard: "lostToAnother",
                target: "#elector.following",
                actions: emit({ type: "termEnded" as const, reason: "lease-taken" }),
              },
              {
                // The renewal's outcome is unknown: try the release on the version last known.
                guard: "stopRequested",
                target: "#elector.releasing",
                actions: emit({ type: "termEnded" as const, reason: "released" }),
              },
              {
                // Throttled, 5xx, a timeout: try again until the deadline.
                target: "waiting",
                actions: emit(({ event }) => ({
                  type: "failed" as const,
                  operation: "renew",
                  error: event.error,
                })),
              },
            ],
          },
          after: {
            untilDeadline: {
              target: "#elector.following",
              actions: emit({ type: "termEnded" as const, reason: "renew-deadline" }),
            },
          },
        },
      },
    },
    // A fence showed a later epoch than the lease's (the lease table was recreated, or another replica leads): the
    // record, if still ours, gets that epoch so whoever acquires next takes one above it. Not released: the ended
    // term's writes may still be in flight, so followers still wait out the lease.
    raisingEpoch: {
      invoke: {
        src: "raiseEpoch",
        input: ({ context }) => ({ held: context.held!, epoch: context.epochFloor }),
        onDone: "following",
        onError: "following",
      },
      after: { callTimeout: "following" },
      on: { STOP: { actions: assign({ stopRequested: true }) } },
    },
    releasing: {
      invoke: {
        src: "release",
        input: ({ context }) => context.held!,
        onDone: { target: "stopped", actions: emit({ type: "released" as const, ok: true }) },
        onError: {
          target: "stopped",
          actions: emit(({ event }) => ({ type: "released" as const, ok: false, error: event.error })),
        },
      },
      after: {
        callTimeout: {
          target: "stopped",
          actions: emit({ type: "released" as const, ok: false, error: new Error("release timed out") }),
        },
      },
    },
    stopped: { type: "final" },
  },
});

function msLeft(context: ElectorContext): number {
  if (context.held === undefined) return 0;
  return Math.max(0, context.held.sentAt + context.config.renewDeadlineMs - context.now());
}
