import type {
  DescribeAutoScalingGroupsCommandInput,
  DescribeAutoScalingGroupsCommandOutput,
  DescribeLifecycleHooksCommandOutput,
} from "@aws-sdk/client-auto-scaling";
import type { DescribeAlarmsCommandInput, DescribeAlarmsCommandOutput } from "@aws-sdk/client-cloudwatch";
import type {
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  EC2Client,
} from "@aws-sdk/client-ec2";
import type {
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  ListTasksCommandInput,
  ListTasksCommandOutput,
} from "@aws-sdk/client-ecs";
import type { GetResourcesCommandOutput } from "@aws-sdk/client-resource-groups-tagging-api";
import type {
  ChangeResourceRecordSetsCommandInput,
  ChangeResourceRecordSetsCommandOutput,
  GetChangeCommandInput,
  GetChangeCommandOutput,
  GetHostedZoneCommandInput,
  GetHostedZoneCommandOutput,
  HostedZone as SdkHostedZone,
  ListHostedZonesByNameCommandInput,
  ListHostedZonesByNameCommandOutput,
  ListHostedZonesCommandInput,
  ListHostedZonesCommandOutput,
  ListResourceRecordSetsCommandInput,
  ListResourceRecordSetsCommandOutput,
  ResourceRecordSet,
  RRType,
} from "@aws-sdk/client-route-53";
import type {
  CreatePrivateDnsNamespaceCommandInput,
  CreatePrivateDnsNamespaceCommandOutput,
  CreateServiceCommandInput,
  CreateServiceCommandOutput,
  DeregisterInstanceCommandInput,
  DeregisterInstanceCommandOutput,
  GetOperationCommandInput,
  GetOperationCommandOutput,
  ListOperationsCommandOutput,
  ListInstancesCommandInput,
  ListInstancesCommandOutput,
  ListNamespacesCommandInput,
  ListNamespacesCommandOutput,
  ListServicesCommandInput,
  ListServicesCommandOutput,
  ListTagsForResourceCommandInput,
  ListTagsForResourceCommandOutput,
  RegisterInstanceCommandInput,
  RegisterInstanceCommandOutput,
  TagResourceCommandInput,
  TagResourceCommandOutput,
} from "@aws-sdk/client-servicediscovery";
import type { AwsClients, AwsService, SdkClient } from "../controllers/aws/clients.ts";
import type { ObservedService } from "../reconcilers/cloud-map/cloud-map-api.ts";
import {
  recordKey,
  type RecordChange,
  type RecordSet,
} from "../reconcilers/weighted-record-set/route53-api.ts";
import { FakeAws } from "./fake-aws.ts";

/**
 * An AWS that the operator's real SDK clients talk to, in process: a middleware at each client's `deserialize` step
 * (priority high, so outer to the SDK's deserializer and inner to everything else: the tick's read cache, the
 * serializer, the endpoint, signing, the retry strategy, the operator's rate limiters, lease guard and call record)
 * answers every command from a `FakeAws`'s state instead of sending it. So `run` is measured with its real read cache,
 * limiters and counters, and each answer the operator records is one HTTP request AWS would have seen.
 *
 * It answers the commands `run` makes for CloudMapNamespace, CloudMapService and WeightedRecordSet specs (and the
 * other kinds' sweeps, which find nothing); any other command throws, so a gap shows as a failure, not as a silent
 * empty answer. Pages are AWS's: ListTasks, ListNamespaces, ListServices, ListInstances and GetResources at most 100,
 * ListResourceRecordSets and ListHostedZones at most 300 and 100, DescribeInstances at most 1,000 (and none with an
 * id list). Limits and errors are AWS's, in the shape the SDK gives them (`name`, `$fault`, `$metadata.httpStatusCode`),
 * so controllers/aws/errors.ts classifies them as it classifies AWS's: DescribeTasks takes at most 100 ARNs;
 * ChangeResourceRecordSets is atomic, takes at most 1,000 changes, refuses a CREATE of an existing record and a DELETE
 * that does not match exactly (FakeAws's checks). Cloud Map operations are done when first polled; a namespace's
 * instances make no records in its zone (the scene's WeightedRecordSets are in another zone).
 */
export class FakeSdk {
  readonly fake: FakeAws;
  /** Commands answered, by `service:Operation`: what reached AWS, for checking the operator's own record. */
  readonly answered = new Map<string, number>();
  /** CPU time spent answering, in microseconds: the fake's, not the operator's. */
  cpuMicros = 0;
  private readonly vpcs = new Map<string, string>();
  private readonly operations = new Map<string, Record<string, string>>();
  private readonly requests = new Map<string, string>();
  private readonly handlers: Readonly<Record<string, Readonly<Record<string, Handler>>>>;
  private nextChange = 0;

