import type { RevertResult } from "../task-definition/task-definition-patch.ts";
import type { TaskDefinitionJson } from "../task-definition/task-definition.ts";
import {
  containerOf,
  setField,
  takeBack,
  takeBackContainer,
  takeBackEntries,
  type RevertContext,
} from "../task-definition/take-back.ts";
import { INIT_S3_VARIABLE } from "./init-config.ts";
import { routerName, type LogRouterSpec } from "./log-router-kind.ts";

/** What removing a LogRouter's patch needs once the spec is gone: its router's name. */
export function logRouterFootprint(spec: LogRouterSpec): Record<string, string> {
  return { router: routerName(spec) };
}

/**
 * Removes a LogRouter's patch: the router container goes back to the pipeline's (removed when the operator added it,
 * put back when an awslogs output had removed it), and so do every container's `logConfiguration` and its
 * `dependsOn` entries naming the router; a `dependsOn` naming a router that is gone is dropped, as ECS rejects it.
 * The S3 objects the router read are left: the operator never deregisters a revision, and a revision that still names
 * them (an older one a service or a rollback may run) would fail to start without them.
 */
export function revertLogRouter(td: TaskDefinitionJson, context: RevertContext): RevertResult {
  const name = context.footprint.router;
  if (name === undefined) return { problems: ["its record does not name its router"], notes: [] };
  const router = containerOf(context.ours, name);
  takeBackContainer(td, name, context);
  for (const c of td.containerDefinitions) {
    if (c.name === name) continue;
    const ours = containerOf(context.ours, c.name);
    const reference = containerOf(context.reference, c.name);
    // A container the pipeline added since holds nothing of the patch's.
    if (ours === undefined || reference === undefined) continue;
    setField(
      c,
      "logConfiguration",
      takeBack(c.logConfiguration, ours.logConfiguration, reference.logConfiguration),
    );
    setField(
      c,
      "dependsOn",
      takeBackEntries(c.dependsOn, ours.dependsOn, reference.dependsOn, (d) => d.containerName === name),
    );
  }
  if (containerOf(td, name) === undefined) {
    for (const c of td.containerDefinitions) {
      setField(
        c,
        "dependsOn",
        c.dependsOn?.filter((d) => d.containerName !== name),
      );
      if (c.dependsOn?.length === 0) delete c.dependsOn;
    }
  }
  const objects = [
    ...(router?.firelensConfiguration?.options?.["config-file-type"] === "s3"
      ? [router.firelensConfiguration.options["config-file-value"]]
      : []),
    ...((router?.environment as { name?: string; value?: string }[] | undefined) ?? [])
      .filter((e) => e.name?.startsWith(INIT_S3_VARIABLE) === true)
      .map((e) => e.value),
  ].filter((v): v is string => v !== undefined);
  return {
    problems: [],
    notes:
      objects.length === 0
        ? []
        : [
            `left in S3: ${objects.join(", ")}, which the router read: revisions that name them (the operator ` +
              "deregisters none) read them when a task starts; delete them once no task runs such a revision",
          ],
  };
}
