import {
  recordKey,
  type ChangeStatus,
  type HostedZone,
  type RecordChange,
  type RecordSet,
  type Route53Api,
} from "../reconcilers/weighted-record-set/route53-api.ts";

/**
 * Route 53 in memory, behind the reconciler's narrow `Route53Api`, holding the rules of ChangeResourceRecordSets that
 * the emulator does not (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html):
 * a batch is validated whole and "either makes all or none of the changes"; a DELETE must name a record that exists
 * with "all the same values that you specified when you created it"; a CREATE of a record that exists fails. Every
 * call is counted as `route53:Operation`. For unit tests of code that must be correct against the real service.
 */
export class StrictRoute53 implements Route53Api {
  readonly calls = new Map<string, number>();
  private readonly zones: HostedZone[] = [];
  private readonly records = new Map<string, RecordSet[]>();
  private changes = 0;

  /** A zone; its id. */
  addZone(name: string, privateZone = true): string {
    const id = `Z${String(this.zones.length + 1).padStart(4, "0")}STRICT`;
    this.zones.push({ id, name, privateZone });
    this.records.set(id, []);
    return id;
  }

  resetCounts(): void {
    this.calls.clear();
  }

  async zonesByName(name: string): Promise<HostedZone[]> {
    this.count("ListHostedZonesByName");
    return this.zones.filter((z) => z.name === name);
  }

  async zoneById(id: string): Promise<HostedZone | undefined> {
    this.count("GetHostedZone");
    return this.zones.find((z) => z.id === id);
  }

  async listZones(): Promise<HostedZone[]> {
    this.count("ListHostedZones");
    return [...this.zones];
  }

  async listRecordSets(zoneId: string, name?: string): Promise<RecordSet[]> {
    this.count("ListResourceRecordSets");
    const all = this.records.get(zoneId) ?? [];
    return all
      .filter((r) => name === undefined || r.name === name || r.name.endsWith(`.${name}`))
      .map((r) => ({ ...r }))
      .sort((a, b) => (listOrder(a) < listOrder(b) ? -1 : 1));
  }

  async changeRecordSets(zoneId: string, changes: readonly RecordChange[]): Promise<string | undefined> {
    this.count("ChangeResourceRecordSets");
    const zone = this.records.get(zoneId);
    if (zone === undefined) throw new Error(`NoSuchHostedZone: ${zoneId}`);
    const next = new Map(zone.map((r) => [recordKey(r), r]));
    for (const { action, record } of changes) {
      const key = recordKey(record);
      const current = next.get(key);
      if (action === "DELETE") {
        if (current === undefined || comparable(current) !== comparable(record)) {
          throw new Error(`InvalidChangeBatch: DELETE of ${key} does not match the current record`);
        }
        next.delete(key);
      } else {
        if (action === "CREATE" && current !== undefined) {
          throw new Error(`InvalidChangeBatch: CREATE of ${key}, which already exists`);
        }
        next.set(key, record);
      }
    }
    this.records.set(zoneId, [...next.values()]);
    return `C${++this.changes}`;
  }

  /** Every change is on every name server at once here. */
  async getChange(): Promise<ChangeStatus | undefined> {
    this.count("GetChange");
    return "INSYNC";
  }

  private count(operation: string): void {
    const key = `route53:${operation}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }
}

/** Route 53 lists record sets by name with its labels reversed, then type, then set identifier. */
function listOrder(r: RecordSet): string {
  return [r.name.split(".").reverse().join("."), r.type, r.setIdentifier ?? ""].join("\u0000");
}

/** Every field a DELETE is compared on, in one order. */
function comparable(r: RecordSet): string {
  const fields = Object.entries(r).filter(([, v]) => v !== undefined);
  return JSON.stringify(fields.sort(([a], [b]) => (a < b ? -1 : 1)));
}
