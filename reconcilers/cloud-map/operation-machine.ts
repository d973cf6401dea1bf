import { assign, createActor, fromPromise, setup, toPromise } from "xstate";
import { AwsError } from "../../controllers/aws/errors.ts";
import { Backoff } from "../../controllers/backoff.ts";
import type { TimerClock } from "../../controllers/clock.ts";
import type { OperationStatus } from "./cloud-map-api.ts";

/**
 * One Cloud Map operation (create a namespace, register an instance, ...): Cloud Map accepts the request at once and
 * finishes it later, so the operation is polled with GetOperation until it succeeds, fails or takes too long.
 * The effect (`getOperation`) is provided by `operation-effects.ts`; tests swap it with `.provide({ actors })`.
 */
export interface OperationMachineInput {
  readonly operationId: string;
  /** What the operation does, for messages: `create namespace fluentd.local`. */
  readonly what: string;
  readonly timeoutMs?: number;
}

interface OperationContext {
  readonly operationId: string;
  readonly what: string;
  readonly timeoutMs: number;
  polls: number;
  outcome: OperationOutcome | undefined;
}

export type OperationOutcome =
  | { readonly kind: "succeeded"; readonly status: OperationStatus }
  | { readonly kind: "failed"; readonly message: string; readonly cause?: unknown }
  | { readonly kind: "timed-out"; readonly polls: number };

/**
 * First poll after at most 250 ms, doubling to at most 5 s: namespace operations take tens of seconds, instances a
 * few. The operator's one backoff policy, jitter included, so the polls of many registrations spread out.
 */
export const OPERATION_POLL_BACKOFF = new Backoff({ baseMs: 250, maxMs: 5_000 });

export function pollDelayMs(polls: number, backoff: Backoff = OPERATION_POLL_BACKOFF): number {
  return backoff.delayMs(polls - 1);
}

export const DEFAULT_OPERATION_TIMEOUT_MS = 5 * 60_000;

export const operationMachine = setup({
  types: {
    input: {} as OperationMachineInput,
    context: {} as OperationContext,
    output: {} as OperationOutcome,
  },
  actors: {
    getOperation: fromPromise<OperationStatus | undefined, { operationId: string }>(async () => {
      throw new Error("getOperation is provided by operation-effects.ts");
    }),
  },
  delays: {
    pollDelay: ({ context }) => pollDelayMs(context.polls),
    timeout: ({ context }) => context.timeoutMs,
  },
  guards: {
    succeeded: (_, status: OperationStatus | undefined) => status?.status === "SUCCESS",
    failed: (_, status: OperationStatus | undefined) => status === undefined || status.status === "FAIL",
    retryable: (_, error: unknown) => error instanceof AwsError && error.retryable,
  },
}).createMachine({
  id: "cloudMapOperation",
  context: ({ input }) => ({
    operationId: input.operationId,
    what: input.what,
    timeoutMs: input.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    polls: 0,
    outcome: undefined,
  }),
  initial: "waiting",
  after: {
    timeout: {
      target: ".done",
      actions: assign({ outcome: ({ context }) => ({ kind: "timed-out", polls: context.polls }) }),
    },
  },
  states: {
    waiting: {
      entry: assign({ polls: ({ context }) => context.polls + 1 }),
      after: { pollDelay: "polling" },
    },
    polling: {
      invoke: {
        src: "getOperation",
        input: ({ context }) => ({ operationId: context.operationId }),
        onDone: [
          {
            guard: { type: "succeeded", params: ({ event }) => event.output },
            target: "done",
            actions: assign({
              outcome: ({ event }) => ({ kind: "succeeded", status: event.output as OperationStatus }),
            }),
          },
          {
            guard: { type: "failed", params: ({ event }) => event.output },
            target: "done",
            actions: assign({
              outcome: ({ event }) => ({
                kind: "failed",
                message:
                  event.output === undefined
                    ? "Cloud Map no longer knows the operation"
                    : (event.output.errorMessage ?? "the operation failed"),
              }),
            }),
          },
          { target: "waiting" },
        ],
        onError: [
          {
            guard: { type: "retryable", params: ({ event }: { event: { error: unknown } }) => event.error },
            target: "waiting",
          },
          {
            target: "done",
            actions: assign({
              outcome: ({ event }) => ({
                kind: "failed",
                message: event.error instanceof Error ? event.error.message : String(event.error),
                cause: event.error,
              }),
            }),
          },
        ],
      },
    },
    done: { type: "final" },
  },
  output: ({ context }: { context: OperationContext }) =>
    context.outcome ?? { kind: "failed", message: "the operation ended without an outcome" },
});

export type OperationMachine = typeof operationMachine;

/** A Cloud Map operation that failed or did not finish in time. */
export class CloudMapOperationError extends Error {
  override readonly name = "CloudMapOperationError";
  readonly operationId: string;
  /** `failed`: Cloud Map answered FAIL (settled); otherwise the outcome is not known yet. */
  readonly outcome: "failed" | "timed-out" | "stopped";
  constructor(
    message: string,
    operationId: string,
    options?: { cause?: unknown; outcome?: "failed" | "timed-out" | "stopped" },
  ) {
    super(message, options);
    this.operationId = operationId;
    this.outcome = options?.outcome ?? "failed";
  }
}

/**
 * Runs the machine for one operation and resolves with its final status; rejects with `CloudMapOperationError` when
 * the operation fails or times out, and with the signal's reason when aborted (which also aborts the poll in flight).
 */
export async function waitForOperation(
  machine: OperationMachine,
  input: OperationMachineInput,
  options: { clock?: TimerClock | undefined; signal?: AbortSignal | undefined } = {},
): Promise<OperationStatus> {
  options.signal?.throwIfAborted();
  const actor = createActor(machine, {
    input,
    ...(options.clock !== undefined ? { clock: options.clock as never } : {}),
  });
  // One listener on the caller's signal, removed in `finally`: the signal may live as long as the process.
  let rejectAborted: (reason: unknown) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => (rejectAborted = reject));
  const onAbort = (): void => {
    rejectAborted(options.signal?.reason);
    actor.stop();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const done = toPromise(actor);
    actor.start();
    const outcome: OperationOutcome | undefined = await Promise.race([done, aborted]);
    // A stopped actor settles its promise without an output.
    options.signal?.throwIfAborted();
    if (outcome === undefined) {
      throw new CloudMapOperationError(`${input.what}: stopped`, input.operationId, { outcome: "stopped" });
    }
    if (outcome.kind === "succeeded") return outcome.status;
    if (outcome.kind === "failed") {
      throw new CloudMapOperationError(`${input.what}: ${outcome.message}`, input.operationId, {
        cause: outcome.cause,
        // A GetOperation that failed (rather than an operation that did) says nothing of the operation's outcome.
        outcome: outcome.cause === undefined ? "failed" : "stopped",
      });
    }
    throw new CloudMapOperationError(
      `${input.what}: Cloud Map operation ${input.operationId} did not finish within ` +
        `${Math.round((input.timeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS) / 1000)} s ` +
        `(${outcome.polls} polls); the next reconcile looks again`,
      input.operationId,
      { outcome: "timed-out" },
    );
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    actor.stop();
  }
}
