import { fromPromise } from "xstate";
import type { Clock } from "../../controllers/clock.ts";
import type { CloudMapApi, OperationStatus } from "./cloud-map-api.ts";
import { operationMachine, type OperationMachine, type TimerClock } from "./operation-machine.ts";

/** The operation machine wired to Cloud Map: GetOperation, with the machine's abort signal passed to the SDK. */
export function cloudMapOperationMachine(api: CloudMapApi): OperationMachine {
  return operationMachine.provide({
    actors: {
      getOperation: fromPromise<OperationStatus | undefined, { operationId: string }>(({ input, signal }) =>
        api.getOperation(input.operationId, signal),
      ),
    },
  });
}

/** xstate's timers driven by our injected `Clock`, so one time source (and `ManualClock` in tests) rules both. */
export function timerClockOf(clock: Clock): TimerClock {
  const timers = new Map<number, AbortController>();
  let next = 0;
  return {
    setTimeout(fn, timeout) {
      const id = ++next;
      const ac = new AbortController();
      timers.set(id, ac);
      clock.sleep(timeout, ac.signal).then(
        () => {
          timers.delete(id);
          fn();
        },
        () => undefined,
      );
      return id;
    },
    clearTimeout(id) {
      const ac = timers.get(id as number);
      timers.delete(id as number);
      ac?.abort();
    },
  };
}
