import type { PatchIssue } from "../task-definition/patch-issue.ts";
import { containerNames, type TaskDefinitionJson } from "../task-definition/task-definition.ts";
import { startOrderAdvice, type SidecarVolumeSpec } from "./sidecar-volume-kind.ts";

/**
 * Shares the source container's volumes with each consumer (`volumesFrom`) and orders their start (`dependsOn`),
 * changing `td` (a working copy) in place. Only the entries naming the source are set: other volumesFrom and
 * dependsOn entries, and every other field, are kept.
 */
export function applySidecarVolume(td: TaskDefinitionJson, spec: SidecarVolumeSpec): PatchIssue[] {
  const issues: PatchIssue[] = [];
  const sourceName = spec.source.container;
  const source = td.containerDefinitions.find((c) => c.name === sourceName);
  if (source === undefined) {
    issues.push({
      path: ["source", "container"],
      message: `family ${td.family} has no container "${sourceName}" (it has ${containerNames(td)})`,
      severity: "error",
    });
  }
  const { volume, path } = spec.source;
  if (source !== undefined && volume !== undefined && path !== undefined) {
    const volumes = td.volumes ?? [];
    if (!volumes.some((v) => v.name === volume)) volumes.push({ name: volume });
    td.volumes = volumes;
    const mounts = (source.mountPoints ?? []).filter((m) => m.sourceVolume !== volume);
    const existing = source.mountPoints?.findIndex((m) => m.sourceVolume === volume) ?? -1;
    const mount = { sourceVolume: volume, containerPath: path, readOnly: false };
    mounts.splice(existing >= 0 ? existing : mounts.length, 0, mount);
    source.mountPoints = mounts;
  }
  spec.consumers.forEach((consumer, i) => {
    const c = td.containerDefinitions.find((x) => x.name === consumer.container);
    if (c === undefined) {
      issues.push({
        path: ["consumers", i, "container"],
        message: `family ${td.family} has no container "${consumer.container}" (it has ${containerNames(td)})`,
        severity: "error",
      });
      return;
    }
    c.volumesFrom = upsert(c.volumesFrom ?? [], (v) => v.sourceContainer === sourceName, {
      readOnly: consumer.readOnly ?? false,
      sourceContainer: sourceName,
    });
    const condition = consumer.dependsOn ?? "START";
    const others = (c.dependsOn ?? []).filter((d) => d.containerName !== sourceName);
    c.dependsOn =
      condition === "none"
        ? others
        : upsert(c.dependsOn ?? [], (d) => d.containerName === sourceName, {
            containerName: sourceName,
            condition,
          });
    if (c.dependsOn.length === 0) delete c.dependsOn;
    if (condition === "HEALTHY" && source !== undefined && source.healthCheck === undefined) {
      issues.push({
        path: ["consumers", i, "dependsOn"],
        message:
          `dependsOn HEALTHY needs a healthCheck on "${sourceName}", which has none: ECS would never start ` +
          `"${consumer.container}". Add a healthCheck to "${sourceName}" or use START`,
        severity: "error",
      });
    }
    if (condition === "START") {
      issues.push({
        path: ["consumers", i, "dependsOn"],
        message: startOrderAdvice(sourceName, consumer.container),
        severity: "warning",
      });
    }
  });
  return issues;
}

/** Replaces the first entry matching `match` in place (keeping list order stable), or appends `value`. */
function upsert<T>(list: T[], match: (x: T) => boolean, value: T): T[] {
  const i = list.findIndex(match);
  const rest = list.filter((x, j) => j === i || !match(x));
  if (i < 0) return [...rest, value];
  return rest.map((x) => (match(x) ? value : x));
}
