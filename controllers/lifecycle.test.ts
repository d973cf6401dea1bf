import { createActor, fromPromise, waitFor } from "xstate";
import { describe, expect, it } from "vitest";
import { controllerLifecycle } from "./lifecycle.ts";

function withSteps(steps: {
  load?: () => Promise<void>;
  sync?: (signal: AbortSignal) => Promise<void>;
  stopped?: string[];
}) {
  return controllerLifecycle.provide({
    actors: {
      loadSpecs: fromPromise<void>(async () => steps.load?.()),
      initialSync: fromPromise<void>(async ({ signal }) => steps.sync?.(signal)),
      shutDown: fromPromise<void>(async () => {
        steps.stopped?.push("shut down");
      }),
    },
  });
}

describe("controller lifecycle", () => {
  it("goes starting -> syncing -> ready, and on STOP shuts down and stops", async () => {
    const stopped: string[] = [];
    const phases: string[] = [];
    const actor = createActor(withSteps({ stopped }));
    actor.subscribe((s) => phases.push(String(s.value)));
    actor.start();
    await waitFor(actor, (s) => s.matches("ready"));
    actor.send({ type: "STOP" });
    await waitFor(actor, (s) => s.status === "done");
    expect([...new Set(phases)]).toEqual(["starting", "syncing", "ready", "shuttingDown", "stopped"]);
    expect(stopped).toEqual(["shut down"]);
  });

  it("on STOP while syncing, aborts the sync and still shuts down", async () => {
    const stopped: string[] = [];
    let aborted = false;
    const actor = createActor(
      withSteps({
        stopped,
        sync: (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => {
              aborted = true;
              reject(new Error("aborted"));
            }),
          ),
      }),
    );
    actor.start();
    await waitFor(actor, (s) => s.matches("syncing"));
    actor.send({ type: "STOP" });
    await waitFor(actor, (s) => s.matches("stopped"));
    expect(aborted).toBe(true);
    expect(stopped).toEqual(["shut down"]);
  });

  it("fails, with the reason, when the specs cannot be loaded", async () => {
    const actor = createActor(
      withSteps({ load: async () => Promise.reject(new Error("EACCES: permission denied")) }),
    );
    actor.start();
    const s = await waitFor(actor, (x) => x.status === "done");
    expect(s.value).toBe("failed");
    expect(s.context.error).toBe("EACCES: permission denied");
  });
});
