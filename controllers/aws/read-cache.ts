import { AsyncLocalStorage } from "node:async_hooks";
import { systemClock, type Clock } from "../clock.ts";
import { clusterName, parseWatchKey } from "../informers.ts";
import { anyAttemptSent, isReadOperation, type AwsService, type ClientCacheHook } from "./clients.ts";

/** One AWS request as the cache sees it: the service's IAM prefix, the operation and the command's input. */
export interface AwsRequest {
  readonly service: AwsService;
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/**
 * The reads that carry watched state: ECS tasks, Auto Scaling groups and their instances, hosted zones and their
 * records, Cloud Map namespaces, services, instances and ownership tags; and the tagging API's listing of this
 * owner's task definition revisions, which two sweeps of a tick share. Everything else (Cloud Map's GetOperation
 * and Route 53's GetChange, which are polled for progress; leases; logs, alarms, task definitions themselves, S3)
 * always goes to AWS.
 */
const CACHED: Readonly<Record<string, ReadonlySet<string>>> = {
  ecs: new Set(["ListTasks", "DescribeTasks", "DescribeContainerInstances"]),
  ec2: new Set(["DescribeInstances"]),
  autoscaling: new Set(["DescribeAutoScalingGroups", "DescribeLifecycleHooks"]),
  route53: new Set(["ListHostedZonesByName", "GetHostedZone", "ListHostedZones", "ListResourceRecordSets"]),
  servicediscovery: new Set([
    "ListNamespaces",
    "ListServices",
    "ListInstances",
    "GetInstancesHealthStatus",
    "ListTagsForResource",
  ]),
  // This owner's task definition revisions by tag: one listing a tick serves the LogRouter and SidecarVolume
  // sweeps, which ask the same question (on moto each listing costs about 0.8 s of the emulator's one thread).
  tag: new Set(["GetResources"]),
};

/**
 * The services whose reads are the targets a plan follows (tasks, instances, their addresses), not the state it
 * writes: inside `live()` they are still answered from the tick. A write's precondition is the state of what it
 * writes (a Cloud Map instance, a record); a target a tick old is what the interval already allows (events wake
 * sooner), and a task that stopped since is deregistered by the next tick.
 */
const TARGETS: ReadonlySet<string> = new Set(["ecs", "ec2", "autoscaling"]);

/**
 * Writes of task definitions and their tags: they change no cached ECS read (tasks, container instances), only the
 * tagging API's listing of revisions by tag.
 */
const TASK_DEFINITION_WRITES: ReadonlySet<string> = new Set([
  "RegisterTaskDefinition",
  "DeregisterTaskDefinition",
  "DeleteTaskDefinitions",
  "TagResource",
  "UntagResource",
]);

/**
 * Writes AWS finishes after answering (Cloud Map's operations): a read right after one may not show it yet, so the
 * reads it makes stale are not cached again in the tick, only asked of AWS (a namespace being created would otherwise
 * stay missing, an instance being registered unregistered, until the next tick).
 */
const ASYNCHRONOUS: Readonly<Record<string, ReadonlySet<string>>> = {
  servicediscovery: new Set([
    "CreatePrivateDnsNamespace",
    "CreatePublicDnsNamespace",
    "CreateHttpNamespace",
    "UpdatePrivateDnsNamespace",
    "DeleteNamespace",
    "RegisterInstance",
    "DeregisterInstance",
    "UpdateService",
  ]),
};

/** Reads that tell how Cloud Map's operations went: a finished one ends the settling of its write. */
const OPERATION_READS: ReadonlySet<string> = new Set([
  "servicediscovery:GetOperation",
  "servicediscovery:ListOperations",
]);

interface Operation {
  readonly Id?: string;
  readonly Status?: string;
}

/** What a command resolved with, from what the `initialize` step's handler returns (`{ output, response }`). */
function outputOf(result: unknown): unknown {
  return (result as { output?: unknown } | undefined)?.output;
}

export function isCachedRead(service: AwsService, operation: string): boolean {
  return CACHED[service]?.has(operation) === true;
}

type Match = (r: AwsRequest) => boolean;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const zoneIdOf = (v: unknown): string => (str(v) ?? "").replace(/^\/hostedzone\//, "");
/** DNS names compare without case and without a trailing dot. */
const dnsNameKey = (name: string): string => name.replace(/\.$/, "").toLowerCase();

/**
 * Which cached reads a write makes stale. A write this table does not know drops every cached read of its service:
 * coarse, never wrong.
 */
export function staleAfterWrite(write: AwsRequest): Match {
  const { service, operation, input } = write;
  if (service === "ecs" && TASK_DEFINITION_WRITES.has(operation))
    return (r) => r.service === "tag" && r.operation === "GetResources";
  const same =
    (s: AwsService, ops: readonly string[], test: (input: Readonly<Record<string, unknown>>) => boolean) =>
    (r: AwsRequest) =>
      r.service === s && ops.includes(r.operation) && test(r.input);
  if (service === "route53" && operation === "ChangeResourceRecordSets") {
    const zone = zoneIdOf(input.HostedZoneId);
    return same("route53", ["ListResourceRecordSets"], (i) => zoneIdOf(i.HostedZoneId) === zone);
  }
  if (service === "servicediscovery") {
    switch (operation) {
      case "RegisterInstance":
      case "DeregisterInstance": {
        const id = str(input.ServiceId);
        return same(
          "servicediscovery",
          ["ListInstances", "GetInstancesHealthStatus"],
          (i) => i.ServiceId === id,
        );
      }
      case "UpdateInstanceCustomHealthStatus": {
        const id = str(input.ServiceId);
        return same("servicediscovery", ["GetInstancesHealthStatus"], (i) => i.ServiceId === id);
      }
      case "TagResource":
      case "UntagResource": {
        const arn = str(input.ResourceARN);
        return same("servicediscovery", ["ListTagsForResource"], (i) => i.ResourceARN === arn);
      }
      case "CreateService":
      case "UpdateService":
      case "DeleteService":
        return (r) =>
          r.service === "servicediscovery" &&
          r.operation !== "ListNamespaces" &&
          r.operation !== "ListTagsForResource";
      case "CreatePrivateDnsNamespace":
      case "CreatePublicDnsNamespace": {
        // The namespace's hosted zone is a new zone: no cached record listing or GetHostedZone can be of it (a read
        // of a zone that did not exist failed, and failures are not kept), so of Route 53 only the zone listings
        // go, and of the lookups by name (ListHostedZonesByName) those of its name. That is enough because a
        // lookup's answer is only ever read as the zones named DNSName (`AwsRoute53Api.zonesByName` stops at the
        // first other name): a new zone of another name changes nothing taken from it. Without this, creating a
        // namespace made every zone lookup and listing of the tick live, one request per WeightedRecordSet.
        const name = str(input.Name);
        if (name === undefined) return (r) => r.service === "servicediscovery" || r.service === "route53";
        const created = dnsNameKey(name);
        // Of Cloud Map, only the namespace listings: a new namespace holds no service yet.
        return (r) =>
          (r.service === "servicediscovery" && r.operation === "ListNamespaces") ||
          (r.service === "route53" &&
            (r.operation === "ListHostedZones" ||
              (r.operation === "ListHostedZonesByName" &&
                (str(r.input.DNSName) === undefined || dnsNameKey(str(r.input.DNSName)!) === created))));
      }
      case "UpdatePrivateDnsNamespace":
      case "DeleteNamespace":
        // A private DNS namespace is also a Route 53 hosted zone.
        return (r) => r.service === "servicediscovery" || r.service === "route53";
    }
  }
  if (service === "autoscaling" && operation === "CompleteLifecycleAction") {
    const group = str(input.AutoScalingGroupName);
    return (r) =>
      (r.service === "autoscaling" &&
        r.operation === "DescribeAutoScalingGroups" &&
        namesGroup(r.input, group)) ||
      r.service === "ec2";
  }
  return (r) => r.service === service;
}

function namesGroup(input: Readonly<Record<string, unknown>>, group: string | undefined): boolean {
  const names = input.AutoScalingGroupNames;
  return !Array.isArray(names) || group === undefined || names.includes(group);
}

/** Which cached reads list the state a watch key names (an event or a spec edit says it changed). */
export function staleForWatchKey(watchKey: string): Match {
  const t = parseWatchKey(watchKey);
  if (t === undefined) return () => false;
  if (t.type === "asg") {
    return (r) =>
      (r.service === "autoscaling" &&
        namesGroup(r.input, t.group) &&
        (r.operation !== "DescribeLifecycleHooks" || r.input.AutoScalingGroupName === t.group)) ||
      // Instances are listed by the group's tag or by id; either may be the group's.
      (r.service === "ec2" && r.operation === "DescribeInstances");
  }
  return (r) => {
    if (r.service === "ec2") return r.operation === "DescribeInstances";
    if (r.service !== "ecs" || clusterName(str(r.input.cluster) ?? "default") !== t.cluster) return false;
    if (r.operation !== "ListTasks") return true;
    return t.type === "ecs-service" ? r.input.serviceName === t.service : r.input.family === t.family;
  };
}

/** A stable text for a command's input: keys sorted at every level, undefined left out. */
export function requestKey(r: AwsRequest): string {
  return `${r.service}:${r.operation}:${JSON.stringify(r.input, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )}`;
}

interface Entry {
  readonly request: AwsRequest;
  readonly at: number;
  readonly result: Promise<unknown>;
}

export interface ReadCacheOptions {
  /**
   * How long an answer serves at most, even when no tick starts (a tick that takes longer than its interval):
   * drift is seen within this. Default 30 s, the controller's default interval; `run` passes its interval.
   */
  readonly maxAgeMs?: number;
  readonly clock?: Clock;
}

export interface ReadCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

/**
 * The watched state read once per tick and shared by every reconcile of it, as controller-runtime's informer cache
 * is: the informers' listing at the start of the tick fills it, the reconciles that follow read from it, and only
 * writes go to AWS. It sits in the SDK clients' middleware stack (`AwsClientOptions.readCache`), in front of the
 * retries and the rate limiter, so an answer served from it costs no request and no token.
 *
 * What invalidates an entry: the next tick (`beginTick`), its age (`maxAgeMs`), a write through the same clients
 * that touches it (`staleAfterWrite`; failed writes too, since a write AWS refused says a precondition was stale,
 * but not one the lease guard refused before sending it), and an event or spec edit naming its watch key (`invalidateWatchKeys`). Reads inside `live()` of the state that is
 * written (Cloud Map, Route 53) go to AWS and refresh the entry; the targets (ECS tasks, Auto Scaling groups, EC2
 * addresses) stay the tick's. The controller plans a reconcile that has changes again under `live()` before it
 * writes.
 *
 * Concurrent asks of one entry share one request. A shared request that fails is dropped, and the callers that
 * did not start it ask AWS themselves (the failure may be the starter's own abort).
 */
export class TickReadCache implements ClientCacheHook {
  private readonly entries = new Map<string, Entry>();
  /**
   * What asynchronous writes of this tick made stale (`ASYNCHRONOUS`): asked of AWS, not cached, until AWS says the
   * write's operation finished or the next tick starts.
   */
  private readonly settling = new Map<string, { readonly stale: Match; readonly operationId?: string }>();
  private readonly liveScope = new AsyncLocalStorage<boolean>();
  private readonly maxAgeMs: number;
  private readonly clock: Clock;
  private hits = 0;
  private misses = 0;
  private tick = 0;

  constructor(options: ReadCacheOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
  }

  /** A new tick: every answer of the last one is dropped, so what the tick reads comes from AWS. */
  beginTick(): void {
    this.tick++;
    this.entries.clear();
    this.settling.clear();
  }

  get ticks(): number {
    return this.tick;
  }

  stats(): ReadCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size };
  }

