import { createActor, toPromise, type AnyActorRef } from "xstate";
import type { TimerClock } from "../../controllers/clock.ts";
import type { Logger } from "../../controllers/logger.ts";
import type { Change } from "../../controllers/reconciler.ts";
import type { AutoScalingApi } from "./auto-scaling-api.ts";
import { drainEffects } from "./drain-effects.ts";
import { drainMachine, type DrainOutput } from "./drain-machine.ts";

export interface DrainHook {
  readonly groupName: string;
  readonly hookName: string;
  readonly waitSeconds: number;
  /**
   * Resolves once no record of the instance is left, read back from Route 53; rejects if one is. The reconciler
   * writes the deletion with the rest of the pass before the drains run.
   */
  readonly recordRemoved: (instanceId: string, signal: AbortSignal) => Promise<void>;
  /** True once every Route 53 change is INSYNC (GetChange). Without it, the hold starts when Route 53 accepted it. */
  readonly changesInSync?:
    ((changeIds: readonly string[], signal: AbortSignal) => Promise<boolean>) | undefined;
  /** How long the removal may stay PENDING; default 5 min. */
  readonly syncTimeoutMs?: number | undefined;
  /** Where "draining" and "drained" are told, with the resource that drains. */
  readonly logger?: Logger | undefined;
}

export interface DrainPlan {
  readonly changes: readonly Change[];
  /** `group/instance` of every drain `run` starts. */
  readonly instances: readonly string[];
  /**
   * Starts a drain machine for each newly leaving instance, after the pass's record deletions are written; `changeIds`
   * are the Route 53 changes that wrote them, followed until INSYNC before the hold starts.
   */
  run(signal: AbortSignal, changeIds?: readonly string[]): Promise<void>;
}

/**
 * Runs one drain machine per instance a lifecycle hook holds, at most one per instance per process: a pass that sees
 * an instance already draining leaves it to the running machine.
 */
export class DrainCoordinator {
  private readonly autoScaling: AutoScalingApi;
  private readonly clock: TimerClock | undefined;
  private readonly active = new Map<string, AnyActorRef>();

  constructor(deps: { autoScaling: AutoScalingApi; clock?: TimerClock | undefined }) {
    this.autoScaling = deps.autoScaling;
    this.clock = deps.clock;
  }

  /** Drains running now. */
  activeDrains(): number {
    return this.active.size;
  }

  /** Instances in `Terminating:Wait`; `recordSetIds`: the set identifiers whose records exist now. */
  plan(hook: DrainHook, leaving: readonly string[], recordSetIds: ReadonlySet<string>): DrainPlan {
    const fresh = leaving.filter((id) => !this.active.has(`${hook.groupName}/${id}`)).sort();
    const changes: Change[] = fresh.map((id) => ({
      action: "update",
      target: `lifecycle action ${hook.groupName}/${id} (${hook.hookName})`,
      detail: recordSetIds.has(id)
        ? `CONTINUE ${hook.waitSeconds}s after its record is removed`
        : `CONTINUE in ${hook.waitSeconds}s (record already gone)`,
      write: "autoscaling:CompleteLifecycleAction",
    }));
    return {
      changes,
      instances: fresh.map((id) => `${hook.groupName}/${id}`),
      run: async (signal, changeIds = []) => {
        const outputs = await Promise.all(
          fresh.map((instanceId) =>
            this.start(hook, instanceId, recordSetIds.has(instanceId), signal, changeIds),
          ),
        );
        const failed = outputs.filter((o) => o.outcome === "failed");
        if (failed.length > 0) {
          const first = failed[0]!.error;
          throw new Error(
            `drain of ${failed.map((o) => o.instanceId).join(", ")} failed: ${first instanceof Error ? first.message : String(first)}`,
            { cause: first },
          );
        }
      },
    };
  }

  private async start(
    hook: DrainHook,
    instanceId: string,
    recordPresent: boolean,
    signal: AbortSignal,
    changeIds: readonly string[],
  ): Promise<DrainOutput> {
    signal.throwIfAborted();
    const key = `${hook.groupName}/${instanceId}`;
    const machine = drainMachine.provide({
      actors: drainEffects({
        autoScaling: this.autoScaling,
        recordRemoved: (input, s) => hook.recordRemoved(input.instanceId, s),
        changesInSync: (ids, s) => hook.changesInSync?.(ids, s) ?? Promise.resolve(true),
      }),
    });
    const actor = createActor(machine, {
      input: {
        groupName: hook.groupName,
        hookName: hook.hookName,
        waitSeconds: hook.waitSeconds,
        instanceId,
        recordPresent,
        changeIds: hook.changesInSync !== undefined ? changeIds : [],
        syncTimeoutMs: hook.syncTimeoutMs,
      },
      ...(this.clock !== undefined ? { clock: this.clock as never } : {}),
    });
    this.active.set(key, actor);
    // One listener on the caller's signal, removed in `finally`: under `run` it is the process's shutdown signal.
    let rejectAborted: (reason: unknown) => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => (rejectAborted = reject));
    const stop = (): void => {
      rejectAborted(signal.reason);
      actor.stop();
    };
    signal.addEventListener("abort", stop, { once: true });
    try {
      actor.start();
      hook.logger?.info("draining", { instance: key, waitSeconds: hook.waitSeconds });
      const done = toPromise(actor);
      const output = await Promise.race([done, aborted]);
      hook.logger?.info("drained", { instance: key, outcome: output.outcome });
      return output;
    } finally {
      signal.removeEventListener("abort", stop);
      this.active.delete(key);
    }
  }
}
