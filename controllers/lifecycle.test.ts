import { createActor, fromPromise, waitFor } from "xstate";
import { describe, expect, it } from "vitest";
import { controllerLifecycle } from "./lifecycle.ts";

function withSteps(steps: {
  load?: () => Promise<void>;
  sync?: (signal: AbortSignal) => Promise<void>;
  drained?: string[];
}) {
  return controllerLifecycle.provide({
    actors: {
      loadSpecs: fromPromise<void>(async () => steps.load?.()),
      initialSync: fromPromise<void>(async ({ signal }) => steps.sync?.(signal)),
      drain: fromPromise<void>(async () => {
        steps.drained?.push("drained");
      }),
    },
  });
}

describe("controller lifecycle", () => {
  it("goes starting -> syncing -> ready, and on STOP drains and stops", async () => {
    const drained: string[] = [];
    const phases: string[] = [];
    const actor = createActor(withSteps({ drained }));
    actor.subscribe((s) => phases.push(String(s.value)));
    actor.start();
    await waitFor(actor, (s) => s.matches("ready"));
    actor.send({ type: "STOP" });
    await waitFor(actor, (s) => s.status === "done");
    expect([...new Set(phases)]).toEqual(["starting", "syncing", "ready", "shuttingDown", "stopped"]);
    expect(drained).toEqual(["drained"]);
  });

  it("on STOP while syncing, aborts the sync and still drains", async () => {
    const drained: string[] = [];
    let aborted = false;
    const actor = createActor(
      withSteps({
        drained,
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
    expect(drained).toEqual(["drained"]);
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
