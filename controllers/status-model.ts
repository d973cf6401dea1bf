import { isSweepKey } from "./reconciler.ts";
import type { ResourceStatus } from "./status.ts";

/**
 * The JSON document `/status` serves, and what `get`, `describe` and the status page read. It extends what
 * `/status` served before (`phase`, and `resources` as `StatusStore` lists them) with fields only added, never
 * renamed: a client reading an older controller's document gets the new fields filled by `readStatusDocument`.
 * The fields added here are always present (absent values are `null`, lists are empty), so a client never guesses;
 * `StatusStore`'s own optional fields (generation, lastError, ...) are left out of the JSON when unset, as before.
 */
export interface StatusDocument {
  /** The controller's lifecycle phase: starting, syncing, ready, stopping, stopped or failed. */
  readonly phase: string;
  /** What `/readyz` answers: specs read, every key reconciled once and every readiness check met. */
  readonly ready: boolean;
  /** Why the controller is not ready (absent when it is): the phase or the readiness check that holds it. */
  readonly notReadyReason?: string;
  /** When the document was made (the controller's clock); ages on a page or table are counted from it. */
  readonly generatedAt: string | null;
  /** The specs, one resource each. */
  readonly resources: readonly ResourceView[];
  /**
   * Each kind's orphan sweep (`Kind/*`: what this owner made for specs that are gone), apart from the resources: a
   * sweep is no spec, and has no conditions of its own beyond whether it last ran cleanly.
   */
  readonly sweeps: readonly SweepStatus[];
  /** The ECS services and families the specs watch, with why each is or is not Degraded. */
  readonly services: readonly WatchedServiceStatus[];
  /** The controller's latest decisions, newest first. */
  readonly decisions: readonly DecisionRecord[];
  /** Leader election (issue 12); null when it is off. */
  readonly leadership: LeadershipStatus | null;
  /** Where the specs come from and which revision is applied (issue 15); null when not reported. */
  readonly source: SourceRevision | null;
  /**
   * Kind -> why the prune guard holds its deletions (an emptied or shrunk spec set); each also a DeletionHeld
   * condition on the kind's sweep `Kind/*`. Empty when nothing is held.
   */
  readonly deletionsHeld: Readonly<Record<string, string>>;
}

export type ConditionType = "Ready" | "Stalled" | "Degraded" | "DeletionHeld";
export type ConditionStatus = "True" | "False" | "Unknown";

/** A Kubernetes-style condition. */
export interface StatusCondition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  /** CamelCase, machine-readable. */
  readonly reason: string;
  /** What a person reads: the cause and, where there is one, what to do. */
  readonly message: string;
  /** ISO 8601; moves only when `status` changes. */
  readonly lastTransitionTime: string;
}

/** One managed resource (a spec): `StatusStore`'s fields, and what explains its state. */
export interface ResourceView extends Omit<ResourceStatus, "conditions"> {
  /** Ready and Stalled from reconciling; Degraded from the watched services, when it watches any. */
  readonly conditions: readonly StatusCondition[];
  /** What the resource points at (tasks, instances), or null when its kind has none or none was reported. */
  readonly targets: TargetSummary | null;
  /** The latest changes it made, newest first. */
  readonly changes: readonly ChangeRecord[];
  /** The watch keys it follows: which entries of `services` explain it. */
  readonly watches: readonly string[];
}

/** A kind's orphan sweep, as it last ran. */
export interface SweepStatus {
  readonly kind: string;
  /** `Kind/*`, as decisions name it. */
  readonly key: string;
  readonly lastRunTime: string | null;
  /** True when the last sweep read and removed what it had to; its error otherwise. */
  readonly ok: boolean;
  readonly lastError: string | null;
  /** Changes the last sweep made (orphans removed). */
  readonly lastChanges: number;
  /** The sweep's own conditions: `Ready`, and `DeletionHeld` while the prune guard holds its deletions. */
  readonly conditions: readonly StatusCondition[];
}

export interface TargetSummary {
  readonly count: number;
  /** At most the first 100, by id. */
  readonly items: readonly TargetRef[];
}

export interface TargetRef {
  /** A task id or an EC2 instance id. */
  readonly id: string;
  readonly address: string | null;
}

