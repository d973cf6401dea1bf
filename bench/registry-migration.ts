import { FakeAws } from "./fake-aws.ts";
import { measuredFakeApply } from "./measure.ts";
import { weightedSpec } from "./specs.ts";
import { legacyTwinRecord, parseRegistry } from "../reconcilers/weighted-record-set/registry.ts";

/**
 * The one-time cost of replacing the registry twins of the format before issue 16 (one TXT per record) with one
 * registry record per name: a cold apply on the in-process fake, the zone then rewritten to the twin format (lists
 * dropped, a twin beside every record), and the pass that migrates it, then the next one (which must write nothing).
 * Run alone: `node bench/registry-migration.ts [N ...]` (default 1,000 and 10,000); not part of `npm run bench`.
 */
export interface MigrationFigures {
  readonly targets: number;
  /** Record sets at the name and below in the twin format, and after the migration. */
  readonly recordSetsBefore: number;
  readonly recordSetsAfter: number;
  readonly migrationChangeBatches: number;
  readonly migrationListPages: number;
  readonly failures: number;
  readonly nextPassWrites: number;
  readonly nextPassListPages: number;
}

export async function registryMigrationOnFake(targets: number): Promise<MigrationFigures> {
  const fake = new FakeAws();
  const zoneId = fake.addZone("bench.internal");
  fake.addGroup("asg", targets);
  const specs = weightedSpec("nodes", "bench.internal", "nodes.bench.internal", "asg");
  await measuredFakeApply(fake, specs);
  const records = fake.state.records[zoneId] ?? [];
  const resource = records.map(parseRegistry).find((e) => e !== undefined)?.resource ?? "";
  fake.state.records[zoneId] = records
    .filter((r) => parseRegistry(r) === undefined)
    .flatMap((r) =>
      r.type === "A" ? [r, legacyTwinRecord(r.name, "A", r.setIdentifier!, "bench", resource)] : [r],
    );
  const recordSetsBefore = fake.state.records[zoneId].length;
  const migration = await measuredFakeApply(fake, specs);
  const recordSetsAfter = (fake.state.records[zoneId] ?? []).length;
  const next = await measuredFakeApply(fake, specs);
  return {
    targets,
    recordSetsBefore,
    recordSetsAfter,
    migrationChangeBatches: migration.calls["route53:ChangeResourceRecordSets"] ?? 0,
    migrationListPages: migration.calls["route53:ListResourceRecordSets"] ?? 0,
    failures: migration.failures + next.failures,
    nextPassWrites: next.writes,
    nextPassListPages: next.calls["route53:ListResourceRecordSets"] ?? 0,
  };
}

if (import.meta.main) {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length > 0 ? sizes : [1000, 10_000]) {
    process.stdout.write(JSON.stringify(await registryMigrationOnFake(n)) + "\n");
  }
}
