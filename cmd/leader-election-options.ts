import type { Registry } from "prom-client";
import {
  DEFAULT_DURATIONS,
  durationProblems,
  type LeaderElectionDurations,
} from "../controllers/leader-election/config.ts";
import { ElectedLeadership, SoleLeader, type Leadership } from "../controllers/leader-election/leadership.ts";
import type { Logger } from "../controllers/logger.ts";
import { parseDuration, UsageError, type CommandHelp } from "./cli-support.ts";

/** `run`'s leader-election options, as `parseArgs` definitions (kube-controller-manager's names). */
export const LEADER_ELECTION_OPTIONS = {
  "leader-elect": { type: "boolean" },
  "leader-elect-table": { type: "string" },
  "leader-elect-lease-duration": { type: "string" },
  "leader-elect-renew-deadline": { type: "string" },
  "leader-elect-retry-period": { type: "string" },
  "leader-elect-resource-name": { type: "string" },
} as const;

/** Their help lines. */
export const LEADER_ELECTION_OPTIONS_HELP: CommandHelp["options"] = [
  ["--leader-elect", "run as one of several replicas: only the one holding the lease writes (default off)"],
  ["--leader-elect-table NAME", "the DynamoDB table holding the lease (created, on-demand, when missing)"],
  [
    "--leader-elect-lease-duration DURATION",
    "how long standbys wait, seeing the lease unchanged, before taking it (default 15s)",
  ],
  [
    "--leader-elect-renew-deadline DURATION",
    "the leader stops writing when it has not renewed for this long (default 10s)",
  ],
  ["--leader-elect-retry-period DURATION", "how often the lease is read and renewed (default 2s)"],
  [
    "--leader-elect-resource-name NAME",
    "the lease's name: replicas with the same name elect one leader (default ecs-log-operator-OWNER_ID)",
  ],
];

export type LeaderElectionSettings =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly table: string;
      readonly resourceName: string;
      readonly durations: LeaderElectionDurations;
    };

type Values = {
  readonly [
    K in keyof typeof LEADER_ELECTION_OPTIONS
  ]?: (typeof LEADER_ELECTION_OPTIONS)[K]["type"] extends "boolean"
    ? boolean | undefined
    : string | undefined;
};

/** DynamoDB's rule for table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** The lease name when none is given: one lease per owner id, so operators of different owners elect apart. */
export function defaultResourceName(ownerId: string): string {
  return `ecs-log-operator-${ownerId}`;
}

/**
 * Reads and checks the leader-election options of `run`, before anything starts: every problem is a `UsageError`
 * naming the flag. A `--leader-elect-*` option without `--leader-elect` is an error too (it would silently do nothing).
 */
export function leaderElectionSettings(values: Values, ownerId: string): LeaderElectionSettings {
  const given = (Object.keys(LEADER_ELECTION_OPTIONS) as (keyof Values)[]).filter(
    (k) => k !== "leader-elect" && values[k] !== undefined,
  );
  if (values["leader-elect"] !== true) {
    if (given.length > 0) {
      const flags = given.map((k) => `--${k}`).join(", ");
      throw new UsageError(`${flags} ${given.length === 1 ? "needs" : "need"} --leader-elect`);
    }
    return { enabled: false };
  }
  const table = values["leader-elect-table"];
  if (table === undefined) {
    throw new UsageError(
      "--leader-elect needs --leader-elect-table NAME (a DynamoDB table; created when missing)",
    );
  }
  if (!TABLE_NAME.test(table)) {
    throw new UsageError(`--leader-elect-table "${table}" must be 3 to 255 letters, digits or _.-`);
  }
  const duration = (key: keyof Values, fallback: number): number => {
    const text = values[key];
    if (typeof text !== "string") return fallback;
    try {
      return parseDuration(text);
    } catch (error) {
      throw new UsageError(`--${key}: ${(error as Error).message}`, { cause: error });
    }
  };
  const durations: LeaderElectionDurations = {
    leaseDurationMs: duration("leader-elect-lease-duration", DEFAULT_DURATIONS.leaseDurationMs),
    renewDeadlineMs: duration("leader-elect-renew-deadline", DEFAULT_DURATIONS.renewDeadlineMs),
    retryPeriodMs: duration("leader-elect-retry-period", DEFAULT_DURATIONS.retryPeriodMs),
  };
  const problems = durationProblems(durations);
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  const resourceName = values["leader-elect-resource-name"] ?? defaultResourceName(ownerId);
  if (!/^[A-Za-z0-9_.:/@+-]{1,128}$/.test(resourceName)) {
    throw new UsageError(
      `--leader-elect-resource-name "${resourceName}" must be 1 to 128 letters, digits or _.:/@+-`,
    );
  }
  return { enabled: true, table, resourceName, durations };
}

/** The process's leadership: elected through the lease with `--leader-elect`, else this process leads alone. */
export function leadershipFor(
  settings: LeaderElectionSettings,
  parts: { readonly registry: Registry; readonly logger: Logger },
): Leadership {
  if (!settings.enabled) return new SoleLeader(parts.registry);
  return new ElectedLeadership({
    table: settings.table,
    resourceName: settings.resourceName,
    durations: settings.durations,
    ...parts,
  });
}
