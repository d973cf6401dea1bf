import type { Clock } from "../controllers/clock.ts";
import type { Reconciler } from "../controllers/reconciler.ts";
import type {
  CloudMapApi,
  CreateNamespaceInput,
  CreateServiceInput,
  CustomHealth,
  DnsRecord,
  ObservedInstance,
  ObservedNamespace,
  ObservedService,
  OperationStatus,
  OperationSummary,
  RegisterInstanceInput,
} from "../reconcilers/cloud-map/cloud-map-api.ts";
import { NamespaceLookup } from "../reconcilers/cloud-map/namespace-lookup.ts";
import { CloudMapNamespaceReconciler } from "../reconcilers/cloud-map/namespace-reconciler.ts";
import { InstanceOperations } from "../reconcilers/cloud-map/instance-operations.ts";
import { OperationWaiter } from "../reconcilers/cloud-map/operation-waiter.ts";
import { CloudMapServiceReconciler } from "../reconcilers/cloud-map/service-reconciler.ts";
import type { EcsTask, EcsTaskApi, TaskSelector } from "../reconcilers/ecs-tasks/ecs-task-api.ts";
import type {
  AutoScalingApi,
  GroupInstance,
  GroupInstances,
  LifecycleHook,
} from "../reconcilers/weighted-record-set/auto-scaling-api.ts";
import { WeightedRecordSetReconciler } from "../reconcilers/weighted-record-set/reconciler.ts";
import {
  recordKey,
  type HostedZone,
  type RecordChange,
  type RecordSet,
  type Route53Api,
} from "../reconcilers/weighted-record-set/route53-api.ts";

/**
 * An in-process stand-in for AWS behind the operator's narrow interfaces (`EcsTaskApi`, `CloudMapApi`, `Route53Api`,
 * `AutoScalingApi`), for sizes the emulator cannot hold in reasonable time (10,000 tasks). It counts one call per
 * HTTP request the AWS adapters would send, pages included (ListTasks and ListInstances 100 a page, ListResourceRecordSets
 * 300, DescribeInstances 200 ids a call as `AwsAutoScalingApi` chunks them), and enforces the API limits the operator
 * must respect: DescribeTasks takes at most 100 ARNs, ChangeResourceRecordSets at most 1,000 changes, 1,000 values and
 * 32,000 characters of values (an UPSERT's counted twice), values of at most 4,000 characters, is atomic, rejects a CREATE of an existing record and a DELETE that does not match, and a name holds at most 100
 * weighted records of one type. Cloud Map operations are done when first polled. Its own CPU time is kept apart
 * (`cpuMicros`) so the operator's can be told from it.
 */
export class FakeAws {
  readonly calls = new Map<string, number>();
  /** CPU time spent inside the fake itself, in microseconds. */
  cpuMicros = 0;
  readonly state: FakeState;
  readonly ecs: EcsTaskApi;
  readonly cloudMap: CloudMapApi;
  readonly route53: Route53Api;
  readonly autoScaling: AutoScalingApi;
  private nextId = 0;
  private addresses = 0;

  constructor(state: FakeState = emptyState()) {
    this.state = state;
    this.ecs = this.counted(new FakeEcs(this));
    this.cloudMap = this.counted(new FakeCloudMap(this));
    this.route53 = this.counted(new FakeRoute53(this));
    this.autoScaling = this.counted(new FakeAutoScaling(this));
  }

