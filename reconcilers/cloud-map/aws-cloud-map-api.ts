import { GetHostedZoneCommand, type Route53Client } from "@aws-sdk/client-route-53";
import {
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  DeleteNamespaceCommand,
  DeleteServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  ListTagsForResourceCommand,
  RegisterInstanceCommand,
  TagResourceCommand,
  UpdateInstanceCustomHealthStatusCommand,
  UpdatePrivateDnsNamespaceCommand,
  UpdateServiceCommand,
  paginateGetInstancesHealthStatus,
  paginateListInstances,
  paginateListNamespaces,
  paginateListOperations,
  paginateListServices,
  type RecordType,
  type ServiceDiscoveryClient,
  type ServiceSummary,
  type Service,
} from "@aws-sdk/client-servicediscovery";
import { AwsError, awsCall, awsCallOrUndefined } from "../../controllers/aws/errors.ts";
import { awsPages } from "../../controllers/aws/pages.ts";
import { sameDnsName } from "./dns-name.ts";
import {
  OperationInProgressError,
  type CloudMapApi,
  type CreateNamespaceInput,
  type CreateServiceInput,
  type CustomHealth,
  type DnsRecord,
  type ObservedInstance,
  type ObservedNamespace,
  type ObservedService,
  type OperationId,
  type OperationStatus,
  type OperationState,
  type OperationSummary,
  type RegisterInstanceInput,
  type ServiceOperationsQuery,
} from "./cloud-map-api.ts";

const SD = "servicediscovery";

export class AwsCloudMapApi implements CloudMapApi {
  private readonly sd: ServiceDiscoveryClient;
  private readonly route53: Route53Client;

  constructor(clients: { serviceDiscovery: ServiceDiscoveryClient; route53: Route53Client }) {
    this.sd = clients.serviceDiscovery;
    this.route53 = clients.route53;
  }

  async listPrivateDnsNamespaces(name?: string, signal?: AbortSignal): Promise<ObservedNamespace[]> {
    const out: ObservedNamespace[] = [];
    const pages = paginateListNamespaces(
      { client: this.sd },
      {
        Filters: [
          { Name: "TYPE", Values: ["DNS_PRIVATE"], Condition: "EQ" },
          ...(name !== undefined
            ? [{ Name: "NAME" as const, Values: [name], Condition: "EQ" as const }]
            : []),
        ],
      },
      { abortSignal: signal },
    );
    for await (const page of awsPages(SD, "ListNamespaces", pages)) {
      for (const ns of page.Namespaces ?? []) {
        // Filtered again here: the emulator ignores Filters.
        if (ns.Type !== "DNS_PRIVATE" || (name !== undefined && !sameDnsName(ns.Name ?? "", name))) continue;
        out.push({
          id: ns.Id ?? "",
          arn: ns.Arn ?? "",
          name: ns.Name ?? "",
          description: ns.Description ?? "",
          hostedZoneId: ns.Properties?.DnsProperties?.HostedZoneId ?? undefined,
        });
      }
    }
    return out;
  }

  async namespaceVpcs(hostedZoneId: string, signal?: AbortSignal): Promise<string[]> {
    const zone = await awsCallOrUndefined("route53", "GetHostedZone", () =>
      this.route53.send(new GetHostedZoneCommand({ Id: hostedZoneId }), { abortSignal: signal }),
    );
    return (zone?.VPCs ?? []).map((v) => v.VPCId ?? "").filter((v) => v !== "");
  }

  async createPrivateDnsNamespace(input: CreateNamespaceInput, signal?: AbortSignal): Promise<OperationId> {
    const out = await awsCall(SD, "CreatePrivateDnsNamespace", () =>
      this.sd.send(
        new CreatePrivateDnsNamespaceCommand({
          Name: input.name,
          Vpc: input.vpc,
          Description: input.description,
          CreatorRequestId: input.creatorRequestId,
          Tags: toTagList(input.tags),
        }),
        { abortSignal: signal },
      ),
    );
    return out.OperationId ?? "";
  }

  async updateNamespaceDescription(
    id: string,
    description: string,
    updaterRequestId: string,
    signal?: AbortSignal,
  ): Promise<OperationId> {
    const out = await awsCall(SD, "UpdatePrivateDnsNamespace", () =>
      this.sd.send(
        new UpdatePrivateDnsNamespaceCommand({
          Id: id,
          UpdaterRequestId: updaterRequestId,
          Namespace: { Description: description },
        }),
        { abortSignal: signal },
      ),
    );
    return out.OperationId ?? "";
  }

  async deleteNamespace(id: string, signal?: AbortSignal): Promise<OperationId | undefined> {
    const out = await awsCallOrUndefined(SD, "DeleteNamespace", () =>
      this.sd.send(new DeleteNamespaceCommand({ Id: id }), { abortSignal: signal }),
    );
    return out?.OperationId;
  }