  constructor(fake: FakeAws = new FakeAws()) {
    this.fake = fake;
    const h = <I>(fn: (input: I) => object | Promise<object>): Handler => fn as Handler;
    this.handlers = {
      ecs: {
        ListTasks: h((i: ListTasksCommandInput) => this.listTasks(i)),
        DescribeTasks: h((i: DescribeTasksCommandInput) => this.describeTasks(i)),
        DescribeServices: h((i: DescribeServicesCommandInput) => this.describeServices(i)),
      },
      servicediscovery: {
        ListNamespaces: h((i: ListNamespacesCommandInput) => this.listNamespaces(i)),
        ListServices: h((i: ListServicesCommandInput) => this.listServices(i)),
        ListInstances: h((i: ListInstancesCommandInput) => this.listInstances(i)),
        ListTagsForResource: h((i: ListTagsForResourceCommandInput) => this.listTags(i)),
        TagResource: h((i: TagResourceCommandInput) => this.tagResource(i)),
        CreatePrivateDnsNamespace: h((i: CreatePrivateDnsNamespaceCommandInput) => this.createNamespace(i)),
        CreateService: h((i: CreateServiceCommandInput) => this.createService(i)),
        RegisterInstance: h((i: RegisterInstanceCommandInput) => this.registerInstance(i)),
        DeregisterInstance: h((i: DeregisterInstanceCommandInput) => this.deregisterInstance(i)),
        GetOperation: h((i: GetOperationCommandInput) => this.getOperation(i)),
        // Every operation succeeds at once, and the operator lists only the unfinished (SUBMITTED, PENDING, FAIL):
        // one empty page. Before this answer the bench's instance registrations all failed at their wait.
        ListOperations: h((): Out<ListOperationsCommandOutput> => ({ Operations: [] })),
      },
      route53: {
        ListHostedZonesByName: h((i: ListHostedZonesByNameCommandInput) => this.zonesByName(i)),
        ListHostedZones: h((i: ListHostedZonesCommandInput) => this.listZones(i)),
        GetHostedZone: h((i: GetHostedZoneCommandInput) => this.getZone(i)),
        ListResourceRecordSets: h((i: ListResourceRecordSetsCommandInput) => this.listRecords(i)),
        ChangeResourceRecordSets: h((i: ChangeResourceRecordSetsCommandInput) => this.changeRecords(i)),
        GetChange: h((i: GetChangeCommandInput): Out<GetChangeCommandOutput> => ({
          ChangeInfo: { Id: i.Id ?? "", Status: "INSYNC", SubmittedAt: new Date() },
        })),
      },
      autoscaling: {
        DescribeAutoScalingGroups: h((i: DescribeAutoScalingGroupsCommandInput) => this.describeGroups(i)),
        DescribeLifecycleHooks: h((): Out<DescribeLifecycleHooksCommandOutput> => ({ LifecycleHooks: [] })),
      },
      ec2: {
        DescribeInstances: h((i: DescribeInstancesCommandInput) => this.describeInstances(i)),
      },
      // The other kinds' sweeps: this account holds no task definitions of the operator's and no alarms.
      tag: {
        GetResources: h((): Out<GetResourcesCommandOutput> => ({ ResourceTagMappingList: [] })),
      },
      cloudwatch: {
        DescribeAlarms: h((_i: DescribeAlarmsCommandInput): Out<DescribeAlarmsCommandOutput> => ({
          MetricAlarms: [],
          CompositeAlarms: [],
        })),
      },
    };
  }

  /**
   * `clients` with this fake behind every SDK client they have and will build: the four eager ones now, EC2 when it
   * is first loaded, and those a kind builds with `client()`.
   */
  attach(clients: AwsClients): AwsClients {
    for (const [client, service] of [
      [clients.ecs, "ecs"],
      [clients.route53, "route53"],
      [clients.serviceDiscovery, "servicediscovery"],
      [clients.autoScaling, "autoscaling"],
      [clients.sqs, "sqs"],
      [clients.s3, "s3"],
    ] as const) {
      this.attachTo(client, service);
    }
    let ec2: Promise<EC2Client> | undefined;
    return {
      ...clients,
      ec2: () =>
        (ec2 ??= clients.ec2().then((c) => {
          this.attachTo(c, "ec2");
          return c;
        })),
      client: (service, make, options) => {
        const c = clients.client(service, make, options);
        this.attachTo(c, service);
        return c;
      },
      destroy: () => clients.destroy(),
    };
  }

  /** A hosted zone, as CreateHostedZone makes it; `vpc` associates a private one. */
  addZone(name: string, vpc?: string): string {
    const id = this.fake.addZone(dnsName(name), vpc !== undefined);
    if (vpc !== undefined) this.vpcs.set(id, vpc);
    return id;
  }