export interface ChangeRecord {
  readonly time: string;
  readonly action: "create" | "update" | "delete";
  readonly target: string;
  readonly detail: string | null;
}

export interface DecisionRecord {
  readonly time: string;
  /** `Kind/name`, or `Kind/*` for a kind's orphan sweep. */
  readonly resource: string;
  /** applied, drift-corrected, failed, waiting, orphan-removed, invalid-spec. */
  readonly decision: string;
  readonly message: string;
}

export interface LeadershipStatus {
  /** This replica's identity. */
  readonly identity: string;
  readonly leader: boolean;
  /** Who holds the lease, as this replica last read it. */
  readonly holder: string | null;
  readonly epoch: number | null;
  /** When the holder took its current term (ISO 8601, its wall clock). */
  readonly since: string | null;
}

/**
 * Where the specs come from, as the page and clients read it: the fields of the Git source's section
 * (`GitSourceSection`, served whole) that say which revision is applied and whether it is the newest.
 */
export interface SourceRevision {
  /** `git`. */
  readonly type: string;
  /** The repository (credentials removed) with its ref and path. */
  readonly location: string;
  /** The commit applied; null before the first good fetch. */
  readonly revision: string | null;
  /** When the applied revision was fetched. */
  readonly fetchedAt: string | null;
  /** `Ready`: True when the ref's newest commit is applied and the last fetch succeeded. */
  readonly conditions: readonly StatusCondition[];
  /** The ref's newest commit while it is refused (invalid specs). */
  readonly rejected: { readonly revision: string; readonly reason: string; readonly message: string } | null;
}

/** One watched ECS service (or task definition family) and why it is or is not Degraded. */
export interface WatchedServiceStatus {
  /** The watch key: `ecs:CLUSTER/service:NAME` or `ecs:CLUSTER/family:NAME`. */
  readonly key: string;
  readonly cluster: string;
  readonly service: string | null;
  readonly family: string | null;
  /** The resources that watch it. */
  readonly resources: readonly string[];
  /** Null for a family, and before the first read. */
  readonly desired: number | null;
  readonly running: number | null;
  readonly pending: number | null;
  readonly taskDefinition: string | null;
  /** Degraded. */
  readonly conditions: readonly StatusCondition[];
  /** Its running and starting tasks, by task id (at most 100). */
  readonly tasks: readonly TaskStatus[];
  /** Its latest stopped tasks, newest first. */
  readonly stoppedTasks: readonly StoppedTaskStatus[];
  /** Its latest events, newest first: DescribeServices' and EventBridge's. */
  readonly events: readonly ServiceEventStatus[];
  readonly observedAt: string | null;
  /** Why the last read failed, when it did. */
  readonly error: string | null;
}

export interface TaskStatus {
  readonly taskId: string;
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  readonly health: string | null;
  readonly address: string | null;
  readonly startedAt: string | null;
}

export interface StoppedTaskStatus {
  readonly taskId: string;
  readonly taskArn: string;
  readonly stoppedAt: string | null;
  readonly stopCode: string | null;
  readonly stoppedReason: string | null;
  /** CamelCase, as in conditions. */
  readonly reason: string;
  readonly explanation: string;
  /** True when the stop says something is wrong (not a scale-in, a deployment or a stop by hand). */
  readonly failure: boolean;
  readonly containers: readonly {
    readonly name: string;
    readonly exitCode: number | null;
    readonly reason: string | null;
  }[];
}

export interface ServiceEventStatus {
  readonly id: string;
  readonly createdAt: string;
  readonly message: string;
  /** steady-state, placement-failure, configuration-failure, start-impaired, deployment-failed, unhealthy, throttled, info. */
  readonly kind: string;
  readonly reason: string | null;
  readonly explanation: string | null;
  /** `service-events` (DescribeServices) or `eventbridge`. */
  readonly source: string;
}