  async listServices(namespaceId?: string, signal?: AbortSignal): Promise<ObservedService[]> {
    const out: ObservedService[] = [];
    const pages = paginateListServices(
      { client: this.sd },
      {
        Filters:
          namespaceId !== undefined
            ? [{ Name: "NAMESPACE_ID", Values: [namespaceId], Condition: "EQ" }]
            : undefined,
      },
      { abortSignal: signal },
    );
    for await (const page of awsPages(SD, "ListServices", pages)) {
      for (const s of page.Services ?? []) {
        const observed = toObservedService(s, namespaceId);
        // Filtered again here: the emulator ignores Filters.
        if (namespaceId === undefined || observed.namespaceId === namespaceId) out.push(observed);
      }
    }
    return out;
  }

  async createService(input: CreateServiceInput, signal?: AbortSignal): Promise<ObservedService> {
    const out = await awsCall(SD, "CreateService", () =>
      this.sd.send(
        new CreateServiceCommand({
          Name: input.name,
          NamespaceId: input.namespaceId,
          CreatorRequestId: input.creatorRequestId,
          DnsConfig: {
            RoutingPolicy: input.routingPolicy,
            DnsRecords: input.records.map((r) => ({ Type: r.type as RecordType, TTL: r.ttl })),
          },
          HealthCheckCustomConfig:
            input.failureThreshold !== undefined ? { FailureThreshold: input.failureThreshold } : undefined,
          Tags: toTagList(input.tags),
        }),
        { abortSignal: signal },
      ),
    );
    return toObservedService(out.Service ?? {}, input.namespaceId);
  }

  async updateServiceDnsRecords(
    id: string,
    records: readonly DnsRecord[],
    description: string | undefined,
    signal?: AbortSignal,
  ): Promise<OperationId> {
    const out = await awsCall(SD, "UpdateService", () =>
      this.sd.send(
        new UpdateServiceCommand({
          Id: id,
          Service: {
            // UpdateService deletes what the request leaves out, so the description is sent back unchanged.
            Description: description,
            DnsConfig: { DnsRecords: records.map((r) => ({ Type: r.type as RecordType, TTL: r.ttl })) },
          },
        }),
        { abortSignal: signal },
      ),
    );
    return out.OperationId ?? "";
  }

  async deleteService(id: string, signal?: AbortSignal): Promise<boolean> {
    const out = await awsCallOrUndefined(SD, "DeleteService", () =>
      this.sd.send(new DeleteServiceCommand({ Id: id }), { abortSignal: signal }),
    );
    return out !== undefined;
  }

  async listInstances(serviceId: string, signal?: AbortSignal): Promise<ObservedInstance[]> {
    const byId = new Map<string, ObservedInstance>();
    const pages = paginateListInstances(
      { client: this.sd, pageSize: 100 },
      { ServiceId: serviceId },
      { abortSignal: signal },
    );
    for await (const page of awsPages(SD, "ListInstances", pages)) {
      // Keyed by id, the last one winning: the emulator keeps a second entry when an id is registered again.
      for (const i of page.Instances ?? [])
        byId.set(i.Id ?? "", { id: i.Id ?? "", attributes: i.Attributes ?? {} });
    }
    return [...byId.values()];
  }

  async registerInstance(input: RegisterInstanceInput, signal?: AbortSignal): Promise<OperationId> {
    const out = await instanceWrite("RegisterInstance", () =>
      this.sd.send(
        new RegisterInstanceCommand({
          ServiceId: input.serviceId,
          InstanceId: input.instanceId,
          CreatorRequestId: input.creatorRequestId,
          Attributes: input.attributes,
        }),
        { abortSignal: signal },
      ),
    );
    return out.OperationId ?? "";
  }

