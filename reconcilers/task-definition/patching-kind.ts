import type { Static, TSchema } from "@sinclair/typebox";
import type { IamContext, PolicyStatement } from "../../controllers/iam.ts";
import { defineKindEntry, type KindEntry, type TaskRoleIam } from "../../controllers/kind-entry.ts";
import type { KindDefinition } from "../../controllers/spec/document.ts";
import { ecsTaskWatchLister } from "../ecs-tasks/ecs-task-watch-lister.ts";
import { taskDefinitionStatements } from "./task-definition-iam.ts";
import type { TaskDefinitionPatch } from "./task-definition-patch.ts";
import { taskDefinitionEngine } from "./task-definition-reconciler.ts";

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
      reconciler: (parts) => parts.shared(taskDefinitionEngine).forKind(patch),
      sweeps: true,
      iam: (specs, ctx) => [
        ...taskDefinitionStatements(
          specs.map((s) => patch.family(s)),
          specs.flatMap((s) => patch.rolloutServices(s)),
          ctx,
        ),
        ...(options.iam?.(specs, ctx) ?? []),
      ],
      watchListers: (parts) => [parts.shared(ecsTaskWatchLister)],
      taskRole: options.taskRole,
    }),
    taskDefinitionPatch: patch,
  };
}