  /** Answers one command, as AWS would. */
  async answer(service: AwsService, operation: string, input: Record<string, unknown>): Promise<object> {
    const handler = this.handlers[service]?.[operation];
    if (handler === undefined) {
      throw new Error(`bench/fake-sdk.ts answers no ${service} ${operation}: add it to FakeSdk`);
    }
    const key = `${service}:${operation}`;
    this.answered.set(key, (this.answered.get(key) ?? 0) + 1);
    // BENCH_FAKE_TRACE=1: every command answered, with its input, on stderr (what a call figure is made of).
    if (process.env.BENCH_FAKE_TRACE !== undefined)
      process.stderr.write(`fake-sdk ${key} ${JSON.stringify(input)}\n`);
    // The work is done before a handler's first await (FakeAws answers at once): timing across the await would
    // charge the fake with whatever else ran meanwhile.
    const before = process.cpuUsage();
    const answer = handler(input);
    const used = process.cpuUsage(before);
    this.cpuMicros += used.user + used.system;
    return answer;
  }

  private attachTo(client: SdkClient, service: AwsService): void {
    (client.middlewareStack as DeserializeStack).add(
      (_next, context) => async (args) => {
        const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
        const output = await this.answer(service, operation, args.input as Record<string, unknown>);
        return {
          output: {
            ...output,
            $metadata: {
              httpStatusCode: 200,
              requestId: this.fake.id("req"),
              attempts: 1,
              totalRetryDelay: 0,
            },
          },
          // What the SDK's middleware reads of an answer (HttpResponse.isInstance): a status and headers.
          response: { statusCode: 200, reason: "OK", headers: {}, body: undefined },
        };
      },
      { step: "deserialize", priority: "high", name: `benchFakeSdk-${service}` },
    );
  }

  // ECS

  private listTasks(i: ListTasksCommandInput): Out<ListTasksCommandOutput> {
    const cluster = clusterName(i.cluster);
    if (this.fake.state.tasks[cluster] === undefined) throw clusterNotFound();
    if (i.desiredStatus === "STOPPED") return { taskArns: [] };
    // ECS: serviceName and family cannot be given together; FakeAws's tasks are all of the family `fluentd`.
    const arns = (this.fake.state.tasks[cluster] ?? [])
      .filter(
        (t) =>
          (i.serviceName === undefined || t.group === `service:${i.serviceName}`) &&
          (i.family === undefined || i.family === "fluentd"),
      )
      .map((t) => t.taskArn);
    const { page, next } = paged(arns, i.nextToken, i.maxResults, 100);
    return { taskArns: page, nextToken: next };
  }

  private async describeTasks(i: DescribeTasksCommandInput): Promise<Out<DescribeTasksCommandOutput>> {
    const cluster = clusterName(i.cluster);
    const arns = i.tasks ?? [];
    // ECS: "tasks: A list of up to 100 task IDs or full ARN entries."
    if (arns.length > 100 || arns.length === 0) {
      throw awsError(
        "InvalidParameterException",
        400,
        `Tasks cannot be empty or more than 100 (${arns.length})`,
      );
    }
    if (this.fake.state.tasks[cluster] === undefined) throw clusterNotFound();
    const tasks = await this.fake.ecs.describeTasks(cluster, arns);
    const found = new Set(tasks.map((t) => t.taskArn));
    return {
      tasks: tasks.map((t) => ({
        taskArn: t.taskArn,
        clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${cluster}`,
        lastStatus: t.lastStatus,
        desiredStatus: t.desiredStatus,
        group: t.group,
        launchType: "FARGATE",
        taskDefinitionArn: t.taskDefinitionArn,
        attachments: t.attachments.map((a) => ({
          type: a.type,
          status: "ATTACHED",
          details: a.details.map((d) => ({ name: d.name, value: d.value })),
        })),
      })),
      failures: arns.filter((a) => !found.has(a)).map((arn) => ({ arn, reason: "MISSING" })),
    };
  }

  /**
   * A service exists where FakeAws has its tasks (group `service:NAME`): steady, its one deployment completed, as
   * many running as desired.
   */
  private describeServices(i: DescribeServicesCommandInput): Out<DescribeServicesCommandOutput> {
    const cluster = clusterName(i.cluster);
    const names = i.services ?? [];
    // ECS: "services: A list of services to describe. You may specify up to 10 services to describe in a single operation."
    if (names.length === 0 || names.length > 10)
      throw awsError(
        "InvalidParameterException",
        400,
        `Services cannot be empty or more than 10 (${names.length})`,
      );
    const tasks = this.fake.state.tasks[cluster];
    if (tasks === undefined) throw clusterNotFound();
    const arn = (name: string) => `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${name}`;
    const found = names.flatMap((name) => {
      const running = tasks.filter((t) => t.group === `service:${name}`).length;
      if (running === 0) return [];
      const taskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/fluentd:1";
      return [
        {
          serviceName: name,
          serviceArn: arn(name),
          clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${cluster}`,
          status: "ACTIVE",
          desiredCount: running,
          runningCount: running,
          pendingCount: 0,
          launchType: "FARGATE" as const,
          taskDefinition,
          deployments: [
            {
              id: `ecs-svc/${name}`,
              status: "PRIMARY",
              taskDefinition,
              desiredCount: running,
              runningCount: running,
              pendingCount: 0,
              failedTasks: 0,
              rolloutState: "COMPLETED" as const,
              createdAt: new Date(0),
            },
          ],
          events: [],
        },
      ];
    });
    const foundNames = new Set(found.map((f) => f.serviceName));
    return {
      services: found,
      failures: names.filter((n) => !foundNames.has(n)).map((n) => ({ arn: arn(n), reason: "MISSING" })),
    };
  }

