/** IAM policy documents, as `iam-policy` prints them and each kind contributes to them. */
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

/** What a kind's statements depend on besides its specs. */
export interface IamContext {
  /** `*` when unknown: ARNs then match any account. */
  readonly account: string;
  /** `*` when unknown. */
  readonly region: string;
  /** `--allow-prune`: grant every delete the kind's orphan sweep may need, whatever the specs say now. */
  readonly allowPrune: boolean;
  /**
   * The kind's orphan sweep runs: it runs on every pass whatever the specs hold, so its reads are needed even with no
   * spec of the kind.
   */
  readonly sweeping: boolean;
  /**
   * `run --leader-elect`: every Route 53 change batch also carries the lease's fence records
   * (reconcilers/weighted-record-set/route53-fence.ts), so the change statement must admit their names. The lease's
   * name when known; undefined admits the fence of any lease.
   */
  readonly fencedLease?: { readonly resourceName: string | undefined } | undefined;
  /**
   * The Route 53 hosted zone ids of Cloud Map namespaces that exist, by lower-case namespace name without a trailing
   * dot; read by `iam-policy --lookup`, absent offline. Cloud Map writes instance records there as the caller.
   */
  readonly namespaceZones?: ReadonlyMap<string, readonly string[]> | undefined;
}

/** `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE` in the context's account and region (or another region). */
export function arnOf(ctx: IamContext, service: string, resource: string, region = ctx.region): string {
  return `arn:aws:${service}:${region}:${ctx.account}:${resource}`;
}

/** Each value once, sorted: statements are compared as text, so their lists are canonical. */
export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * One statement per Sid, in the order Sids first appear. Kinds that need the same permission (the ECS task reads of
 * CloudMapService and WeightedRecordSet, the task definition writes of LogRouter and SidecarVolume) each contribute
 * it under the same Sid, with their own resources and condition values; merged, the statement grants the union.
 * Two contributions of one Sid must have the same shape (one resource string, or lists; the same condition keys):
 * anything else is a mistake in a kind's statements, not something to guess at.
 */
export function mergeStatements(statements: readonly PolicyStatement[]): PolicyStatement[] {
  const bySid = new Map<string, PolicyStatement>();
  for (const s of statements) {
    const seen = bySid.get(s.Sid);
    bySid.set(s.Sid, seen === undefined ? s : mergeTwo(seen, s));
  }
  return [...bySid.values()].map((s) => ({ ...s, Action: sortedUnique(s.Action) }));
}

function mergeTwo(a: PolicyStatement, b: PolicyStatement): PolicyStatement {
  const mismatch = (what: string) =>
    new Error(`IAM statement ${a.Sid} is contributed twice with different ${what}`);
  let Resource: string | string[];
  if (typeof a.Resource === "string" || typeof b.Resource === "string") {
    if (a.Resource !== b.Resource) throw mismatch("resources");
    Resource = a.Resource;
  } else {
    Resource = sortedUnique([...a.Resource, ...b.Resource]);
  }
  if ((a.Condition === undefined) !== (b.Condition === undefined)) throw mismatch("conditions");
  let Condition: PolicyStatement["Condition"];
  if (a.Condition !== undefined && b.Condition !== undefined) {
    const keys = (c: NonNullable<PolicyStatement["Condition"]>) =>
      Object.entries(c)
        .flatMap(([op, kv]) => Object.keys(kv).map((k) => `${op} ${k}`))
        .sort()
        .join(",");
    if (keys(a.Condition) !== keys(b.Condition)) throw mismatch("condition keys");
    Condition = {};
    for (const [op, kv] of Object.entries(a.Condition)) {
      const merged: Record<string, string | string[]> = {};
      for (const [key, value] of Object.entries(kv)) {
        const other = b.Condition[op]?.[key] ?? value;
        merged[key] =
          typeof value === "string" && value === other
            ? value
            : sortedUnique([...[value].flat(), ...[other].flat()]);
      }
      Condition[op] = merged;
    }
  }
  return {
    Sid: a.Sid,
    Effect: "Allow",
    Action: [...a.Action, ...b.Action],
    Resource,
    ...(Condition !== undefined ? { Condition } : {}),
  };
}
