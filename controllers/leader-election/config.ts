/**
 * The three durations of client-go's leader election, checked before anything starts:
 * - lease duration: how long a follower must see the lease record unchanged, over its own monotonic clock, before it
 *   may take the lease;
 * - renew deadline: how long after its last successful renewal was *sent* the leader stops writing and gives up its
 *   term; the gap to the lease duration is the margin for writes in flight and for clocks that tick at other rates;
 * - retry period: how often followers read the lease and the leader renews it.
 */
export interface LeaderElectionDurations {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeaderElectionConfig extends LeaderElectionDurations {
  /** The lease's name in the lock table: replicas with the same name elect one leader. */
  readonly resourceName: string;
  /** This replica, unique per process (a restarted process is a new candidate). */
  readonly identity: string;
}

/** kube-controller-manager's defaults. */
export const DEFAULT_DURATIONS: LeaderElectionDurations = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** Below this gap between lease duration and renew deadline, a write in flight at the deadline may outlive the lease. */
export const MIN_SAFETY_GAP_MS = 1000;

export class LeaderElectionConfigError extends Error {
  override readonly name = "LeaderElectionConfigError";
}

/** Flag names as `run` spells them, so the errors point at what the user typed. */
const FLAG = {
  leaseDurationMs: "--leader-elect-lease-duration",
  renewDeadlineMs: "--leader-elect-renew-deadline",
  retryPeriodMs: "--leader-elect-retry-period",
} as const;

/**
 * Every problem with the durations, as sentences naming the flags (empty when they are valid). Besides client-go's
 * rules (lease duration > renew deadline > retry period > 0), the lease must outlast the renew deadline by at least
 * `MIN_SAFETY_GAP_MS`: that gap is all that covers a write sent just before the deadline.
 */
export function durationProblems(d: LeaderElectionDurations): string[] {
  const problems: string[] = [];
  const seconds = (ms: number) => `${ms / 1000}s`;
  for (const key of Object.keys(FLAG) as (keyof typeof FLAG)[]) {
    if (!Number.isFinite(d[key]) || d[key] <= 0) problems.push(`${FLAG[key]} must be a positive duration`);
  }
  if (problems.length > 0) return problems;
  if (d.renewDeadlineMs >= d.leaseDurationMs) {
    problems.push(
      `${FLAG.renewDeadlineMs} (${seconds(d.renewDeadlineMs)}) must be below ${FLAG.leaseDurationMs} ` +
        `(${seconds(d.leaseDurationMs)}): the leader must stop writing before a follower may take over`,
    );
  } else if (d.leaseDurationMs - d.renewDeadlineMs < MIN_SAFETY_GAP_MS) {
    problems.push(
      `${FLAG.leaseDurationMs} (${seconds(d.leaseDurationMs)}) must exceed ${FLAG.renewDeadlineMs} ` +
        `(${seconds(d.renewDeadlineMs)}) by at least ${seconds(MIN_SAFETY_GAP_MS)}: that gap covers the writes ` +
        `in flight when the leader stops`,
    );
  }
  if (d.retryPeriodMs >= d.renewDeadlineMs) {
    problems.push(
      `${FLAG.retryPeriodMs} (${seconds(d.retryPeriodMs)}) must be below ${FLAG.renewDeadlineMs} ` +
        `(${seconds(d.renewDeadlineMs)}): the leader must get more than one try to renew before it gives up`,
    );
  }
  return problems;
}

/** The config, or a `LeaderElectionConfigError` listing every problem. */
export function validateLeaderElectionConfig(config: LeaderElectionConfig): LeaderElectionConfig {
  const problems = durationProblems(config);
  if (config.identity.trim() === "") problems.push("the replica identity must not be empty");
  if (!/^[A-Za-z0-9_.:/@+-]{1,128}$/.test(config.resourceName)) {
    problems.push(
      `--leader-elect-resource-name ${JSON.stringify(config.resourceName)} must be 1 to 128 letters, digits or _.:/@+-`,
    );
  }
  if (problems.length > 0) throw new LeaderElectionConfigError(problems.join("; "));
  return config;
}