  // Cloud Map

  private listNamespaces(i: ListNamespacesCommandInput): Out<ListNamespacesCommandOutput> {
    const filters = i.Filters ?? [];
    const namespaces = this.fake.state.namespaces.filter((n) =>
      filters.every((f) => {
        if (f.Name === "TYPE") return (f.Values ?? []).includes("DNS_PRIVATE");
        if (f.Name === "NAME") return (f.Values ?? []).includes(n.name);
        throw awsError("InvalidInput", 400, `ListNamespaces: no filter ${f.Name} in this fake`);
      }),
    );
    const { page, next } = paged(namespaces, i.NextToken, i.MaxResults, 100);
    return {
      Namespaces: page.map((n) => ({
        Id: n.id,
        Arn: n.arn,
        Name: n.name,
        Type: "DNS_PRIVATE",
        Description: n.description,
        Properties: { DnsProperties: { HostedZoneId: n.hostedZoneId } },
      })),
      NextToken: next,
    };
  }

  private listServices(i: ListServicesCommandInput): Out<ListServicesCommandOutput> {
    const filters = i.Filters ?? [];
    const services = this.fake.state.services.filter((s) =>
      filters.every((f) => {
        if (f.Name === "NAMESPACE_ID") return (f.Values ?? []).includes(s.namespaceId);
        throw awsError("InvalidInput", 400, `ListServices: no filter ${f.Name} in this fake`);
      }),
    );
    const { page, next } = paged(services, i.NextToken, i.MaxResults, 100);
    // A ServiceSummary carries no namespace id: the caller knows it from its filter.
    return { Services: page.map((s) => serviceSummary(s)), NextToken: next };
  }

  private listInstances(i: ListInstancesCommandInput): Out<ListInstancesCommandOutput> {
    const instances = this.fake.state.instances[i.ServiceId ?? ""];
    if (instances === undefined) throw awsError("ServiceNotFound", 400, `Service ${i.ServiceId} not found`);
    const { page, next } = paged(Object.entries(instances), i.NextToken, i.MaxResults, 100);
    return {
      Instances: page.map(([Id, Attributes]) => ({ Id, Attributes: { ...Attributes } })),
      NextToken: next,
    };
  }

  private listTags(i: ListTagsForResourceCommandInput): Out<ListTagsForResourceCommandOutput> {
    const tags = this.fake.state.tags[i.ResourceARN ?? ""];
    if (tags === undefined) throw awsError("ResourceNotFoundException", 400, `${i.ResourceARN} not found`);
    return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
  }

  private async tagResource(i: TagResourceCommandInput): Promise<Out<TagResourceCommandOutput>> {
    if (this.fake.state.tags[i.ResourceARN ?? ""] === undefined)
      throw awsError("ResourceNotFoundException", 400, `${i.ResourceARN} not found`);
    await this.fake.cloudMap.tag(i.ResourceARN ?? "", tagMap(i.Tags));
    return {};
  }

  private async createNamespace(
    i: CreatePrivateDnsNamespaceCommandInput,
  ): Promise<Out<CreatePrivateDnsNamespaceCommandOutput>> {
    // Cloud Map: a repeated CreatorRequestId is the same request, answered with the same operation.
    const again =
      i.CreatorRequestId === undefined ? undefined : this.requests.get(`ns:${i.CreatorRequestId}`);
    if (again !== undefined) return { OperationId: again };
    const name = dnsName(i.Name ?? "");
    const existing = this.fake.state.namespaces.find((n) => n.name === name);
    if (existing !== undefined) {
      throw Object.assign(awsError("NamespaceAlreadyExists", 400, `Namespace ${name} already exists`), {
        NamespaceId: existing.id,
      });
    }
    await this.fake.cloudMap.createPrivateDnsNamespace({
      name,
      vpc: i.Vpc ?? "",
      description: i.Description,
      creatorRequestId: i.CreatorRequestId ?? "",
      tags: tagMap(i.Tags),
    });
    const ns = this.fake.state.namespaces.find((n) => n.name === name);
    if (ns?.hostedZoneId !== undefined) this.vpcs.set(ns.hostedZoneId, i.Vpc ?? "");
    const op = this.operation({ NAMESPACE: ns?.id ?? "" });
    if (i.CreatorRequestId !== undefined) this.requests.set(`ns:${i.CreatorRequestId}`, op);
    return { OperationId: op };
  }

