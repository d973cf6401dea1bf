import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { comparable, type TaskDefinitionJson } from "../task-definition/task-definition.ts";
import type { SidecarVolumeSpec } from "./sidecar-volume-kind.ts";
import { applySidecarVolume } from "./sidecar-volume-patch.ts";
import { revertSidecarVolume, sidecarVolumeFootprint } from "./sidecar-volume-revert.ts";

const base = JSON.parse(
  readFileSync("test/fixtures/task-definitions/log-batch.base.json", "utf8"),
) as TaskDefinitionJson;
base.containerDefinitions.push({ name: "report", image: "report:1" });

const spec = (consumer: string, volume?: string): SidecarVolumeSpec => ({
  family: "log-batch",
  source: { container: "fluentd", ...(volume !== undefined ? { volume, path: "/fluentd/log" } : {}) },
  consumers: [{ container: consumer, readOnly: true, dependsOn: "START" }],
});
const patched = (...specs: SidecarVolumeSpec[]) => {
  const td = structuredClone(base);
  for (const s of specs) applySidecarVolume(td, s);
  return td;
};

describe("revertSidecarVolume", () => {
  it("takes back the volume, the source's mount and the consumers' volumesFrom and dependsOn", () => {
    const one = spec("batch", "fluentd-log");
    const ours = patched(one);
    expect(ours.volumes).toEqual([{ name: "fluentd-log" }]);
    const td = structuredClone(ours);
    revertSidecarVolume(td, { reference: base, ours, footprint: sidecarVolumeFootprint(one) });
    expect(comparable(td)).toBe(comparable(base));
  });

  it("of one of two specs sharing a source, then applying the other again, leaves the other's part", () => {
    const [a, b] = [spec("batch"), spec("report")];
    const ours = patched(a, b);
    const td = structuredClone(ours);
    revertSidecarVolume(td, { reference: base, ours, footprint: sidecarVolumeFootprint(a) });
    applySidecarVolume(td, b);
    expect(comparable(td)).toBe(comparable(patched(b)));
  });

  it("refuses a record that does not name the source", () => {
    const ours = patched(spec("batch"));
    expect(
      revertSidecarVolume(structuredClone(ours), { reference: base, ours, footprint: {} }).problems,
    ).toEqual(["its record does not name its source container"]);
  });
});
