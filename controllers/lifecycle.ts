import { assign, fromPromise, setup } from "xstate";

/** The controller's phases, as `/readyz` and the logs name them. */
export type LifecyclePhase = "starting" | "syncing" | "ready" | "shuttingDown" | "stopped" | "failed";

export interface LifecycleContext {
  readonly error: string | undefined;
}

export type LifecycleEvent = { readonly type: "STOP" };

const notProvided = fromPromise<void>(async () => {
  throw new Error("lifecycle effect not provided");
});

/**
 * starting (read the specs, start the informers) -> syncing (every key reconciled once) -> ready; STOP from any of
 * them -> shuttingDown (stop taking work, let the writes in flight finish) -> stopped. The effects are provided by
 * `lifecycleEffects` (`lifecycle-effects.ts`); tests swap them with `.provide({ actors })`.
 */
export const controllerLifecycle = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
  },
  actors: {
    loadSpecs: notProvided,
    initialSync: notProvided,
    shutDown: notProvided,
  },
}).createMachine({
  id: "controller",
  initial: "starting",
  context: { error: undefined },
  states: {
    starting: {
      invoke: {
        src: "loadSpecs",
        onDone: "syncing",
        onError: { target: "failed", actions: assign({ error: ({ event }) => errorText(event.error) }) },
      },
      on: { STOP: "shuttingDown" },
    },
    syncing: {
      invoke: {
        src: "initialSync",
        onDone: "ready",
        onError: { target: "failed", actions: assign({ error: ({ event }) => errorText(event.error) }) },
      },
      on: { STOP: "shuttingDown" },
    },
    ready: {
      on: { STOP: "shuttingDown" },
    },
    shuttingDown: {
      invoke: {
        src: "shutDown",
        onDone: "stopped",
        onError: { target: "stopped", actions: assign({ error: ({ event }) => errorText(event.error) }) },
      },
    },
    stopped: { type: "final" },
    failed: { type: "final" },
  },
});

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
