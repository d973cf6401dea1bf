import type { RevertResult } from "../task-definition/task-definition-patch.ts";
import type { TaskDefinitionJson } from "../task-definition/task-definition.ts";
import { containerOf, setField, takeBackEntries, type RevertContext } from "../task-definition/take-back.ts";
import type { SidecarVolumeSpec } from "./sidecar-volume-kind.ts";

/** What removing a SidecarVolume's patch needs once the spec is gone: its source container and volume. */
export function sidecarVolumeFootprint(spec: SidecarVolumeSpec): Record<string, string> {
  return {
    source: spec.source.container,
    ...(spec.source.volume !== undefined ? { volume: spec.source.volume } : {}),
  };
}

/**
 * Removes a SidecarVolume's patch: every container's `volumesFrom` and `dependsOn` entries naming the source, the
 * source's mount of the volume and the task's volume go back to the pipeline's (removed when the operator added them).
 * Another SidecarVolume spec still sharing the same source is applied again after this, so it keeps its part.
 */
export function revertSidecarVolume(td: TaskDefinitionJson, context: RevertContext): RevertResult {
  const { source, volume } = context.footprint;
  if (source === undefined) return { problems: ["its record does not name its source container"], notes: [] };
  for (const c of td.containerDefinitions) {
    const ours = containerOf(context.ours, c.name);
    const reference = containerOf(context.reference, c.name);
    if (ours === undefined || reference === undefined) continue;
    setField(
      c,
      "volumesFrom",
      takeBackEntries(
        c.volumesFrom,
        ours.volumesFrom,
        reference.volumesFrom,
        (v) => v.sourceContainer === source,
      ),
    );
    setField(
      c,
      "dependsOn",
      takeBackEntries(c.dependsOn, ours.dependsOn, reference.dependsOn, (d) => d.containerName === source),
    );
    if (volume !== undefined && c.name === source) {
      setField(
        c,
        "mountPoints",
        takeBackEntries(
          c.mountPoints,
          ours.mountPoints,
          reference.mountPoints,
          (m) => m.sourceVolume === volume,
        ),
      );
    }
  }
  if (volume !== undefined) {
    setField(
      td,
      "volumes",
      takeBackEntries(td.volumes, context.ours.volumes, context.reference.volumes, (v) => v.name === volume),
    );
  }
  return { problems: [], notes: [] };
}