  private async createService(i: CreateServiceCommandInput): Promise<Out<CreateServiceCommandOutput>> {
    const again =
      i.CreatorRequestId === undefined ? undefined : this.requests.get(`srv:${i.CreatorRequestId}`);
    const known = this.fake.state.services.find((s) => s.id === again);
    if (known !== undefined) return { Service: service(known) };
    if (!this.fake.state.namespaces.some((n) => n.id === i.NamespaceId))
      throw awsError("NamespaceNotFound", 400, `Namespace ${i.NamespaceId} not found`);
    const existing = this.fake.state.services.find(
      (s) => s.namespaceId === i.NamespaceId && s.name === i.Name,
    );
    if (existing !== undefined) {
      throw Object.assign(awsError("ServiceAlreadyExists", 400, `Service ${i.Name} already exists`), {
        ServiceId: existing.id,
      });
    }
    const created = await this.fake.cloudMap.createService({
      name: i.Name ?? "",
      namespaceId: i.NamespaceId ?? "",
      records: (i.DnsConfig?.DnsRecords ?? []).map((r) => ({ type: r.Type ?? "", ttl: r.TTL ?? 0 })),
      routingPolicy: i.DnsConfig?.RoutingPolicy === "WEIGHTED" ? "WEIGHTED" : "MULTIVALUE",
      failureThreshold: i.HealthCheckCustomConfig?.FailureThreshold,
      creatorRequestId: i.CreatorRequestId ?? "",
      tags: tagMap(i.Tags),
    });
    if (i.HealthCheckCustomConfig !== undefined) Object.assign(created, { hasCustomHealthCheck: true });
    if (i.CreatorRequestId !== undefined) this.requests.set(`srv:${i.CreatorRequestId}`, created.id);
    return { Service: service(created) };
  }

  private async registerInstance(
    i: RegisterInstanceCommandInput,
  ): Promise<Out<RegisterInstanceCommandOutput>> {
    const again =
      i.CreatorRequestId === undefined ? undefined : this.requests.get(`inst:${i.CreatorRequestId}`);
    if (again !== undefined) return { OperationId: again };
    if (this.fake.state.instances[i.ServiceId ?? ""] === undefined)
      throw awsError("ServiceNotFound", 400, `Service ${i.ServiceId} not found`);
    await this.fake.cloudMap.registerInstance({
      serviceId: i.ServiceId ?? "",
      instanceId: i.InstanceId ?? "",
      attributes: { ...i.Attributes },
      creatorRequestId: i.CreatorRequestId ?? "",
    });
    const op = this.operation({ INSTANCE: i.InstanceId ?? "" });
    if (i.CreatorRequestId !== undefined) this.requests.set(`inst:${i.CreatorRequestId}`, op);
    return { OperationId: op };
  }

  private async deregisterInstance(
    i: DeregisterInstanceCommandInput,
  ): Promise<Out<DeregisterInstanceCommandOutput>> {
    if (this.fake.state.instances[i.ServiceId ?? ""] === undefined)
      throw awsError("ServiceNotFound", 400, `Service ${i.ServiceId} not found`);
    const done = await this.fake.cloudMap.deregisterInstance(i.ServiceId ?? "", i.InstanceId ?? "");
    if (done === undefined) throw awsError("InstanceNotFound", 400, `Instance ${i.InstanceId} not found`);
    return { OperationId: this.operation({ INSTANCE: i.InstanceId ?? "" }) };
  }

  private getOperation(i: GetOperationCommandInput): Out<GetOperationCommandOutput> {
    const targets = this.operations.get(i.OperationId ?? "");
    if (targets === undefined)
      throw awsError("OperationNotFound", 400, `Operation ${i.OperationId} not found`);
    return { Operation: { Id: i.OperationId, Status: "SUCCESS", Targets: targets } };
  }

  private operation(targets: Record<string, string>): string {
    const id = this.fake.id("op");
    this.operations.set(id, targets);
    return id;
  }

  // Route 53

  private sdkZone(id: string): SdkHostedZone {
    const z = this.fake.state.zones.find((x) => x.id === id);
    return {
      Id: `/hostedzone/${id}`,
      Name: `${z?.name ?? ""}.`,
      CallerReference: id,
      Config: { PrivateZone: z?.privateZone === true },
      ResourceRecordSetCount: (this.fake.state.records[id]?.length ?? 0) + 2,
    };
  }