export interface StatusParts {
  readonly phase: string;
  /** Kind -> why its deletions are held (`DeletionHolds.held()`). */
  readonly deletionsHeld?: Readonly<Record<string, string>>;
  /** Whether `/readyz` answers 200 (default: the phase is ready). */
  readonly ready?: boolean;
  /** Why not, when not ready. */
  readonly notReadyReason?: string | undefined;
  readonly now: Date;
  readonly resources: readonly ResourceStatus[];
  readonly services?: readonly WatchedServiceStatus[];
  readonly watches?: (resourceKey: string) => readonly string[];
  readonly targets?: (resourceKey: string) => TargetSummary | undefined;
  readonly changes?: (resourceKey: string) => readonly ChangeRecord[];
  readonly decisions?: readonly DecisionRecord[];
  readonly leadership?: LeadershipStatus | null;
  readonly source?: SourceRevision | null;
}

/**
 * Assembles the document from the controller's parts. A resource's Degraded condition comes from the services it
 * watches: True when any is Degraded (with that service's reason and message), False when all were read and none
 * is, Unknown before they were read; a resource that watches no service has none.
 */
export function buildStatusDocument(parts: StatusParts): StatusDocument {
  const services = [...(parts.services ?? [])].sort((a, b) => compare(a.key, b.key));
  const byKey = new Map(services.map((s) => [s.key, s]));
  const resources = parts.resources
    .filter((r) => !isSweepKey(r.key))
    .map((r): ResourceView => {
      const watches = [...(parts.watches?.(r.key) ?? [])].sort(compare);
      const degraded = degradedOf(
        watches.flatMap((w) => {
          const s = byKey.get(w);
          return s === undefined ? [] : [s];
        }),
      );
      const conditions: StatusCondition[] = [...r.conditions, ...(degraded !== undefined ? [degraded] : [])];
      conditions.sort((a, b) => compare(a.type, b.type));
      return {
        ...r,
        conditions,
        targets: parts.targets?.(r.key) ?? null,
        changes: parts.changes?.(r.key) ?? [],
        watches,
      };
    });
  const ready = parts.ready ?? parts.phase === "ready";
  return {
    phase: parts.phase,
    ready,
    ...(ready || parts.notReadyReason === undefined ? {} : { notReadyReason: parts.notReadyReason }),
    generatedAt: parts.now.toISOString(),
    resources,
    sweeps: parts.resources.filter((r) => isSweepKey(r.key)).map(sweepOf),
    services,
    decisions: parts.decisions ?? [],
    leadership: parts.leadership ?? null,
    source: parts.source ?? null,
    deletionsHeld: parts.deletionsHeld ?? {},
  };
}

/** A sweep's record in `StatusStore` (or an older document's resource list). */
type SweepRecord = Pick<
  ResourceStatus,
  "key" | "kind" | "lastReconcileTime" | "lastError" | "lastChanges"
> & {
  readonly conditions: readonly StatusCondition[];
};

function sweepOf(r: SweepRecord): SweepStatus {
  return {
    kind: r.kind,
    key: r.key,
    lastRunTime: r.lastReconcileTime ?? null,
    ok: r.conditions.some((c) => c.type === "Ready" && c.status === "True"),
    lastError: r.lastError ?? null,
    lastChanges: r.lastChanges,
    conditions: r.conditions,
  };
}

