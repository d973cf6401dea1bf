import { fromPromise } from "xstate";

/** What the lifecycle's phases do; the controller implements it. */
export interface LifecycleSteps {
  /** Reads the specs, starts the HTTP server, informers, events and the spec watcher. */
  loadSpecs(signal: AbortSignal): Promise<void>;
  /** Resolves once every key enqueued at start has been reconciled once, whatever the result. */
  initialSync(signal: AbortSignal): Promise<void>;
  /** Stops taking work and waits for the reconciles in flight. */
  shutDown(): Promise<void>;
}

/** The lifecycle machine's actors, bound to the controller's steps. */
export function lifecycleEffects(steps: LifecycleSteps) {
  return {
    loadSpecs: fromPromise<void>(({ signal }) => steps.loadSpecs(signal)),
    initialSync: fromPromise<void>(({ signal }) => steps.initialSync(signal)),
    shutDown: fromPromise<void>(() => steps.shutDown()),
  };
}
