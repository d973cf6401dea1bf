import { describe, expect, it } from "vitest";
import { baseOf, isOurs, readRecords, revisionTags, type PatchRecord } from "./revision-record.ts";

const record = (over: Partial<PatchRecord> = {}): PatchRecord => ({
  key: "LogRouter/api",
  kind: "LogRouter",
  prune: true,
  footprint: { router: "log_router" },
  rollouts: [{ cluster: "app", service: "api" }],
  ...over,
});

describe("revision records", () => {
  it("are read back from the tags they are written to, with the base and the owner", () => {
    const { tags, problems } = revisionTags({
      carried: [
        { key: "team", value: "payments" },
        { key: "ecs-log-operator/patch/SidecarVolume/gone", value: "prune source=x" },
        { key: "aws:cloudformation:stack-name", value: "s" },
      ],
      docs: [],
      ownerId: "prod/eu",
      base: 7,
      records: [
        record(),
        record({ key: "SidecarVolume/batch", kind: "SidecarVolume", prune: false, rollouts: [] }),
      ],
    });
    expect(problems).toEqual([]);
    // The pipeline's own tags are kept; what an older revision of ours recorded is not.
    expect(tags.map((t) => t.key)).toEqual([
      "team",
      "ecs-log-operator/generation",
      "ecs-log-operator/owner",
      "ecs-log-operator/base",
      "ecs-log-operator/patch/LogRouter/api",
      "ecs-log-operator/rollout/LogRouter/api",
      "ecs-log-operator/patch/SidecarVolume/batch",
    ]);
    expect(isOurs(tags, "prod/eu")).toBe(true);
    expect(isOurs(tags, "prod")).toBe(false);
    expect(baseOf(tags)).toBe(7);
    expect(readRecords(tags)).toEqual([
      record(),
      record({ key: "SidecarVolume/batch", kind: "SidecarVolume", prune: false, rollouts: [] }),
    ]);
  });

  it("say what does not fit in a tag value, and keep the rest", () => {
    const long = "x".repeat(250);
    const services = Array.from({ length: 30 }, (_, i) => ({ cluster: "app", service: `service-${i}` }));
    const { tags, problems } = revisionTags({
      carried: [],
      docs: [],
      ownerId: "o",
      base: 0,
      records: [record({ footprint: { router: long }, rollouts: services })],
    });
    expect(problems.map((p) => p.message)).toEqual([
      "its footprint is too long to record: its patch cannot be removed",
      expect.stringMatching(/^rollout service app\/service-\d+ and those after it do not fit in its record$/),
    ]);
    expect(tags.every((t) => t.value.length <= 256)).toBe(true);
    // Read from a file, the revision has no number: no base is recorded.
    expect(baseOf(tags)).toBeUndefined();
    const [read] = readRecords(tags);
    expect(read?.footprint).toEqual({});
    expect(read?.rollouts.length).toBeGreaterThan(10);
  });

  it("ignore tags that are no record", () => {
    expect(
      readRecords([
        { key: "ecs-log-operator/patch/LogRouter/a", value: "maybe" },
        { key: "other/patch/LogRouter/b", value: "prune" },
      ]),
    ).toEqual([]);
  });
});
