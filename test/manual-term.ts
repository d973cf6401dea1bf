import { NotLeaderError, type LeaderTerm } from "../controllers/leader-election/term.ts";

/**
 * A term with no clock: valid until it is fenced out or ended by hand. Tests use it to stand for a leader that still
 * believes it leads (a paused one), which is what the Route 53 fence must stop.
 */
export class ManualTerm implements LeaderTerm {
  readonly epoch: number;
  readonly identity: string;
  /** The epochs it was fenced out by. */
  readonly fenced: number[] = [];
  private readonly controller = new AbortController();

  constructor(epoch: number, identity = `leader-${epoch}`) {
    this.epoch = epoch;
    this.identity = identity;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  mayWrite(): boolean {
    return !this.signal.aborted;
  }

  assertMayWrite(): void {
    if (this.signal.aborted) throw this.signal.reason as Error;
  }

  fencedOut(observedEpoch: number, detail: string): void {
    this.fenced.push(observedEpoch);
    this.end(detail);
  }

  end(detail = "ended"): void {
    if (!this.signal.aborted) this.controller.abort(new NotLeaderError(`term ${this.epoch}: ${detail}`));
  }
}
