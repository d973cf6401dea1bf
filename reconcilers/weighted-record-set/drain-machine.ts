import { assign, fromPromise, setup } from "xstate";

/**
 * One leaving instance held by an EC2_INSTANCE_TERMINATING lifecycle hook: remove its record, wait until no resolver
 * can still hold the answer (TTL + the spec's extra seconds), then let Auto Scaling go on (CONTINUE).
 *
 * The machine holds no state that AWS does not: it starts from what a pass observes (the instance is in
 * `Terminating:Wait`; its record is or is not still there), so an operator restarted mid-drain picks it up again.
 * When the record is already gone nobody knows since when, so the full wait starts over: the safe side.
 */
export interface DrainInput {
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly waitSeconds: number;
  /** Whether the instance's record still exists, as observed. */
  readonly recordPresent: boolean;
}

export interface DrainContext extends DrainInput {
  readonly error: unknown;
  /** False when the lifecycle action was already gone (completed elsewhere, or timed out). */
  readonly completed: boolean;
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
  },
  delays: {
    drainWait: ({ context }) => context.waitSeconds * 1000,
  },
  guards: {
    recordPresent: ({ context }) => context.recordPresent,
  },
}).createMachine({
  id: "drain",
  context: ({ input }) => ({ ...input, error: undefined, completed: false }),
  initial: "recovering",
  states: {
    recovering: {
      always: [{ guard: "recordPresent", target: "removingRecord" }, { target: "waiting" }],
    },
    removingRecord: {
      invoke: {
        src: "removeRecord",
        input: ({ context }) => context,
        onDone: "waiting",
        onError: { target: "failed", actions: assign({ error: ({ event }) => event.error }) },
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