  /** Route 53 orders zones by name with its labels reversed, then by id. */
  private zonesInOrder(): string[] {
    return [...this.fake.state.zones]
      .sort((a, b) => compare(`${reversed(a.name)}\u0000${a.id}`, `${reversed(b.name)}\u0000${b.id}`))
      .map((z) => z.id);
  }

  private zonesByName(i: ListHostedZonesByNameCommandInput): Out<ListHostedZonesByNameCommandOutput> {
    const max = Math.min(Number(i.MaxItems ?? 100), 100);
    const ids = this.zonesInOrder();
    const from =
      i.DNSName === undefined
        ? 0
        : ids.findIndex((id) => {
            const z = this.fake.state.zones.find((x) => x.id === id);
            const c = compare(reversed(z?.name ?? ""), reversed(dnsName(i.DNSName ?? "")));
            return c > 0 || (c === 0 && (i.HostedZoneId === undefined || id >= zoneId(i.HostedZoneId)));
          });
    const start = from < 0 ? ids.length : from;
    const page = ids.slice(start, start + max);
    const rest = ids[start + max];
    const next = rest === undefined ? undefined : this.fake.state.zones.find((z) => z.id === rest);
    return {
      HostedZones: page.map((id) => this.sdkZone(id)),
      DNSName: i.DNSName,
      HostedZoneId: i.HostedZoneId,
      IsTruncated: next !== undefined,
      NextDNSName: next === undefined ? undefined : `${next.name}.`,
      NextHostedZoneId: next?.id,
      MaxItems: max,
    };
  }

  private listZones(i: ListHostedZonesCommandInput): Out<ListHostedZonesCommandOutput> {
    const { page, next } = paged(this.zonesInOrder(), i.Marker, Number(i.MaxItems ?? 100), 100);
    return {
      HostedZones: page.map((id) => this.sdkZone(id)),
      Marker: i.Marker ?? "",
      IsTruncated: next !== undefined,
      NextMarker: next,
      MaxItems: 100,
    };
  }

  private getZone(i: GetHostedZoneCommandInput): Out<GetHostedZoneCommandOutput> {
    const id = zoneId(i.Id ?? "");
    if (!this.fake.state.zones.some((z) => z.id === id))
      throw awsError("NoSuchHostedZone", 404, `No hosted zone found with ID: ${id}`);
    const vpc = this.vpcs.get(id);
    return {
      HostedZone: this.sdkZone(id),
      DelegationSet: { NameServers: ["ns-1.awsdns-00.com"] },
      ...(vpc === undefined ? {} : { VPCs: [{ VPCId: vpc, VPCRegion: "us-east-1" }] }),
    };
  }

  /** The zone's record sets in Route 53's order, its apex SOA and NS among them. */
  private recordsInOrder(id: string): RecordSet[] {
    const zone = this.fake.state.zones.find((z) => z.id === id);
    const apex: RecordSet[] =
      zone === undefined
        ? []
        : [
            { name: zone.name, type: "NS", ttl: 172800, values: ["ns-1.awsdns-00.com."] },
            {
              name: zone.name,
              type: "SOA",
              ttl: 900,
              values: ["ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"],
            },
          ];
    return [...apex, ...(this.fake.state.records[id] ?? [])].sort((a, b) => compare(sortKey(a), sortKey(b)));
  }

  private listRecords(i: ListResourceRecordSetsCommandInput): Out<ListResourceRecordSetsCommandOutput> {
    const id = zoneId(i.HostedZoneId ?? "");
    if (!this.fake.state.zones.some((z) => z.id === id))
      throw awsError("NoSuchHostedZone", 404, `No hosted zone found with ID: ${id}`);
    // Route 53: "If you specify a value greater than 300 for MaxItems, Route 53 returns only the first 300".
    const max = Math.min(Number(i.MaxItems ?? 300), 300);
    const all = this.recordsInOrder(id);
    const start =
      i.StartRecordName === undefined
        ? 0
        : all.findIndex(
            (r) =>
              compare(
                sortKey(r),
                sortKey({
                  name: dnsName(i.StartRecordName ?? ""),
                  type: i.StartRecordType ?? "",
                  setIdentifier: i.StartRecordIdentifier,
                }),
              ) >= 0,
          );
    const from = start < 0 ? all.length : start;
    const page = all.slice(from, from + max);
    const next = all[from + max];
    return {
      ResourceRecordSets: page.map(toSdk),
      IsTruncated: next !== undefined,
      NextRecordName: next === undefined ? undefined : `${next.name}.`,
      NextRecordType: next?.type as RRType | undefined,
      NextRecordIdentifier: next?.setIdentifier,
      MaxItems: max,
    };
  }

