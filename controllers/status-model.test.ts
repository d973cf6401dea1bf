import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";
import { WatchedServices } from "./service-health/watched-services.ts";
import { StatusStore } from "./status.ts";
import { buildStatusDocument, readStatusDocument, StatusDocumentError } from "./status-model.ts";

const T0 = Date.parse("2026-12-01T12:00:00Z");

describe("buildStatusDocument", () => {
  it("adds the watched services' Degraded condition to the resources that watch them", () => {
    const clock = new ManualClock(T0);
    const store = new StatusStore(() => new Date(clock.now()));
    store.track("CloudMapService/fluentd", "g1");
    store.record("CloudMapService/fluentd", { result: "success", generation: "g1", changes: 1 });
    store.track("CloudMapNamespace/logs", "g2");
    const services = new WatchedServices({ clock });
    services.setWatches(new Map([["ecs:logs/service:fluentd", ["CloudMapService/fluentd"]]]));
    services.observed({
      key: "ecs:logs/service:fluentd",
      description: {
        cluster: "logs",
        name: "fluentd",
        arn: "arn:aws:ecs:r:1:service/logs/fluentd",
        status: "ACTIVE",
        desiredCount: 3,
        runningCount: 2,
        pendingCount: 0,
        taskDefinition: "td",
        serviceRegistries: [],
        subnets: [],
        deployments: [],
        events: [],
      },
      tasks: [],
      stopped: [],
    });
    const doc = buildStatusDocument({
      phase: "ready",
      now: new Date(T0),
      resources: store.list(),
      services: services.list(),
      watches: (key) => (key === "CloudMapService/fluentd" ? ["ecs:logs/service:fluentd"] : []),
      targets: (key) => (key === "CloudMapService/fluentd" ? { count: 0, items: [] } : undefined),
    });
    expect(doc.generatedAt).toBe("2026-12-01T12:00:00.000Z");
    expect(
      doc.resources.map((r) => [r.key, r.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`)]),
    ).toEqual([
      ["CloudMapNamespace/logs", ["Ready=Unknown:Pending"]],
      ["CloudMapService/fluentd", ["Degraded=True:BelowDesiredCount", "Ready=True:Converged"]],
    ]);
    expect(doc.resources[1]).toMatchObject({
      targets: { count: 0 },
      watches: ["ecs:logs/service:fluentd"],
      changes: [],
    });
    expect(doc.resources[0]).toMatchObject({ targets: null, watches: [] });
    expect(doc).toMatchObject({ decisions: [], leadership: null, source: null });
    // What `/status` serves is what clients read back.
    expect(readStatusDocument(JSON.parse(JSON.stringify(doc)))).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("shows the kinds' orphan sweeps apart from the resources, failed or not", () => {
    const clock = new ManualClock(T0);
    const store = new StatusStore(() => new Date(clock.now()));
    store.track("CloudMapService/fluentd", "g1");
    store.record("CloudMapService/fluentd", { result: "success", generation: "g1", changes: 0 });
    // The controller tracks each kind's sweep key as it tracks the specs' (retainLiveKeys).
    store.track("CloudMapService/*", undefined);
    store.track("WeightedRecordSet/*", undefined);
    store.record("CloudMapService/*", { result: "success", generation: undefined, changes: 2 });
    store.record("WeightedRecordSet/*", {
      result: "error",
      reason: "AwsThrottled",
      message: "Rate exceeded",
    });
    const doc = buildStatusDocument({ phase: "ready", now: new Date(T0), resources: store.list() });
    expect(doc.resources.map((r) => r.key)).toEqual(["CloudMapService/fluentd"]);
    expect(doc.sweeps).toEqual([
      {
        kind: "CloudMapService",
        key: "CloudMapService/*",
        lastRunTime: "2026-12-01T12:00:00.000Z",
        ok: true,
        lastError: null,
        lastChanges: 2,
        conditions: [expect.objectContaining({ type: "Ready", status: "True", reason: "Converged" })],
      },
      {
        kind: "WeightedRecordSet",
        key: "WeightedRecordSet/*",
        lastRunTime: "2026-12-01T12:00:00.000Z",
        ok: false,
        lastError: "Rate exceeded",
        lastChanges: 0,
        conditions: [expect.objectContaining({ type: "Ready", status: "False", reason: "AwsThrottled" })],
      },
    ]);
    expect(readStatusDocument(JSON.parse(JSON.stringify(doc))).sweeps).toEqual(doc.sweeps);
  });
});

describe("readStatusDocument", () => {
  it("reads what an older controller served, filling the new fields and taking its sweeps out of the resources", () => {
    const older = {
      phase: "ready",
      resources: [
        {
          key: "CloudMapService/fluentd",
          kind: "CloudMapService",
          name: "fluentd",
          generation: "abc",
          observedGeneration: "abc",
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "Converged",
              message: "no changes needed",
              lastTransitionTime: "2026-12-01T11:00:00.000Z",
            },
          ],
          lastReconcileTime: "2026-12-01T11:59:00.000Z",
          lastChanges: 0,
        },
        {
          key: "CloudMapService/*",
          kind: "CloudMapService",
          name: "*",
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "Converged",
              message: "applied 1 change(s)",
              lastTransitionTime: "2026-12-01T11:00:00.000Z",
            },
          ],
          lastReconcileTime: "2026-12-01T11:59:01.000Z",
          lastChanges: 1,
        },
      ],
    };
    expect(readStatusDocument(older)).toEqual({
      phase: "ready",
      ready: true,
      generatedAt: null,
      resources: [
        {
          ...older.resources[0],
          lastError: undefined,
          targets: null,
          changes: [],
          watches: [],
        },
      ],
      sweeps: [
        {
          kind: "CloudMapService",
          key: "CloudMapService/*",
          lastRunTime: "2026-12-01T11:59:01.000Z",
          ok: true,
          lastError: null,
          lastChanges: 1,
          conditions: older.resources[1]!.conditions,
        },
      ],
      services: [],
      decisions: [],
      leadership: null,
      source: null,
      deletionsHeld: {},
    });
  });

  it.each([
    ["not an object", [], /the document is not an object/],
    ["no resources", { phase: "ready" }, /resources is not a list/],
    [
      "a condition of the wrong type",
      { resources: [{ key: "A/b", conditions: [{ type: 3 }] }] },
      /resources\[0\]\.conditions\[0\]\.type is not a string/,
    ],
  ])("names the field of %s", (_name, raw, message) => {
    expect(() => readStatusDocument(raw)).toThrow(StatusDocumentError);
    expect(() => readStatusDocument(raw)).toThrow(message);
  });
});