function degradedOf(services: readonly WatchedServiceStatus[]): StatusCondition | undefined {
  const conditions = services.flatMap((s) => s.conditions.filter((c) => c.type === "Degraded"));
  if (conditions.length === 0) return undefined;
  const worst = conditions.filter((c) => c.status === "True");
  if (worst.length > 0) {
    const first = worst[0] as StatusCondition;
    return {
      type: "Degraded",
      status: "True",
      reason: first.reason,
      message: worst.map((c) => c.message).join(" "),
      lastTransitionTime: worst.map((c) => c.lastTransitionTime).sort()[0] ?? first.lastTransitionTime,
    };
  }
  const unknown = conditions.find((c) => c.status === "Unknown");
  if (unknown !== undefined) return unknown;
  return {
    type: "Degraded",
    status: "False",
    reason: "Healthy",
    message: conditions.map((c) => c.message).join(" "),
    lastTransitionTime:
      conditions
        .map((c) => c.lastTransitionTime)
        .sort()
        .at(-1) ?? "",
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The document's problems that a reader cannot get past. */
export class StatusDocumentError extends Error {
  override readonly name = "StatusDocumentError";
}

/**
 * Reads a `/status` answer into a complete `StatusDocument`: fields an older controller does not serve get their
 * empty value; a value of the wrong type is an error naming the field.
 */
export function readStatusDocument(raw: unknown): StatusDocument {
  const doc = record(raw, "the document");
  const all = list(doc.resources, "resources").map((r, i) => readResource(r, `resources[${i}]`));
  // An older controller listed its sweeps among the resources.
  const resources = all.filter((r) => !isSweepKey(r.key));
  const sweeps = [
    ...optionalList(doc.sweeps, "sweeps").map((x, i) => readSweep(x, `sweeps[${i}]`)),
    ...all.filter((r) => isSweepKey(r.key)).map(sweepOf),
  ];
  const phase = str(doc.phase, "phase") ?? "unknown";
  const ready = bool(doc.ready, "ready") ?? phase === "ready";
  const notReadyReason = str(doc.notReadyReason, "notReadyReason");
  return {
    phase,
    ready,
    ...(ready || notReadyReason === undefined ? {} : { notReadyReason }),
    generatedAt: str(doc.generatedAt, "generatedAt") ?? null,
    resources,
    sweeps,
    services: optionalList(doc.services, "services").map((s, i) => readService(s, `services[${i}]`)),
    decisions: optionalList(doc.decisions, "decisions").map((d, i) => {
      const r = record(d, `decisions[${i}]`);
      return {
        time: str(r.time, `decisions[${i}].time`) ?? "",
        resource: str(r.resource, `decisions[${i}].resource`) ?? "",
        decision: str(r.decision, `decisions[${i}].decision`) ?? "",
        message: str(r.message, `decisions[${i}].message`) ?? "",
      };
    }),
    leadership:
      doc.leadership == null ? null : (record(doc.leadership, "leadership") as unknown as LeadershipStatus),
    source: doc.source == null ? null : readSource(doc.source, "source"),
    deletionsHeld: readHolds(doc.deletionsHeld),
  };
}

function readResource(raw: unknown, at: string): ResourceView {
  const r = record(raw, at);
  const key = str(r.key, `${at}.key`) ?? "";
  const slash = key.indexOf("/");
  return {
    key,
    kind: str(r.kind, `${at}.kind`) ?? key.slice(0, Math.max(0, slash)),
    name: str(r.name, `${at}.name`) ?? key.slice(slash + 1),
    generation: str(r.generation, `${at}.generation`),
    observedGeneration: str(r.observedGeneration, `${at}.observedGeneration`),
    conditions: optionalList(r.conditions, `${at}.conditions`).map((c, i) =>
      readCondition(c, `${at}.conditions[${i}]`),
    ),
    lastError: str(r.lastError, `${at}.lastError`),
    lastReconcileTime: str(r.lastReconcileTime, `${at}.lastReconcileTime`),
    lastChanges: typeof r.lastChanges === "number" ? r.lastChanges : 0,
    targets: r.targets == null ? null : readTargets(r.targets, `${at}.targets`),
    changes: optionalList(r.changes, `${at}.changes`).map((c, i) => {
      const x = record(c, `${at}.changes[${i}]`);
      return {
        time: str(x.time, `${at}.changes[${i}].time`) ?? "",
        action: (str(x.action, `${at}.changes[${i}].action`) ?? "update") as ChangeRecord["action"],
        target: str(x.target, `${at}.changes[${i}].target`) ?? "",
        detail: str(x.detail, `${at}.changes[${i}].detail`) ?? null,
      };
    }),
    watches: optionalList(r.watches, `${at}.watches`).map((w, i) => str(w, `${at}.watches[${i}]`) ?? ""),
  };
}

function readSource(raw: unknown, at: string): SourceRevision {
  const r = record(raw, at);
  const rejected = r.rejected == null ? undefined : record(r.rejected, `${at}.rejected`);
  return {
    type: str(r.type, `${at}.type`) ?? "",
    location: str(r.location, `${at}.location`) ?? "",
    revision: str(r.revision, `${at}.revision`) ?? null,
    fetchedAt: str(r.fetchedAt, `${at}.fetchedAt`) ?? null,
    conditions: optionalList(r.conditions, `${at}.conditions`).map((c, i) =>
      readCondition(c, `${at}.conditions[${i}]`),
    ),
    rejected:
      rejected === undefined
        ? null
        : {
            revision: str(rejected.revision, `${at}.rejected.revision`) ?? "",
            reason: str(rejected.reason, `${at}.rejected.reason`) ?? "",
            message: str(rejected.message, `${at}.rejected.message`) ?? "",
          },
  };
}

function readSweep(raw: unknown, at: string): SweepStatus {
  const r = record(raw, at);
  const key = str(r.key, `${at}.key`) ?? "";
  return {
    kind: str(r.kind, `${at}.kind`) ?? key.slice(0, Math.max(0, key.indexOf("/"))),
    key,
    lastRunTime: str(r.lastRunTime, `${at}.lastRunTime`) ?? null,
    ok: r.ok === true,
    lastError: str(r.lastError, `${at}.lastError`) ?? null,
    lastChanges: typeof r.lastChanges === "number" ? r.lastChanges : 0,
    conditions: optionalList(r.conditions, `${at}.conditions`).map((c, i) =>
      readCondition(c, `${at}.conditions[${i}]`),
    ),
  };
}

function readTargets(raw: unknown, at: string): TargetSummary {
  const t = record(raw, at);
  return {
    count: typeof t.count === "number" ? t.count : 0,
    items: optionalList(t.items, `${at}.items`).map((x, i) => {
      const item = record(x, `${at}.items[${i}]`);
      return {
        id: str(item.id, `${at}.items[${i}].id`) ?? "",
        address: str(item.address, `${at}.items[${i}].address`) ?? null,
      };
    }),
  };
}

function readCondition(raw: unknown, at: string): StatusCondition {
  const c = record(raw, at);
  return {
    type: (str(c.type, `${at}.type`) ?? "Ready") as ConditionType,
    status: (str(c.status, `${at}.status`) ?? "Unknown") as ConditionStatus,
    reason: str(c.reason, `${at}.reason`) ?? "",
    message: str(c.message, `${at}.message`) ?? "",
    lastTransitionTime: str(c.lastTransitionTime, `${at}.lastTransitionTime`) ?? "",
  };
}

function readService(raw: unknown, at: string): WatchedServiceStatus {
  // Written by this project's controller: read as it is, checked only for the fields every reader needs.
  const s = record(raw, at);
  str(s.key, `${at}.key`);
  return {
    ...(s as unknown as WatchedServiceStatus),
    conditions: optionalList(s.conditions, `${at}.conditions`).map((c, i) =>
      readCondition(c, `${at}.conditions[${i}]`),
    ),
    tasks: optionalList(s.tasks, `${at}.tasks`) as TaskStatus[],
    stoppedTasks: optionalList(s.stoppedTasks, `${at}.stoppedTasks`) as StoppedTaskStatus[],
    events: optionalList(s.events, `${at}.events`) as ServiceEventStatus[],
    resources: optionalList(s.resources, `${at}.resources`) as string[],
  };
}

function record(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new StatusDocumentError(`${at} is not an object`);
  }
  return v as Record<string, unknown>;
}

function list(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new StatusDocumentError(`${at} is not a list`);
  return v;
}

function optionalList(v: unknown, at: string): unknown[] {
  return v == null ? [] : list(v, at);
}

/** `deletionsHeld`: kind -> reason; absent from an older controller. */
function readHolds(v: unknown): Record<string, string> {
  if (v == null) return {};
  const held = record(v, "deletionsHeld");
  return Object.fromEntries(
    Object.entries(held).map(([kind, why]) => [kind, str(why, `deletionsHeld.${kind}`) ?? ""]),
  );
}

function bool(v: unknown, at: string): boolean | undefined {
  if (v == null) return undefined;
  if (typeof v !== "boolean") throw new StatusDocumentError(`${at} is not true or false`);
  return v;
}

function str(v: unknown, at: string): string | undefined {
  if (v == null) return undefined;
  if (typeof v !== "string") throw new StatusDocumentError(`${at} is not a string`);
  return v;
}
