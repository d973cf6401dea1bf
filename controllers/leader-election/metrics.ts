import { Counter, Gauge, type Registry } from "prom-client";
import type { TermEndReason } from "./term.ts";

/** A leadership transition, as counted: a term started, or ended for one of its reasons. */
export type LeaderTransition = "acquired" | TermEndReason;

/**
 * Leader election's metrics, on the process's one registry. `ecs_log_operator_leader` is on every replica (1 on the
 * leader, 0 on a standby; a process without leader election leads alone and sets it to 1), so "no replica leads" is
 * `max(ecs_log_operator_leader) == 0` and two leaders `sum(...) > 1`.
 */
export class LeaderElectionMetrics {
  private readonly leader: Gauge;
  private readonly transitions: Counter<"transition">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.leader = new Gauge({
      name: "ecs_log_operator_leader",
      help: "1 while this replica leads (holds the lease and may write to AWS), 0 on a standby.",
      registers,
    });
    this.transitions = new Counter({
      name: "ecs_log_operator_leader_transitions_total",
      help:
        "Leadership transitions of this replica: acquired, or a term ended by renew-deadline, lease-taken, " +
        "fenced-out or released.",
      labelNames: ["transition"],
      registers,
    });
    for (const t of ["acquired", "renew-deadline", "lease-taken", "fenced-out", "released"] as const) {
      this.transitions.inc({ transition: t }, 0);
    }
    this.leader.set(0);
  }

  setLeading(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  transition(t: LeaderTransition): void {
    this.transitions.inc({ transition: t });
  }
}
