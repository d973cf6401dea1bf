import { patchingKindEntry } from "../task-definition/patching-kind.ts";
import type { TaskDefinitionPatch } from "../task-definition/task-definition-patch.ts";
import { SidecarVolumeKind, type SidecarVolumeSpec } from "./sidecar-volume-kind.ts";
import { applySidecarVolume } from "./sidecar-volume-patch.ts";
import { revertSidecarVolume, sidecarVolumeFootprint } from "./sidecar-volume-revert.ts";

/** SidecarVolume's part of a family's revision: the source's volume, the consumers' volumesFrom and dependsOn. */
export const sidecarVolumePatch: TaskDefinitionPatch<SidecarVolumeSpec> = {
  kind: SidecarVolumeKind.kind,
  order: 20,
  family: (spec) => spec.family,
  rolloutServices: (spec) => spec.rollout?.services ?? [],
  prune: (spec) => spec.prune === true,
  footprint: sidecarVolumeFootprint,
  apply: (td, spec) => ({ issues: applySidecarVolume(td, spec) }),
  revert: revertSidecarVolume,
};

export const sidecarVolumeEntry = patchingKindEntry({
  definition: SidecarVolumeKind,
  patch: sidecarVolumePatch,
});
