import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { SimulatedClock } from "xstate";
import type { AutoScalingApi } from "./auto-scaling-api.ts";
import { DrainCoordinator } from "./drain.ts";

const tick = () => new Promise((r) => setImmediate(r));

function coordinator(clock: SimulatedClock) {
  const completed: string[] = [];
  const autoScaling = {
    completeLifecycleAction: async (input: { instanceId: string }) => {
      completed.push(input.instanceId);
      return true;
    },
  } as unknown as AutoScalingApi;
  return { drains: new DrainCoordinator({ autoScaling, clock }), completed };
}

describe("DrainCoordinator", () => {
  it("leaves no listener on the process-lifetime signal after its drains end", async () => {
    const clock = new SimulatedClock();
    const { drains, completed } = coordinator(clock);
    const lifetime = new AbortController();
    for (let i = 0; i < 20; i++) {
      const plan = drains.plan(
        { groupName: "g", hookName: "h", waitSeconds: 1, recordRemoved: async () => undefined },
        [`i-${i}`],
        new Set(),
      );
      const run = plan.run(lifetime.signal);
      await tick();
      clock.increment(1000);
      await run;
    }
    expect(completed).toHaveLength(20);
    expect(getEventListeners(lifetime.signal, "abort")).toHaveLength(0);
  });

  it("stops a drain when its signal aborts, and forgets it", async () => {
    const clock = new SimulatedClock();
    const { drains, completed } = coordinator(clock);
    const lifetime = new AbortController();
    const hook = { groupName: "g", hookName: "h", waitSeconds: 60, recordRemoved: async () => undefined };
    const run = drains.plan(hook, ["i-1"], new Set()).run(lifetime.signal);
    await tick();
    lifetime.abort(new Error("shutting down"));
    await expect(run).rejects.toThrow("shutting down");
    expect(completed).toEqual([]);
    // Forgotten: a later pass plans the instance again.
    expect(drains.plan(hook, ["i-1"], new Set()).instances).toEqual(["g/i-1"]);
  });
});