  count(operation: string, n = 1): void {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + n);
  }

  id(prefix: string): string {
    return `${prefix}-${(++this.nextId).toString(36).padStart(8, "0")}`;
  }

  resetCounts(): void {
    this.calls.clear();
    this.cpuMicros = 0;
  }

  /** Reconcilers for the Cloud Map and WeightedRecordSet kinds, over this fake. */
  reconcilers(): Reconciler[] {
    const lookup = new NamespaceLookup(this.cloudMap);
    const operations = new OperationWaiter(this.cloudMap, { clock: instantClock });
    const instances = new InstanceOperations(this.cloudMap, { clock: instantClock });
    return [
      new CloudMapNamespaceReconciler({
        api: this.cloudMap,
        lookup,
        operations,
        instances,
        clock: instantClock,
      }),
      new CloudMapServiceReconciler({
        api: this.cloudMap,
        tasks: this.ecs,
        lookup,
        operations,
        instances,
        clock: instantClock,
      }),
      new WeightedRecordSetReconciler({
        route53: this.route53,
        autoScaling: this.autoScaling,
        ecsTasks: this.ecs,
      }),
    ];
  }

  /** `count` RUNNING awsvpc tasks of `service` in `cluster`. */
  addTasks(cluster: string, service: string, count: number): void {
    const tasks = (this.state.tasks[cluster] ??= []);
    for (let i = 0; i < count; i++) {
      const n = tasks.length;
      tasks.push({
        taskArn: `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${this.id("t").replace("-", "")}`,
        group: `service:${service}`,
        address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      });
    }
  }

  /** An Auto Scaling group of `count` InService instances, each with a private address. */
  addGroup(name: string, count: number): void {
    const instances = (this.state.groups[name] ??= []);
    for (let i = 0; i < count; i++) {
      const n = this.addresses++;
      const id = `i-${this.id("x").slice(2)}`;
      instances.push({ instanceId: id, lifecycleState: "InService" });
      this.state.ips[id] = `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
    }
  }

  addZone(name: string, privateZone = true): string {
    const id = `Z${this.id("Z").slice(2).toUpperCase()}ABCDEF`;
    this.state.zones.push({ id, name, privateZone });
    this.state.records[id] = [];
    return id;
  }

  /** Wraps every method so its CPU time is charged to the fake, not to the operator. */
  private counted<T extends object>(api: T): T {
    const proto = Object.getPrototypeOf(api) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = proto[name];
      if (name === "constructor" || typeof fn !== "function") continue;
      const method = fn as (...args: unknown[]) => unknown;
      (api as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const before = process.cpuUsage();
        try {
          return method.apply(api, args);
        } finally {
          const used = process.cpuUsage(before);
          this.cpuMicros += used.user + used.system;
        }
      };
    }
    return api;
  }
}

/**
 * A clock whose short sleeps end at once: with the fake, Cloud Map operations are already done when polled. Long ones
 * (an operation's timeout) never end unless aborted, and hold no timer.
 */
export const instantClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
      if (ms < 60_000) setImmediate(resolve);
    }),
};

export interface FakeTask {
  readonly taskArn: string;
  readonly group: string;
  readonly address: string;
}

/** Everything the fake holds, as plain JSON: a child process can be handed a converged account. */
export interface FakeState {
  tasks: Record<string, FakeTask[]>;
  namespaces: ObservedNamespace[];
  services: ObservedService[];
  instances: Record<string, Record<string, Record<string, string>>>;
  health: Record<string, Record<string, string>>;
  tags: Record<string, Record<string, string>>;
  zones: HostedZone[];
  records: Record<string, RecordSet[]>;
  groups: Record<string, GroupInstance[]>;
  ips: Record<string, string>;
}

export function emptyState(): FakeState {
  return {
    tasks: {},
    namespaces: [],
    services: [],
    instances: {},
    health: {},
    tags: {},
    zones: [],
    records: {},
    groups: {},
    ips: {},
  };
}

function pages(items: number, pageSize: number): number {
  return Math.max(1, Math.ceil(items / pageSize));
}

class FakeEcs implements EcsTaskApi {
  private readonly fake: FakeAws;
  constructor(fake: FakeAws) {
    this.fake = fake;
  }

  async listRunningTaskArns(selector: TaskSelector): Promise<string[]> {
    // A real ListTasks filters by service; the fake does too (unlike the emulator).
    const arns = (this.fake.state.tasks[selector.cluster] ?? [])
      .filter((t) => selector.service === undefined || t.group === `service:${selector.service}`)
      .map((t) => t.taskArn);
    this.fake.count("ecs:ListTasks", pages(arns.length, 100));
    return arns;
  }

  async describeTasks(cluster: string, taskArns: readonly string[]): Promise<EcsTask[]> {
    if (taskArns.length > 100) throw new Error(`DescribeTasks: ${taskArns.length} ARNs, the limit is 100`);
    this.fake.count("ecs:DescribeTasks");
    const wanted = new Set(taskArns);
    return (this.fake.state.tasks[cluster] ?? [])
      .filter((t) => wanted.has(t.taskArn))
      .map((t) => ({
        taskArn: t.taskArn,
        lastStatus: "RUNNING",
        desiredStatus: "RUNNING",
        group: t.group,
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/fluentd:1",
        attachments: [
          {
            type: "ElasticNetworkInterface",
            details: [{ name: "privateIPv4Address", value: t.address }],
          },
        ],
      }));
  }

  async describeContainerInstances(_cluster: string, arns: readonly string[]): Promise<Map<string, string>> {
    if (arns.length > 100)
      throw new Error(`DescribeContainerInstances: ${arns.length} ARNs, the limit is 100`);
    this.fake.count("ecs:DescribeContainerInstances");
    return new Map();
  }

  async describeInstancePrivateIps(instanceIds: readonly string[]): Promise<Map<string, string>> {
    this.fake.count("ec2:DescribeInstances", pages(instanceIds.length, 1000));
    return new Map(
      instanceIds.flatMap((id) => (this.fake.state.ips[id] ? [[id, this.fake.state.ips[id]]] : [])),
    );
  }
}

class FakeCloudMap implements CloudMapApi {
  private readonly fake: FakeAws;
  constructor(fake: FakeAws) {
    this.fake = fake;
  }

  private op(): string {
    return this.fake.id("op");
  }

  async listPrivateDnsNamespaces(name?: string): Promise<ObservedNamespace[]> {
    const all = this.fake.state.namespaces;
    this.fake.count("servicediscovery:ListNamespaces", pages(all.length, 100));
    return all.filter((n) => name === undefined || n.name === name);
  }

  async namespaceVpcs(): Promise<string[]> {
    this.fake.count("route53:GetHostedZone");
    return [];
  }

  async createPrivateDnsNamespace(input: CreateNamespaceInput): Promise<string> {
    this.fake.count("servicediscovery:CreatePrivateDnsNamespace");
    const id = this.fake.id("ns");
    const arn = `arn:aws:servicediscovery:us-east-1:123456789012:namespace/${id}`;
    // Cloud Map creates the namespace's private hosted zone, as AWS does.
    const hostedZoneId = this.fake.addZone(input.name);
    this.fake.state.namespaces.push({
      id,
      arn,
      name: input.name,
      description: input.description ?? "",
      hostedZoneId,
    });
    this.fake.state.tags[arn] = { ...input.tags };
    return this.op();
  }

  async updateNamespaceDescription(id: string, description: string): Promise<string> {
    this.fake.count("servicediscovery:UpdatePrivateDnsNamespace");
    const ns = this.fake.state.namespaces.find((n) => n.id === id);
    if (ns !== undefined) Object.assign(ns, { description });
    return this.op();
  }

  async deleteNamespace(id: string): Promise<string | undefined> {
    this.fake.count("servicediscovery:DeleteNamespace");
    const before = this.fake.state.namespaces.length;
    this.fake.state.namespaces = this.fake.state.namespaces.filter((n) => n.id !== id);
    return before === this.fake.state.namespaces.length ? undefined : this.op();
  }

  async listServices(namespaceId?: string): Promise<ObservedService[]> {
    const all = this.fake.state.services;
    this.fake.count("servicediscovery:ListServices", pages(all.length, 100));
    return all.filter((s) => namespaceId === undefined || s.namespaceId === namespaceId);
  }

  async createService(input: CreateServiceInput): Promise<ObservedService> {
    this.fake.count("servicediscovery:CreateService");
    if (this.fake.state.services.some((s) => s.namespaceId === input.namespaceId && s.name === input.name)) {
      throw new Error(`CreateService: ServiceAlreadyExists ${input.name}`);
    }
    const id = this.fake.id("srv");
    const service: ObservedService = {
      id,
      arn: `arn:aws:servicediscovery:us-east-1:123456789012:service/${id}`,
      name: input.name,
      namespaceId: input.namespaceId,
      description: undefined,
      records: input.records,
      routingPolicy: input.routingPolicy,
      failureThreshold: input.failureThreshold,
      hasCustomHealthCheck: input.failureThreshold !== undefined,
    };
    this.fake.state.services.push(service);
    this.fake.state.tags[service.arn] = { ...input.tags };
    this.fake.state.instances[id] = {};
    return service;
  }

  async updateServiceDnsRecords(id: string, records: readonly DnsRecord[]): Promise<string> {
    this.fake.count("servicediscovery:UpdateService");
    const s = this.fake.state.services.find((x) => x.id === id);
    if (s !== undefined) Object.assign(s, { records });
    return this.op();
  }

  async deleteService(id: string): Promise<boolean> {
    this.fake.count("servicediscovery:DeleteService");
    const before = this.fake.state.services.length;
    this.fake.state.services = this.fake.state.services.filter((s) => s.id !== id);
    return before !== this.fake.state.services.length;
  }

  async listInstances(serviceId: string): Promise<ObservedInstance[]> {
    const all = Object.entries(this.fake.state.instances[serviceId] ?? {});
    this.fake.count("servicediscovery:ListInstances", pages(all.length, 100));
    return all.map(([id, attributes]) => ({ id, attributes: { ...attributes } }));
  }

  async registerInstance(input: RegisterInstanceInput): Promise<string> {
    this.fake.count("servicediscovery:RegisterInstance");
    (this.fake.state.instances[input.serviceId] ??= {})[input.instanceId] = { ...input.attributes };
    return this.op();
  }

  async deregisterInstance(serviceId: string, instanceId: string): Promise<string | undefined> {
    this.fake.count("servicediscovery:DeregisterInstance");
    const instances = this.fake.state.instances[serviceId];
    if (instances?.[instanceId] === undefined) return undefined;
    delete instances[instanceId];
    return this.op();
  }

  async instancesHealth(serviceId: string): Promise<Map<string, string>> {
    const health = this.fake.state.health[serviceId] ?? {};
    this.fake.count("servicediscovery:GetInstancesHealthStatus", pages(Object.keys(health).length, 100));
    return new Map(Object.entries(health));
  }

  async setInstanceHealth(serviceId: string, instanceId: string, status: CustomHealth): Promise<void> {
    this.fake.count("servicediscovery:UpdateInstanceCustomHealthStatus");
    (this.fake.state.health[serviceId] ??= {})[instanceId] = status;
  }

  async tags(arn: string): Promise<Record<string, string>> {
    this.fake.count("servicediscovery:ListTagsForResource");
    return { ...(this.fake.state.tags[arn] ?? {}) };
  }

  async tag(arn: string, tags: Record<string, string>): Promise<void> {
    this.fake.count("servicediscovery:TagResource");
    this.fake.state.tags[arn] = { ...(this.fake.state.tags[arn] ?? {}), ...tags };
  }

  async getOperation(id: string): Promise<OperationStatus> {
    this.fake.count("servicediscovery:GetOperation");
    return { id, status: "SUCCESS", errorMessage: undefined, targets: {} };
  }

  /** The fake's operations succeed at once: none is ever listed as unfinished (one page, empty). */
  async listServiceOperations(): Promise<OperationSummary[]> {
    this.fake.count("servicediscovery:ListOperations");
    return [];
  }
}

/** Route 53 sorts record sets by name with its labels reversed, then type, then set identifier. */
function sortKey(r: RecordSet): string {
  return `${r.name.split(".").reverse().join(".")}\u0000${r.type}\u0000${r.setIdentifier ?? ""}`;
}

class FakeRoute53 implements Route53Api {
  private readonly fake: FakeAws;
  constructor(fake: FakeAws) {
    this.fake = fake;
  }

  async zonesByName(name: string): Promise<HostedZone[]> {
    this.fake.count("route53:ListHostedZonesByName");
    return this.fake.state.zones.filter((z) => z.name === name);
  }

  async zoneById(id: string): Promise<HostedZone | undefined> {
    this.fake.count("route53:GetHostedZone");
    return this.fake.state.zones.find((z) => z.id === id);
  }

  async listZones(): Promise<HostedZone[]> {
    this.fake.count("route53:ListHostedZones", pages(this.fake.state.zones.length, 100));
    return [...this.fake.state.zones];
  }

  async listRecordSets(zoneId: string, name?: string): Promise<RecordSet[]> {
    const all = this.fake.state.records[zoneId] ?? [];
    const inRange =
      name === undefined ? all : all.filter((r) => r.name === name || r.name.endsWith(`.${name}`));
    // The adapter reads pages of 300 from `name` on, and stops at the page holding the first name outside it.
    const more = name !== undefined && inRange.length < all.length ? 1 : 0;
    this.fake.count("route53:ListResourceRecordSets", pages(inRange.length + more, 300));
    return inRange.map((r) => ({ ...r })).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
  }

  async changeRecordSets(zoneId: string, changes: readonly RecordChange[]): Promise<string> {
    this.fake.count("route53:ChangeResourceRecordSets");
    if (changes.length > 1000)
      throw new Error(`ChangeResourceRecordSets: ${changes.length} changes, limit 1,000`);
    const values = changes.reduce(
      (n, c) => n + (c.record.values?.length ?? 1) * (c.action === "UPSERT" ? 2 : 1),
      0,
    );
    if (values > 1000) throw new Error(`ChangeResourceRecordSets: ${values} values, limit 1,000`);
    // Route 53 also counts the characters of every Value, an UPSERT's twice: at most 32,000 a request, 4,000 a value.
    const characters = changes.reduce(
      (n, c) =>
        n + (c.record.values ?? []).reduce((m, v) => m + v.length, 0) * (c.action === "UPSERT" ? 2 : 1),
      0,
    );
    if (characters > 32_000)
      throw new Error(`ChangeResourceRecordSets: ${characters} characters of values, limit 32,000`);
    const long = changes.find((c) => (c.record.values ?? []).some((v) => v.length > 4000));
    if (long !== undefined)
      throw new Error(`InvalidChangeBatch: a value of ${recordKey(long.record)} is over 4,000 characters`);
    const current = new Map((this.fake.state.records[zoneId] ?? []).map((r) => [recordKey(r), r]));
    for (const c of changes) {
      const key = recordKey(c.record);
      const existing = current.get(key);
      if (c.action === "CREATE") {
        if (existing !== undefined) throw new Error(`InvalidChangeBatch: ${key} already exists`);
        current.set(key, c.record);
      } else if (c.action === "UPSERT") {
        current.set(key, c.record);
      } else {
        if (
          existing === undefined ||
          JSON.stringify(sortedFields(existing)) !== JSON.stringify(sortedFields(c.record))
        )
          throw new Error(`InvalidChangeBatch: DELETE of ${key} does not match the record`);
        current.delete(key);
      }
    }
    const weighted = new Map<string, number>();
    for (const r of current.values()) {
      if (r.weight === undefined) continue;
      const k = `${r.name}|${r.type}`;
      weighted.set(k, (weighted.get(k) ?? 0) + 1);
      if ((weighted.get(k) ?? 0) > 100)
        throw new Error(`InvalidChangeBatch: over 100 weighted records at ${k}`);
    }
    this.fake.state.records[zoneId] = [...current.values()];
    return this.fake.id("change");
  }

  /** Every change is on every name server by the time it is asked about. */
  async getChange(): Promise<"INSYNC"> {
    this.fake.count("route53:GetChange");
    return "INSYNC";
  }
}

function sortedFields(r: RecordSet): unknown[] {
  return Object.entries(r)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

class FakeAutoScaling implements AutoScalingApi {
  private readonly fake: FakeAws;
  constructor(fake: FakeAws) {
    this.fake = fake;
  }

  async describeGroup(name: string): Promise<GroupInstances | undefined> {
    this.fake.count("autoscaling:DescribeAutoScalingGroups");
    const instances = this.fake.state.groups[name];
    return instances === undefined ? undefined : { name, instances: instances.map((i) => ({ ...i })) };
  }

  async privateIps(_group: string, instanceIds: readonly string[]): Promise<Map<string, string>> {
    // As the adapter asks: the group's instances by their aws:autoscaling:groupName tag, 1,000 a page.
    this.fake.count("ec2:DescribeInstances", Math.max(1, Math.ceil(instanceIds.length / 1000)));
    return new Map(
      instanceIds.flatMap((id) => (this.fake.state.ips[id] ? [[id, this.fake.state.ips[id]]] : [])),
    );
  }

  async describeLifecycleHook(): Promise<LifecycleHook | undefined> {
    this.fake.count("autoscaling:DescribeLifecycleHooks");
    return undefined;
  }

  async completeLifecycleAction(): Promise<boolean> {
    this.fake.count("autoscaling:CompleteLifecycleAction");
    return false;
  }
}