  async deregisterInstance(
    serviceId: string,
    instanceId: string,
    signal?: AbortSignal,
  ): Promise<OperationId | undefined> {
    const out = await instanceWrite("DeregisterInstance", () =>
      awsCallOrUndefined(SD, "DeregisterInstance", () =>
        this.sd.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }), {
          abortSignal: signal,
        }),
      ),
    );
    return out?.OperationId;
  }

  async instancesHealth(serviceId: string, signal?: AbortSignal): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const pages = paginateGetInstancesHealthStatus(
      { client: this.sd, pageSize: 100 },
      { ServiceId: serviceId },
      { abortSignal: signal },
    );
    for await (const page of awsPages(SD, "GetInstancesHealthStatus", pages)) {
      for (const [id, status] of Object.entries(page.Status ?? {})) out.set(id, status);
    }
    return out;
  }

  async setInstanceHealth(
    serviceId: string,
    instanceId: string,
    status: CustomHealth,
    signal?: AbortSignal,
  ): Promise<void> {
    await awsCall(SD, "UpdateInstanceCustomHealthStatus", () =>
      this.sd.send(
        new UpdateInstanceCustomHealthStatusCommand({
          ServiceId: serviceId,
          InstanceId: instanceId,
          Status: status,
        }),
        { abortSignal: signal },
      ),
    );
  }

  async tags(arn: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const out = await awsCallOrUndefined(SD, "ListTagsForResource", () =>
      this.sd.send(new ListTagsForResourceCommand({ ResourceARN: arn }), { abortSignal: signal }),
    );
    return Object.fromEntries((out?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  }

  async tag(arn: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    await awsCall(SD, "TagResource", () =>
      this.sd.send(new TagResourceCommand({ ResourceARN: arn, Tags: toTagList(tags) }), {
        abortSignal: signal,
      }),
    );
  }

  async getOperation(id: string, signal?: AbortSignal): Promise<OperationStatus | undefined> {
    const out = await awsCallOrUndefined(SD, "GetOperation", () =>
      this.sd.send(new GetOperationCommand({ OperationId: id }), { abortSignal: signal }),
    );
    const op = out?.Operation;
    if (op === undefined) return undefined;
    return {
      id,
      status: op.Status ?? "PENDING",
      errorMessage: op.ErrorMessage ?? undefined,
      targets: Object.fromEntries(
        Object.entries(op.Targets ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
      ),
    };
  }

  async listServiceOperations(
    query: ServiceOperationsQuery,
    signal?: AbortSignal,
  ): Promise<OperationSummary[]> {
    const out: OperationSummary[] = [];
    const pages = paginateListOperations(
      // Cloud Map reads MaxResults operations, then filters them: a page may come back empty with a NextToken, and
      // every page is followed.
      { client: this.sd, pageSize: 100 },
      {
        Filters: [
          { Name: "SERVICE_ID", Values: [query.serviceId], Condition: "EQ" },
          { Name: "STATUS", Values: [...query.statuses], Condition: "IN" },
          // "Specify a start date and an end date in Unix date/time format": seconds, the start first.
          {
            Name: "UPDATE_DATE",
            Values: [String(Math.floor(query.updatedFrom / 1000)), String(Math.ceil(query.updatedTo / 1000))],
            Condition: "BETWEEN",
          },
        ],
      },
      { abortSignal: signal },
    );
    const wanted = new Set<string>(query.statuses);
    for await (const page of awsPages(SD, "ListOperations", pages)) {
      for (const op of page.Operations ?? []) {
        // Filtered again by status here: the emulator ignores Filters. The service cannot be checked here (a
        // summary names none), which is why callers look only for the ids of operations they started on it.
        if (op.Id === undefined || op.Status === undefined || !wanted.has(op.Status)) continue;
        out.push({ id: op.Id, status: op.Status as OperationState });
      }
    }
    return out;
  }
}

/**
 * RegisterInstance and DeregisterInstance: Cloud Map's `DuplicateRequest` names the operation already in progress on
 * the instance (`DuplicateOperationId`); it becomes an `OperationInProgressError` so the caller can wait for it.
 */
async function instanceWrite<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await awsCall(SD, operation, call);
  } catch (error) {
    const duplicate =
      error instanceof AwsError && error.code === "DuplicateRequest"
        ? (error.cause as { DuplicateOperationId?: unknown } | undefined)?.DuplicateOperationId
        : undefined;
    if (typeof duplicate === "string" && duplicate !== "") {
      throw new OperationInProgressError(
        `${operation}: operation ${duplicate} on the instance is still in progress`,
        duplicate,
        { cause: error },
      );
    }
    throw error;
  }
}

function toTagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function toObservedService(
  s: ServiceSummary | Service,
  fallbackNamespace: string | undefined,
): ObservedService {
  return {
    id: s.Id ?? "",
    arn: s.Arn ?? "",
    name: s.Name ?? "",
    namespaceId: ("NamespaceId" in s ? s.NamespaceId : undefined) ?? fallbackNamespace ?? "",
    description: s.Description || undefined,
    records: (s.DnsConfig?.DnsRecords ?? []).map((r) => ({ type: r.Type ?? "", ttl: r.TTL ?? 0 })),
    routingPolicy:
      s.DnsConfig?.RoutingPolicy === "MULTIVALUE" || s.DnsConfig?.RoutingPolicy === "WEIGHTED"
        ? s.DnsConfig.RoutingPolicy
        : undefined,
    failureThreshold: s.HealthCheckCustomConfig?.FailureThreshold ?? undefined,
    hasCustomHealthCheck: s.HealthCheckCustomConfig != null,
  };
}
