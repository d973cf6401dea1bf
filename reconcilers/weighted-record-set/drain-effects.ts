import { fromPromise } from "xstate";
import type { AutoScalingApi } from "./auto-scaling-api.ts";
import type { DrainInput } from "./drain-machine.ts";

/**
 * The drain machine's effects against AWS. `recordRemoved` resolves once the change batch deleting the instance's
 * record is accepted (the reconciler writes it with the rest of the pass).
 */
export function drainEffects(deps: {
  readonly autoScaling: AutoScalingApi;
  readonly recordRemoved: (input: DrainInput, signal: AbortSignal) => Promise<void>;
  /** True once every change is INSYNC (GetChange); a change Route 53 no longer knows is long in sync. */
  readonly changesInSync: (changeIds: readonly string[], signal: AbortSignal) => Promise<boolean>;
}) {
  return {
    removeRecord: fromPromise<void, DrainInput>(({ input, signal }) => deps.recordRemoved(input, signal)),
    changesInSync: fromPromise<boolean, DrainInput>(({ input, signal }) =>
      deps.changesInSync(input.changeIds ?? [], signal),
    ),
    completeLifecycleAction: fromPromise<boolean, DrainInput>(({ input, signal }) =>
      deps.autoScaling.completeLifecycleAction(
        { groupName: input.groupName, hookName: input.hookName, instanceId: input.instanceId },
        signal,
      ),
    ),
  };
}
