import { describe, expect, it } from "vitest";
import { Informer, normaliseWatchKey, parseWatchKey, WatchIndex, type WatchLister } from "./informers.ts";
import { silentLogger } from "./logger.ts";

describe("watch keys", () => {
  it.each([
    ["ecs:logs/service:fluentd", { type: "ecs-service", cluster: "logs", service: "fluentd" }],
    ["ecs:logs/family:app", { type: "ecs-family", cluster: "logs", family: "app" }],
    [
      "ecs:arn:aws:ecs:eu-west-1:111122223333:cluster/logs/service:fluentd",
      { type: "ecs-service", cluster: "logs", service: "fluentd" },
    ],
    ["ecs:logs/fluentd", { type: "ecs-service", cluster: "logs", service: "fluentd" }],
    ["asg:log-asg", { type: "asg", group: "log-asg" }],
    ["asg:", undefined],
    ["route53:zone/name", undefined],
  ])("%s", (key, target) => {
    expect(parseWatchKey(key)).toEqual(target);
  });

  it("indexes resources by the normalised key, each woken once", () => {
    const index = new WatchIndex([
      {
        resource: "CloudMapService/a",
        watches: ["ecs:arn:aws:ecs:eu-west-1:1:cluster/logs/service:fluentd"],
      },
      { resource: "WeightedRecordSet/b", watches: ["ecs:logs/service:fluentd", "asg:log-asg"] },
      { resource: "LogRouter/c", watches: [] },
    ]);
    expect(index.watchKeys()).toEqual(["asg:log-asg", "ecs:logs/service:fluentd"]);
    expect(index.resourcesOf(["ecs:logs/service:fluentd", "asg:log-asg"])).toEqual([
      "CloudMapService/a",
      "WeightedRecordSet/b",
    ]);
    expect(index.resourcesOf(["asg:other"])).toEqual([]);
    expect(normaliseWatchKey("ecs:logs/fluentd")).toBe("ecs:logs/service:fluentd");
  });
});

class ScriptedLister implements WatchLister {
  readonly listings = new Map<string, string[] | Error>();
  async list(key: string): Promise<string[] | undefined> {
    const l = this.listings.get(key);
    if (l instanceof Error) throw l;
    return l;
  }
}

describe("Informer", () => {
  it("remembers the first listing, then reports only the keys whose listing changed", async () => {
    const lister = new ScriptedLister();
    const seen: string[][] = [];
    const informer = new Informer({ lister, logger: silentLogger, onChange: (k) => seen.push([...k]) });
    const signal = new AbortController().signal;
    lister.listings.set("asg:a", ["i-1:InService"]);
    lister.listings.set("asg:b", ["i-2:InService"]);
    expect(await informer.poll(["asg:a", "asg:b"], signal)).toEqual([]);
    lister.listings.set("asg:b", ["i-2:InService", "i-3:Pending"]);
    expect(await informer.poll(["asg:a", "asg:b"], signal)).toEqual(["asg:b"]);
    expect(await informer.poll(["asg:a", "asg:b"], signal)).toEqual([]);
    expect(seen).toEqual([["asg:b"]]);
  });

  it("treats a failed listing as no change, and forgets keys no longer watched", async () => {
    const lister = new ScriptedLister();
    const informer = new Informer({ lister, logger: silentLogger, onChange: () => undefined });
    const signal = new AbortController().signal;
    lister.listings.set("asg:a", ["i-1:InService"]);
    await informer.poll(["asg:a"], signal);
    lister.listings.set("asg:a", new Error("Throttling"));
    expect(await informer.poll(["asg:a"], signal)).toEqual([]);
    lister.listings.set("asg:a", ["i-1:InService"]);
    expect(await informer.poll(["asg:a"], signal)).toEqual([]);
    await informer.poll([], signal);
    lister.listings.set("asg:a", ["i-9:InService"]);
    // Watched again: a new baseline, not a change.
    expect(await informer.poll(["asg:a"], signal)).toEqual([]);
  });
});
