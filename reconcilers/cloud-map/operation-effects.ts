import { fromPromise } from "xstate";
import type { CloudMapApi, OperationStatus } from "./cloud-map-api.ts";
import { operationMachine, type OperationMachine } from "./operation-machine.ts";

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
