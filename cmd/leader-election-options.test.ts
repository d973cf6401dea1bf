import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCommandArgs, UsageError } from "./cli-support.ts";
import { LEADER_ELECTION_OPTIONS, leaderElectionSettings } from "./leader-election-options.ts";

function settings(args: string[], ownerId = "default") {
  const { values } = parseCommandArgs(args, LEADER_ELECTION_OPTIONS);
  return leaderElectionSettings(values, ownerId);
}

describe("leaderElectionSettings", () => {
  it("is off by default", () => {
    expect(settings([])).toEqual({ enabled: false });
  });

  it("takes kube-controller-manager's defaults and a resource name derived from the owner id", () => {
    expect(settings(["--leader-elect", "--leader-elect-table", "leases"], "blue")).toEqual({
      enabled: true,
      table: "leases",
      resourceName: "ecs-log-operator-blue",
      durations: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    });
  });

  it("reads every flag", () => {
    const s = settings([
      "--leader-elect",
      "--leader-elect-table=leases",
      "--leader-elect-lease-duration=1m",
      "--leader-elect-renew-deadline=40s",
      "--leader-elect-retry-period=5s",
      "--leader-elect-resource-name=prod",
    ]);
    expect(s).toEqual({
      enabled: true,
      table: "leases",
      resourceName: "prod",
      durations: { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 5_000 },
    });
  });

  it.each([
    [["--leader-elect"], "--leader-elect needs --leader-elect-table NAME"],
    [["--leader-elect-table", "leases"], "--leader-elect-table needs --leader-elect"],
    [
      ["--leader-elect-table", "leases", "--leader-elect-retry-period", "1s"],
      "--leader-elect-table, --leader-elect-retry-period need --leader-elect",
    ],
    [["--leader-elect", "--leader-elect-table", "x"], '--leader-elect-table "x" must be 3 to 255'],
    [
      ["--leader-elect", "--leader-elect-table", "leases", "--leader-elect-renew-deadline", "20s"],
      "--leader-elect-renew-deadline (20s) must be below --leader-elect-lease-duration (15s)",
    ],
    [
      ["--leader-elect", "--leader-elect-table", "leases", "--leader-elect-retry-period", "10s"],
      "--leader-elect-retry-period (10s) must be below --leader-elect-renew-deadline (10s)",
    ],
    [
      ["--leader-elect", "--leader-elect-table", "leases", "--leader-elect-lease-duration", "soon"],
      '--leader-elect-lease-duration: invalid duration "soon"',
    ],
    [
      ["--leader-elect", "--leader-elect-table", "leases", "--leader-elect-resource-name", "a b"],
      '--leader-elect-resource-name "a b" must be 1 to 128',
    ],
  ])("%j is refused before anything starts", (args, message) => {
    expect(() => settings(args)).toThrow(UsageError);
    expect(() => settings(args)).toThrow(message);
  });

  it("accepts the deploy manifest's command", () => {
    const td = JSON.parse(
      readFileSync(join(import.meta.dirname, "../manifests/deploy/task-definition.json"), "utf8"),
    ) as { containerDefinitions: { command: string[] }[] };
    const command = td.containerDefinitions[0]!.command;
    const leaderArgs = command.filter(
      (a, i) => a.startsWith("--leader-elect") || command[i - 1] === "--leader-elect-table",
    );
    expect(settings(leaderArgs)).toMatchObject({ enabled: true, table: "ecs-log-operator-leases" });
  });
});