  private async changeRecords(
    i: ChangeResourceRecordSetsCommandInput,
  ): Promise<Out<ChangeResourceRecordSetsCommandOutput>> {
    const id = zoneId(i.HostedZoneId ?? "");
    if (!this.fake.state.zones.some((z) => z.id === id))
      throw awsError("NoSuchHostedZone", 404, `No hosted zone found with ID: ${id}`);
    const changes: RecordChange[] = (i.ChangeBatch?.Changes ?? []).map((c) => ({
      action: c.Action ?? "UPSERT",
      record: fromSdk(c.ResourceRecordSet ?? { Name: "", Type: "A" }),
    }));
    // Route 53's own messages for a batch written from a stale read (errors.ts tells them from invalid batches).
    const current = new Map((this.fake.state.records[id] ?? []).map((r) => [recordKey(r), r]));
    const messages: string[] = [];
    for (const c of changes) {
      const key = recordKey(c.record);
      const what = `[name='${c.record.name}.', type='${c.record.type}'${c.record.setIdentifier === undefined ? "" : `, set-identifier='${c.record.setIdentifier}'`}]`;
      const existing = current.get(key);
      if (c.action === "CREATE" && existing !== undefined) {
        messages.push(`Tried to create resource record set ${what} but it already exists`);
      } else if (c.action === "DELETE" && existing === undefined) {
        messages.push(`Tried to delete resource record set ${what} but it was not found`);
      } else if (
        c.action === "DELETE" &&
        JSON.stringify(fields(existing)) !== JSON.stringify(fields(c.record))
      ) {
        messages.push(
          `Tried to delete resource record set ${what} but the values provided do not match the current values`,
        );
      }
      if (c.action === "DELETE") current.delete(key);
      else current.set(key, c.record);
    }
    if (messages.length > 0) throw awsError("InvalidChangeBatch", 400, `[${messages.join(", ")}]`);
    try {
      // FakeAws's checks: at most 1,000 changes and values, at most 100 weighted records a name and type; atomic.
      await this.fake.route53.changeRecordSets(id, changes);
    } catch (error) {
      throw awsError("InvalidChangeBatch", 400, (error as Error).message);
    }
    return {
      ChangeInfo: {
        Id: `/change/C${(++this.nextChange).toString(36).toUpperCase()}`,
        Status: "PENDING",
        SubmittedAt: new Date(),
      },
    };
  }

  // Auto Scaling and EC2

  private describeGroups(
    i: DescribeAutoScalingGroupsCommandInput,
  ): Out<DescribeAutoScalingGroupsCommandOutput> {
    const names = i.AutoScalingGroupNames ?? Object.keys(this.fake.state.groups);
    const groups = names.filter((n) => this.fake.state.groups[n] !== undefined);
    const { page, next } = paged(groups, i.NextToken, i.MaxRecords, 100);
    return {
      AutoScalingGroups: page.map((name) => {
        const instances = this.fake.state.groups[name] ?? [];
        return {
          AutoScalingGroupName: name,
          MinSize: 0,
          MaxSize: instances.length,
          DesiredCapacity: instances.length,
          DefaultCooldown: 300,
          AvailabilityZones: ["us-east-1a"],
          HealthCheckType: "EC2",
          CreatedTime: new Date(0),
          Instances: instances.map((x) => ({
            InstanceId: x.instanceId,
            LifecycleState: x.lifecycleState as "InService",
            HealthStatus: "Healthy",
            AvailabilityZone: "us-east-1a",
            ProtectedFromScaleIn: false,
          })),
        };
      }),
      NextToken: next,
    };
  }

  private describeInstances(i: DescribeInstancesCommandInput): Out<DescribeInstancesCommandOutput> {
    const groupOf = new Map<string, string>();
    for (const [group, instances] of Object.entries(this.fake.state.groups))
      for (const x of instances) groupOf.set(x.instanceId, group);
    let ids: string[];
    if (i.InstanceIds !== undefined && i.InstanceIds.length > 0) {
      // EC2: "You cannot specify this parameter [MaxResults] and the instance IDs parameter in the same request."
      if (i.MaxResults !== undefined)
        throw awsError("InvalidParameterCombination", 400, "MaxResults cannot be used with InstanceIds");
      const missing = i.InstanceIds.filter((x) => this.fake.state.ips[x] === undefined);
      if (missing.length > 0)
        throw awsError(
          "InvalidInstanceID.NotFound",
          400,
          `The instance IDs '${missing.join(", ")}' do not exist`,
        );
      ids = i.InstanceIds;
    } else {
      ids = Object.keys(this.fake.state.ips);
    }
    for (const f of i.Filters ?? []) {
      if (f.Name !== "tag:aws:autoscaling:groupName")
        throw awsError("InvalidParameterValue", 400, `DescribeInstances: no filter ${f.Name} in this fake`);
      ids = ids.filter((x) => (f.Values ?? []).includes(groupOf.get(x) ?? ""));
    }
    const { page, next } = paged(ids, i.NextToken, i.MaxResults, 1000);
    return {
      Reservations: page.map((x) => ({
        ReservationId: `r-${x.slice(2)}`,
        Instances: [
          {
            InstanceId: x,
            PrivateIpAddress: this.fake.state.ips[x],
            State: { Name: "running", Code: 16 },
            Tags: [{ Key: "aws:autoscaling:groupName", Value: groupOf.get(x) ?? "" }],
          },
        ],
      })),
      NextToken: next,
    };
  }
}

