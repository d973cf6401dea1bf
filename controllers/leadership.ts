/**
 * Whether this replica may write, and until when. A leader election gives one signal per leadership term, aborted as
 * soon as its lease may be lost (before another replica can take it): every reconcile's reads and writes run under
 * it, so a replica that stops leading stops writing mid-plan. A standby has no term: it keeps its informers warm and
 * serves HTTP, and reconciles nothing.
 */
export interface LeadershipGate {
  /** The current term's signal, or undefined while this replica stands by. */
  term(): AbortSignal | undefined;
}

const NEVER_ABORTED = new AbortController().signal;

/** `run` without leader election: one term that never ends. */
export const alwaysLeading: LeadershipGate = {
  term: () => NEVER_ABORTED,
};
