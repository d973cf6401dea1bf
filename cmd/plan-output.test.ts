import { describe, expect, it } from "vitest";
import type { ResourcePlan } from "../controllers/reconciler.ts";
import { AwsError } from "../controllers/aws/errors.ts";
import { failureLine, failureLines, formatPlanText } from "./plan-output.ts";

const plan = (key: string, changes: ResourcePlan["changes"]): ResourcePlan => ({
  key,
  kind: key.slice(0, key.indexOf("/")),
  changes,
  apply: async () => undefined,
});
const source = { file: "specs/a.yaml", line: 4, col: 1 };

describe("formatPlanText", () => {
  it("groups changes by resource with a symbol each, and sums them up", () => {
    const text = formatPlanText(
      [
        plan("CloudMapService/fluentd", [
          { action: "create", target: "instance t1 10.0.0.1:24224" },
          { action: "delete", target: "instance t0", detail: "task stopped" },
        ]),
        plan("CloudMapNamespace/local", []),
      ],
      [],
      false,
    );
    expect(text).toBe(
      [
        "CloudMapService/fluentd",
        "  + create instance t1 10.0.0.1:24224",
        "  - delete instance t0 (task stopped)",
        "CloudMapNamespace/local: up to date",
        "",
        "Plan: 1 to create, 0 to update, 1 to delete.",
        "",
      ].join("\n"),
    );
  });

  it("after apply, says what it did in the past tense, never 'Plan:'", () => {
    const plans = [
      plan("CloudMapService/fluentd", [
        { action: "create", target: "instance t1 10.0.0.1:24224" },
        { action: "update", target: "instance t2 health", detail: "UNHEALTHY -> HEALTHY" },
        { action: "delete", target: "instance t0", detail: "task stopped" },
      ]),
    ];
    const text = formatPlanText(plans, [], false, [], "apply");
    expect(text).toBe(
      [
        "CloudMapService/fluentd",
        "  + created instance t1 10.0.0.1:24224",
        "  ~ updated instance t2 health (UNHEALTHY -> HEALTHY)",
        "  - deleted instance t0 (task stopped)",
        "",
        "Applied: 1 created, 1 updated, 1 deleted.",
        "",
      ].join("\n"),
    );
    expect(formatPlanText([plan("A/b", [])], [], false, [], "apply")).toContain(
      "No changes: AWS already matched the specs.",
    );
    const failed = formatPlanText(
      plans,
      [{ key: "A/x", error: new Error("boom"), source }],
      false,
      [],
      "apply",
    );
    expect(failed).toContain(
      "1 resource(s) failed (see the errors above); for the others: 1 created, 1 updated, 1 deleted.",
    );
    expect(failed).not.toContain("Plan:");
  });

  it("shows held deletions apart, counts them out of the plan, and says why and how to let them go", () => {
    const held = {
      kind: "WeightedRecordSet",
      reason: "SpecSetEmpty" as const,
      resources: ["WeightedRecordSet/a"],
      message: "the spec set is empty: ... pass --allow-empty",
    };
    const text = formatPlanText(
      [
        {
          ...plan("WeightedRecordSet/a", [{ action: "delete", target: "a.logs.internal A i-1 10.0.0.1" }]),
          held: held.message,
        },
      ],
      [],
      false,
      [],
      "plan",
      [held],
    );
    expect(text).toBe(
      [
        "WeightedRecordSet/a: deletions held by the prune guard",
        "  ! held delete a.logs.internal A i-1 10.0.0.1",
        "",
        "Held: the spec set is empty: ... pass --allow-empty.",
        "1 change(s) held: neither this plan nor apply makes them while the guard holds.",
        "No other changes.",
        "",
      ].join("\n"),
    );
  });

  it("never says 'No changes' when a resource could not be planned", () => {
    const text = formatPlanText(
      [],
      [{ key: "WeightedRecordSet/x", error: new Error("zone not found"), source }],
      false,
    );
    expect(text).not.toContain("No changes");
    expect(text).toContain("specs/a.yaml:4:1: WeightedRecordSet/x: zone not found");
    expect(text).toContain(
      "1 resource(s) could not be planned (see the errors above); no changes for the others.",
    );
  });

  it("colours only when asked", () => {
    const changes = [{ action: "update" as const, target: "ttl" }];
    expect(formatPlanText([plan("A/b", changes)], [], true)).toContain("\u001b[33m~ update ttl");
    expect(formatPlanText([plan("A/b", changes)], [], false)).not.toContain("\u001b[");
  });
});

