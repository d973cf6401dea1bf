/**
 * The narrow view of Route 53 the WeightedRecordSet reconciler needs. Implemented by `AwsRoute53Api`; planners never
 * see an SDK type. "Not found" is `undefined`; other failures are classified `AwsError`s.
 */
export interface Route53Api {
  /** Every hosted zone with exactly this name (public and private). */
  zonesByName(name: string, signal?: AbortSignal): Promise<HostedZone[]>;
  zoneById(id: string, signal?: AbortSignal): Promise<HostedZone | undefined>;
  /** Every hosted zone of the account. */
  listZones(signal?: AbortSignal): Promise<HostedZone[]>;
  /**
   * Every record set whose name is `name` or lies below it, following every page of ListResourceRecordSets.
   * Without `name`, the whole zone.
   */
  listRecordSets(zoneId: string, name?: string, signal?: AbortSignal): Promise<RecordSet[]>;
  /**
   * One ChangeResourceRecordSets call: every change is applied, or none. Resolves with the change's id (its
   * ChangeInfo), which `getChange` follows until the change reaches every Route 53 name server.
   */
  changeRecordSets(
    zoneId: string,
    changes: readonly RecordChange[],
    signal?: AbortSignal,
  ): Promise<string | undefined>;
  /** GetChange: PENDING until every name server answers with the change, then INSYNC; undefined when unknown. */
  getChange(changeId: string, signal?: AbortSignal): Promise<ChangeStatus | undefined>;
}

export type ChangeStatus = "PENDING" | "INSYNC";

export interface HostedZone {
  /** Without the `/hostedzone/` prefix. */
  readonly id: string;
  /** Lower case, no trailing dot. */
  readonly name: string;
  readonly privateZone: boolean;
}

export interface AliasTarget {
  readonly hostedZoneId: string;
  /** Lower case, no trailing dot. */
  readonly dnsName: string;
  readonly evaluateTargetHealth: boolean;
}

/**
 * One resource record set as Route 53 holds it. Every field Route 53 compares on DELETE is kept, so a DELETE built
 * from an observed record matches it exactly.
 */
export interface RecordSet {
  /** Lower case, no trailing dot, `*` unescaped. */
  readonly name: string;
  readonly type: string;
  readonly setIdentifier?: string | undefined;
  readonly weight?: number | undefined;
  readonly ttl?: number | undefined;
  /** In Route 53's order; TXT values keep their quotes. */
  readonly values?: readonly string[] | undefined;
  readonly alias?: AliasTarget | undefined;
  readonly healthCheckId?: string | undefined;
  /** Routing fields this operator never writes (failover, geolocation, ...): present means the record is not ours. */
  readonly otherRouting?: boolean | undefined;
}

export type RecordAction = "CREATE" | "UPSERT" | "DELETE";

export interface RecordChange {
  readonly action: RecordAction;
  readonly record: RecordSet;
}

/** `name|type|setIdentifier`: what identifies a record set in a zone. */
export function recordKey(r: Pick<RecordSet, "name" | "type" | "setIdentifier">): string {
  return `${r.name}|${r.type}|${r.setIdentifier ?? ""}`;
}

/**
 * Whether a record's name is `name` itself or a name below it (`s0.fluentd.logs.internal` for `fluentd.logs.internal`,
 * not `fluentd2.logs.internal`). Route 53 lists names by their labels reversed, so these names also come one after
 * another from `name` on. Both names lower case, without a trailing dot.
 */
export function atOrBelow(recordName: string, name: string): boolean {
  return recordName === name || recordName.endsWith(`.${name}`);
}
