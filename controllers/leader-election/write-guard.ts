import { NotLeaderError, type LeaderTerm } from "./term.ts";

/**
 * A margin for writes that AWS cannot fence: a write checked with it starts only if it can last this long and still
 * end before the renew deadline, which itself ends (lease duration - renew deadline) before any standby may take over.
 * Two seconds covers one Cloud Map or ECS call; the SDK's retries of a call that lasts longer are aborted by the
 * term's signal at the deadline.
 */
export const DEFAULT_WRITE_MARGIN_MS = 2_000;

/**
 * For the AWS APIs without conditional writes (Cloud Map, ECS, Auto Scaling's CompleteLifecycleAction, S3): the
 * lease is checked right before each write, on the monotonic clock, with a margin. What this leaves open is written
 * down in manifests/deploy/LEADER-ELECTION.md: a process that stops between the check and the send (a pause of
 * seconds exactly there), and a request that AWS applies late.
 */
export class LeaseWriteGuard {
  private readonly term: () => LeaderTerm | undefined;
  readonly marginMs: number;

  constructor(options: { term: () => LeaderTerm | undefined; marginMs?: number | undefined }) {
    this.term = options.term;
    this.marginMs = options.marginMs ?? DEFAULT_WRITE_MARGIN_MS;
  }

  /** The term to write under; a `NotLeaderError` when there is none or it has less than the margin left. */
  check(): LeaderTerm {
    const term = this.term();
    if (term === undefined) throw new NotLeaderError("this replica does not lead: the write is not sent");
    term.assertMayWrite(this.marginMs);
    return term;
  }

  /** One write, checked first, with the term's signal joined to the caller's so the term's end aborts it. */
  async write<T>(signal: AbortSignal | undefined, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const term = this.check();
    return send(signal === undefined ? term.signal : AbortSignal.any([signal, term.signal]));
  }
}

/**
 * `api` with each method named in `writes` checked by `guard` right before it runs; every other method (the reads)
 * passes through. E.g. `guardWrites(cloudMap, ["registerInstance", "deregisterInstance", ...], guard)`.
 */
export function guardWrites<T extends object>(
  api: T,
  writes: readonly (keyof T & string)[],
  guard: LeaseWriteGuard,
): T {
  const guarded = new Set<string | symbol>(writes);
  return new Proxy(api, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!guarded.has(property)) return method.bind(target);
      // The adapters' methods return promises: a refused write is a rejected one, never a synchronous throw.
      return (...args: unknown[]) => {
        try {
          guard.check();
        } catch (error) {
          return Promise.reject(error as Error);
        }
        return method.apply(target, args);
      };
    },
  });
}
