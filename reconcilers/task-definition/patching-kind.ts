import type { Static, TSchema } from "@sinclair/typebox";
import type { IamContext, PolicyStatement } from "../../controllers/iam.ts";
import { defineKindEntry, type KindEntry, type TaskRoleIam } from "../../controllers/kind-entry.ts";
import type { KindDefinition } from "../../controllers/spec/document.ts";
import { ecsTaskStatements } from "../ecs-tasks/ecs-task-iam.ts";
import { taskDefinitionStatements } from "./task-definition-iam.ts";
import type { TaskDefinitionPatch } from "./task-definition-patch.ts";

/** A kind's registry entry, and the patch it plugs into the task-definition engine (which `render` uses too). */
export type PatchingKindEntry<S extends TSchema = TSchema> = KindEntry<S> & {
  readonly taskDefinitionPatch: TaskDefinitionPatch<Static<S>>;
};

/**
 * The registry entry of a kind that patches task definitions: its reconciler is the process's one engine
 * (`taskDefinitionEngine`) with the kind's patch plugged in; its permissions are the engine's for its specs' families
 * and rollouts, plus what the patch itself needs (`iam`), and what its families' task roles need (`taskRole`); it
 * watches the services it rolls out.
 */
export function patchingKindEntry<S extends TSchema>(options: {
  readonly definition: KindDefinition<S>;
  readonly patch: TaskDefinitionPatch<Static<S>>;
  readonly iam?: (specs: readonly Static<S>[], ctx: IamContext) => readonly PolicyStatement[];
  readonly taskRole?: TaskRoleIam<Static<S>>;
}): PatchingKindEntry<S> {
  const { patch } = options;
  return {
    ...defineKindEntry<S>({
      definition: options.definition,
      load: async () => {
        const [{ taskDefinitionEngine }, { ecsTaskWatchLister }] = await Promise.all([
          import("./aws-task-definition-engine.ts"),
          import("../ecs-tasks/ecs-task-watch-lister.ts"),
        ]);
        return {
          reconciler: (parts) => parts.shared(taskDefinitionEngine).forKind(patch),
          watchListers: (parts) => [parts.shared(ecsTaskWatchLister)],
        };
      },
      sweeps: true,
      iam: (specs, ctx) => [
        ...taskDefinitionStatements(
          specs.map((s) => patch.family(s)),
          specs.flatMap((s) => patch.rolloutServices(s)),
          ctx,
        ),
        // The rolled-out services are watched: their tasks are listed and their health read every interval.
        ...ecsTaskStatements(
          specs.flatMap((s) => patch.rolloutServices(s)),
          ctx,
          { privateAddresses: false },
        ),
        ...(options.iam?.(specs, ctx) ?? []),
      ],
      taskRole: options.taskRole,
    }),
    taskDefinitionPatch: patch,
  };
}