/** A command's output without the `$metadata` the transport adds. */
type Out<T> = Omit<T, "$metadata">;
type Handler = (input: Record<string, unknown>) => object | Promise<object>;

interface DeserializeStack {
  add(
    mw: (
      next: unknown,
      context: { commandName?: string },
    ) => (args: { input: unknown }) => Promise<{ output: object; response: unknown }>,
    options: { step: "deserialize"; priority: "high"; name: string },
  ): void;
}

/** An error as the SDK's deserializer makes it from AWS's answer: what errors.ts classifies. */
export function awsError(code: string, status: number, message: string): Error {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });
}

function clusterNotFound(): Error {
  return awsError("ClusterNotFoundException", 400, "Cluster not found.");
}

/** A page of `items` from an offset token. */
function paged<T>(
  items: readonly T[],
  token: string | undefined,
  asked: number | undefined,
  limit: number,
): { page: T[]; next: string | undefined } {
  const from = token === undefined || token === "" ? 0 : Number(token);
  if (!Number.isInteger(from) || from < 0) throw awsError("InvalidNextToken", 400, `bad token ${token}`);
  const size = Math.min(asked ?? limit, limit);
  const to = from + size;
  return { page: items.slice(from, to), next: to < items.length ? String(to) : undefined };
}

function clusterName(cluster: string | undefined): string {
  return (cluster ?? "default").replace(/^arn:aws:ecs:[^:]*:\d+:cluster\//, "");
}

function zoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, "");
}

function dnsName(name: string): string {
  return name.replace(/\.$/, "").toLowerCase();
}

function reversed(name: string): string {
  return name.split(".").reverse().join(".");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Route 53 sorts record sets by name with its labels reversed, then type, then set identifier. */
function sortKey(r: Pick<RecordSet, "name" | "type" | "setIdentifier">): string {
  return `${reversed(r.name)}\u0000${r.type}\u0000${r.setIdentifier ?? ""}`;
}

function fields(r: RecordSet | undefined): unknown[] {
  return Object.entries(r ?? {})
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compare(a, b));
}

function tagMap(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

function serviceSummary(s: ObservedService): NonNullable<ListServicesCommandOutput["Services"]>[number] {
  return {
    Id: s.id,
    Arn: s.arn,
    Name: s.name,
    Type: "DNS_HTTP",
    Description: s.description,
    DnsConfig: {
      RoutingPolicy: s.routingPolicy,
      DnsRecords: s.records.map((r) => ({ Type: r.type as "A", TTL: r.ttl })),
    },
    ...(s.hasCustomHealthCheck ? { HealthCheckCustomConfig: { FailureThreshold: s.failureThreshold } } : {}),
  };
}

function service(s: ObservedService): NonNullable<CreateServiceCommandOutput["Service"]> {
  return { ...serviceSummary(s), NamespaceId: s.namespaceId };
}

/** The record as the operator's narrow interface holds it (FakeAws's state). */
function fromSdk(r: ResourceRecordSet): RecordSet {
  const record: RecordSet = {
    name: dnsName(r.Name ?? ""),
    type: r.Type ?? "",
    setIdentifier: r.SetIdentifier,
    weight: r.Weight,
    ttl: r.TTL,
    values: r.ResourceRecords?.map((v) => v.Value ?? ""),
    alias:
      r.AliasTarget === undefined
        ? undefined
        : {
            hostedZoneId: r.AliasTarget.HostedZoneId ?? "",
            dnsName: dnsName(r.AliasTarget.DNSName ?? ""),
            evaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth === true,
          },
    healthCheckId: r.HealthCheckId,
  };
  return Object.fromEntries(
    Object.entries(record).filter(([, v]) => v !== undefined),
  ) as unknown as RecordSet;
}

function toSdk(r: RecordSet): ResourceRecordSet {
  return {
    Name: `${r.name}.`,
    Type: r.type as RRType,
    SetIdentifier: r.setIdentifier,
    Weight: r.weight,
    TTL: r.ttl,
    ResourceRecords: r.values?.map((Value) => ({ Value })),
    AliasTarget:
      r.alias === undefined
        ? undefined
        : {
            HostedZoneId: r.alias.hostedZoneId,
            DNSName: `${r.alias.dnsName}.`,
            EvaluateTargetHealth: r.alias.evaluateTargetHealth,
          },
    HealthCheckId: r.healthCheckId,
  };
}
