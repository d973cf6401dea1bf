import { assign, fromPromise, setup } from "xstate";
import { AwsError } from "../../controllers/aws/errors.ts";
import { Backoff } from "../../controllers/backoff.ts";

/**
 * One leaving instance held by an EC2_INSTANCE_TERMINATING lifecycle hook: remove its record, wait until the removal
 * is on every Route 53 name server (GetChange says INSYNC; Route 53 accepts a change as PENDING first, and a resolver
 * asking a name server that has not got it yet would still be given the address), then until no resolver can still
 * hold the answer (TTL + the spec's extra seconds), then let Auto Scaling go on (CONTINUE).
 *
 * The machine holds no state that AWS does not: it starts from what a pass observes (the instance is in
 * `Terminating:Wait`; its record is or is not still there), so an operator restarted mid-drain picks it up again.
 * When the record is already gone nobody knows since when (nor by which change), so the full TTL + seconds wait
 * starts over: the safe side.
 */
export interface DrainInput {
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly waitSeconds: number;
  /** Whether the instance's record still exists, as observed. */
  readonly recordPresent: boolean;
  /** The Route 53 changes that removed the record, to follow until INSYNC. */
  readonly changeIds?: readonly string[] | undefined;
  /** How long the changes may stay PENDING before the drain fails (and is retried). Default 5 min. */
  readonly syncTimeoutMs?: number | undefined;
}

/** Route 53 propagates a change "generally within 60 seconds"; five minutes of PENDING is a fault, not a delay. */
export const DEFAULT_SYNC_TIMEOUT_MS = 5 * 60_000;

/** GetChange polls: at most 1 s, doubling to 10 s (the operator's one backoff policy). */
export const SYNC_POLL_BACKOFF = new Backoff({ baseMs: 1_000, maxMs: 10_000 });

export interface DrainContext extends DrainInput {
  readonly error: unknown;
  /** False when the lifecycle action was already gone (completed elsewhere, or timed out). */
  readonly completed: boolean;
  /** GetChange polls so far. */
  readonly syncPolls: number;
}

export interface DrainOutput {
  readonly instanceId: string;
  readonly outcome: "continued" | "already-gone" | "failed";
  readonly error?: unknown;
}

export const drainMachine = setup({
  types: {
    input: {} as DrainInput,
    context: {} as DrainContext,
    output: {} as DrainOutput,
  },
  actors: {
    // Effects are provided by `drainEffects` (drain-effects.ts) or by a test with `.provide({ actors })`.
    removeRecord: fromPromise<void, DrainInput>(async () => {
      throw new Error("removeRecord is not provided");
    }),
    completeLifecycleAction: fromPromise<boolean, DrainInput>(async () => {
      throw new Error("completeLifecycleAction is not provided");
    }),
    /** True once every change of `changeIds` is INSYNC. */
    changesInSync: fromPromise<boolean, DrainInput>(async () => {
      throw new Error("changesInSync is not provided");
    }),
  },
  delays: {
    drainWait: ({ context }) => context.waitSeconds * 1000,
    syncPoll: ({ context }) => SYNC_POLL_BACKOFF.delayMs(context.syncPolls - 1),
    syncTimeout: ({ context }) => context.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS,
  },
  guards: {
    recordPresent: ({ context }) => context.recordPresent,
    hasChanges: ({ context }) => (context.changeIds?.length ?? 0) > 0,
    retryable: (_, error: unknown) => error instanceof AwsError && error.retryable,
  },
}).createMachine({
  id: "drain",
  context: ({ input }) => ({ ...input, error: undefined, completed: false, syncPolls: 0 }),
  initial: "recovering",
  states: {
    recovering: {
      always: [{ guard: "recordPresent", target: "removingRecord" }, { target: "waiting" }],
    },
    removingRecord: {
      invoke: {
        src: "removeRecord",
        input: ({ context }) => context,
        onDone: [{ guard: "hasChanges", target: "syncing" }, { target: "waiting" }],
        onError: { target: "failed", actions: assign({ error: ({ event }) => event.error }) },
      },
    },
    // The TTL + seconds hold starts once the removal is on every name server, not when Route 53 accepted it.
    syncing: {
      initial: "checking",
      after: {
        syncTimeout: {
          target: "failed",
          actions: assign({
            error: ({ context }) =>
              new Error(
                `Route 53 change ${(context.changeIds ?? []).join(", ")} was not INSYNC within ` +
                  `${Math.round((context.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS) / 1000)} s`,
              ),
          }),
        },
      },
      states: {
        checking: {
          entry: assign({ syncPolls: ({ context }) => context.syncPolls + 1 }),
          invoke: {
            src: "changesInSync",
            input: ({ context }) => context,
            onDone: [{ guard: ({ event }) => event.output, target: "#drain.waiting" }, { target: "pausing" }],
            onError: [
              {
                guard: {
                  type: "retryable",
                  params: ({ event }: { event: { error: unknown } }) => event.error,
                },
                target: "pausing",
              },
              { target: "#drain.failed", actions: assign({ error: ({ event }) => event.error }) },
            ],
          },
        },
        pausing: {
          after: { syncPoll: "checking" },
        },
      },
    },
    waiting: {
      after: { drainWait: "completing" },
    },
    completing: {
      invoke: {
        src: "completeLifecycleAction",
        input: ({ context }) => context,
        onDone: { target: "done", actions: assign({ completed: ({ event }) => event.output }) },
        onError: { target: "failed", actions: assign({ error: ({ event }) => event.error }) },
      },
    },
    done: { type: "final" },
    failed: { type: "final" },
  },
  output: ({ context, self }) => {
    const failed = self.getSnapshot().value === "failed" || context.error !== undefined;
    return failed
      ? { instanceId: context.instanceId, outcome: "failed", error: context.error }
      : { instanceId: context.instanceId, outcome: context.completed ? "continued" : "already-gone" };
  },
});