describe("failureLine", () => {
  it("puts the spec's position first, unless the message already starts with one", () => {
    expect(failureLine({ key: "K/n", error: new Error("boom"), source })).toBe("specs/a.yaml:4:1: K/n: boom");
    expect(
      failureLine({ key: "K/n", error: new Error("specs/a.yaml:9:3: K/n: family missing"), source }),
    ).toBe("specs/a.yaml:9:3: K/n: family missing");
    expect(failureLine({ key: "K/*", error: new Error("sweep failed") })).toBe("K/*: sweep failed");
  });
});

describe("failureLines", () => {
  const refused = (operation: string) =>
    new AwsError(
      "transient",
      "servicediscovery",
      operation,
      "ECONNREFUSED",
      "connect ECONNREFUSED 127.0.0.1:5999",
    );

  it("tells an unreachable endpoint once, naming where it was set, sweeps included", () => {
    const failures = [
      { key: "CloudMapNamespace/*", error: refused("ListNamespaces") },
      { key: "CloudMapNamespace/logs", error: refused("ListNamespaces"), source },
      // As a reconciler wraps it.
      {
        key: "LogRouter/app",
        error: new Error("family app cannot be read", { cause: refused("Describe") }),
        source,
      },
      { key: "WeightedRecordSet/x", error: new Error("zone not found"), source },
    ];
    expect(failureLines(failures, [{ url: "http://127.0.0.1:5999", source: "AWS_ENDPOINT_URL" }])).toEqual([
      "specs/a.yaml:4:1: WeightedRecordSet/x: zone not found",
      "cannot reach AWS at http://127.0.0.1:5999 (AWS_ENDPOINT_URL): connect ECONNREFUSED 127.0.0.1:5999; " +
        "start the emulator there, or fix or unset AWS_ENDPOINT_URL (3 resource(s) failed on this)",
    ]);
  });

  it("tells AWS's own endpoint being out of reach once, with what to check", () => {
    const dns = new AwsError(
      "transient",
      "ecs",
      "ListTasks",
      "ENOTFOUND",
      "getaddrinfo ENOTFOUND ecs.xx-1.amazonaws.com",
    );
    expect(
      failureLines([
        { key: "A/a", error: dns },
        { key: "A/b", error: dns },
      ]),
    ).toEqual([
      "cannot reach AWS: getaddrinfo ENOTFOUND ecs.xx-1.amazonaws.com; check the network (a proxy, a VPC endpoint) " +
        "and AWS_REGION (2 resource(s) failed on this)",
    ]);
  });

  it("tells refused credentials once", () => {
    const denied = new AwsError(
      "invalid",
      "route53",
      "ListHostedZones",
      "InvalidClientTokenId",
      "The security token included in the request is invalid.",
    );
    const lines = failureLines([
      { key: "WeightedRecordSet/*", error: denied },
      { key: "WeightedRecordSet/a", error: denied, source },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^AWS did not accept the credentials \(InvalidClientTokenId: The security token/,
    );
    expect(lines[0]).toContain("AWS_PROFILE");
  });

  it("does not repeat a resource's name that the message already starts with", () => {
    const owner = new Error('WeightedRecordSet/edge: owner id "a b" must be 1 to 100 letters');
    expect(failureLine({ key: "WeightedRecordSet/edge", error: owner, source })).toBe(
      'specs/a.yaml:4:1: WeightedRecordSet/edge: owner id "a b" must be 1 to 100 letters',
    );
  });
});
