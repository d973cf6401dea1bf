import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createAwsClients } from "../controllers/aws/clients.ts";
import type { KindEntry } from "../controllers/kind-entry.ts";
import type { KindDefinition } from "../controllers/spec/document.ts";
import { buildReconcilers, KINDS, kindParts, sweepingKinds, taskDefinitionPatches } from "./kinds.ts";

const ROOT = join(import.meta.dirname, "..");

function isKindDefinition(v: unknown): v is KindDefinition {
  const d = v as Partial<KindDefinition> | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.kind === "string" &&
    typeof d.description === "string" &&
    typeof d.specSchema === "object"
  );
}

function isKindEntry(v: unknown): v is KindEntry {
  const e = v as Partial<KindEntry> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    isKindDefinition(e.definition) &&
    typeof e.reconciler === "function"
  );
}

/** Every exported kind definition and entry under reconcilers/, with the file that exports it. */
async function exportedUnderReconcilers(): Promise<{ file: string; value: unknown }[]> {
  const out: { file: string; value: unknown }[] = [];
  const dir = join(ROOT, "reconcilers");
  for (const entry of await readdir(dir, { recursive: true })) {
    if (!entry.endsWith(".ts") || entry.endsWith(".test.ts")) continue;
    const module = (await import(pathToFileURL(join(dir, entry)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) out.push({ file: relative(ROOT, join(dir, entry)), value });
  }
  return out;
}

describe("the kind registry", () => {
  it("lists every kind defined under reconcilers/, each once, by its entry", async () => {
    const exported = await exportedUnderReconcilers();
    const registered = new Set<unknown>(KINDS);
    const definitions = new Set<unknown>(KINDS.map((e) => e.definition));
    const missing = [
      ...exported
        .filter((x) => isKindEntry(x.value) && !registered.has(x.value))
        .map((x) => `${(x.value as KindEntry).definition.kind} (entry in ${x.file})`),
      ...exported
        .filter((x) => isKindDefinition(x.value) && !definitions.has(x.value))
        .map(
          (x) => `${(x.value as KindDefinition).kind} (definition in ${x.file}; export an entry and list it)`,
        ),
    ];
    expect(missing, "add the kind's entry to KINDS in cmd/kinds.ts").toEqual([]);
    const names = KINDS.map((e) => e.definition.kind);
    expect(new Set(names).size).toBe(names.length);
  });

  it("says which kinds sweep, as their reconcilers do, and builds each reconciler for its own kind", () => {
    // Built offline: constructing clients and reconcilers calls no AWS API.
    const clients = createAwsClients({ region: "us-east-1" });
    try {
      const reconcilers = buildReconcilers(kindParts(clients));
      expect(reconcilers.map((r) => r.kind)).toEqual(KINDS.map((e) => e.definition.kind));
      expect(reconcilers.filter((r) => r.planOrphans !== undefined).map((r) => r.kind)).toEqual(
        sweepingKinds(),
      );
    } finally {
      clients.destroy();
    }
  });

  it("gives the task-definition engine one patch per patching kind", () => {
    expect(taskDefinitionPatches().map((p) => p.kind)).toEqual(["LogRouter", "SidecarVolume"]);
  });

  it("builds the parts kinds share once: both Cloud Map kinds over one adapter, both patching kinds over one engine", () => {
    const clients = createAwsClients({ region: "us-east-1" });
    try {
      const parts = kindParts(clients);
      const built: object[] = [];
      const counting = {
        ...parts,
        clients,
        shared: <T>(b: (c: typeof clients) => T): T => {
          const v = parts.shared(b);
          built.push(v as object);
          return v;
        },
      };
      buildReconcilers(counting);
      // Cloud Map's pair and the engine, each asked for twice, and LogAlarm's clients, asked for once: each built once.
      expect(built.length).toBe(5);
      expect(new Set(built).size).toBe(3);
    } finally {
      clients.destroy();
    }
  });
});