  /** Runs `work` with its reads going to AWS (and refreshing the entries they read). */
  live<T>(work: () => Promise<T>): Promise<T> {
    return this.liveScope.run(true, work);
  }

  /** Whether the caller runs inside `live()`. */
  get isLive(): boolean {
    return this.liveScope.getStore() === true;
  }

  /** Drops the entries that list what these watch keys name. */
  invalidateWatchKeys(watchKeys: Iterable<string>): number {
    let n = 0;
    for (const key of watchKeys) n += this.invalidate(staleForWatchKey(key));
    return n;
  }

  invalidate(match: (r: AwsRequest) => boolean): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (match(e.request)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  /**
   * Answers a request: a cached read from the tick's entry (started by `send` on the first ask), anything else by
   * `send` itself; after a write, the entries it makes stale are dropped, whether it succeeded or failed, unless
   * `sent` says that no attempt of it went out (the lease guard refused it: AWS is as it was).
   */
  async request<T>(request: AwsRequest, send: () => Promise<T>, sent?: () => boolean): Promise<T> {
    if (!isCachedRead(request.service, request.operation)) {
      if (isReadOperation(request.operation)) {
        if (!OPERATION_READS.has(`${request.service}:${request.operation}`)) return send();
        const out = await send();
        this.settled(outputOf(out));
        return out;
      }
      try {
        const out = await send();
        this.wrote(request, outputOf(out));
        return out;
      } catch (error) {
        if (sent?.() !== false) this.wrote(request);
        throw error;
      }
    }
    const key = requestKey(request);
    for (const { stale } of this.settling.values()) if (stale(request)) return send();
    const now = this.clock.now();
    const found = this.entries.get(key);
    if (
      found !== undefined &&
      (!this.isLive || TARGETS.has(request.service)) &&
      now - found.at < this.maxAgeMs
    ) {
      this.hits++;
      try {
        return (await found.result) as T;
      } catch {
        // Someone else's request failed (perhaps their own abort): ask for ourselves.
        return this.start(key, request, send, this.clock.now());
      }
    }
    this.misses++;
    return this.start(key, request, send, now);
  }

  /**
   * Drops what a write made stale; an asynchronous one keeps it uncached until AWS says its operation finished
   * (`settled`), or for the rest of the tick when it never says so.
   */
  private wrote(write: AwsRequest, output?: unknown): void {
    const stale = staleAfterWrite(write);
    this.invalidate(stale);
    // Keyed by the write's own request: bounded by what this tick wrote, cleared with it.
    if (ASYNCHRONOUS[write.service]?.has(write.operation) === true) {
      const operationId = str((output as { OperationId?: unknown } | undefined)?.OperationId);
      this.settling.set(requestKey(write), operationId === undefined ? { stale } : { stale, operationId });
    }
  }

  /**
   * Ends the settling of the writes whose operations a GetOperation or ListOperations answer shows finished
   * (SUCCESS or FAIL): what they touched reads as AWS now has it, so it is cached again. Without this, a namespace
   * created at the start of a tick made every Cloud Map reconcile of that tick list the namespaces again.
   */
  private settled(output: unknown): void {
    if (this.settling.size === 0) return;
    const o = output as { Operation?: Operation; Operations?: Operation[] } | undefined;
    const finished = new Set(
      [...(o?.Operation !== undefined ? [o.Operation] : []), ...(o?.Operations ?? [])]
        .filter((op) => op.Status === "SUCCESS" || op.Status === "FAIL")
        .map((op) => op.Id),
    );
    if (finished.size === 0) return;
    for (const [key, s] of this.settling) {
      if (s.operationId !== undefined && finished.has(s.operationId)) this.settling.delete(key);
    }
  }

  /** Puts the cache in front of one SDK client (`ClientCacheHook`). */
  attach(stack: unknown, service: AwsService): void {
    attachReadCache(stack, service, this);
  }

  private start<T>(key: string, request: AwsRequest, send: () => Promise<T>, at: number): Promise<T> {
    const result = send();
    const entry: Entry = { request, at, result };
    this.entries.set(key, entry);
    result.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return result;
  }
}

interface InitializeStack {
  add(
    mw: (
      next: (args: { input: object }) => Promise<unknown>,
      context: { commandName?: string } & object,
    ) => (args: { input: object }) => Promise<unknown>,
    options: { step: "initialize"; priority: "high"; name: string },
  ): void;
}

/**
 * Puts the cache at the top of an SDK client's middleware stack (`initialize`): before serialization, retries, the
 * rate limiter and the call record, so a cached answer is no request at all.
 */
function attachReadCache(stack: unknown, service: AwsService, cache: TickReadCache): void {
  (stack as InitializeStack).add(
    (next, context) => (args) =>
      cache.request(
        {
          service,
          operation: (context.commandName ?? "Unknown").replace(/Command$/, ""),
          input: args.input as Record<string, unknown>,
        },
        () => next(args),
        () => anyAttemptSent(context),
      ),
    { step: "initialize", priority: "high", name: `ecsLogOperator-${service}-readCache` },
  );
}
