/**
 * The narrow view of AWS Cloud Map the Cloud Map reconcilers need. Implemented by `AwsCloudMapApi`; planners never
 * see an SDK type. "Not found" is `undefined`; other failures are classified `AwsError`s.
 */
export interface CloudMapApi {
  /** Every private DNS namespace of the account and region with this name (one per VPC at most). */
  listPrivateDnsNamespaces(name?: string, signal?: AbortSignal): Promise<ObservedNamespace[]>;
  /**
   * The VPCs the namespace's hosted zone is associated with. Empty when they cannot be read (the emulator associates
   * none). A namespace's VPC never changes, so callers may cache the answer by namespace id.
   */
  namespaceVpcs(hostedZoneId: string, signal?: AbortSignal): Promise<string[]>;
  createPrivateDnsNamespace(input: CreateNamespaceInput, signal?: AbortSignal): Promise<OperationId>;
  updateNamespaceDescription(
    id: string,
    description: string,
    updaterRequestId: string,
    signal?: AbortSignal,
  ): Promise<OperationId>;
  /** Undefined when the namespace is already gone. */
  deleteNamespace(id: string, signal?: AbortSignal): Promise<OperationId | undefined>;

  /** Every service, or only those of one namespace. */
  listServices(namespaceId?: string, signal?: AbortSignal): Promise<ObservedService[]>;
  createService(input: CreateServiceInput, signal?: AbortSignal): Promise<ObservedService>;
  /** Replaces the service's DNS record list; Cloud Map only lets the TTLs change this way. */
  updateServiceDnsRecords(
    id: string,
    records: readonly DnsRecord[],
    description: string | undefined,
    signal?: AbortSignal,
  ): Promise<OperationId>;
  /** False when the service was already gone. */
  deleteService(id: string, signal?: AbortSignal): Promise<boolean>;

  /** Every page of ListInstances. */
  listInstances(serviceId: string, signal?: AbortSignal): Promise<ObservedInstance[]>;
  /** Creates or replaces (same id) an instance. */
  registerInstance(input: RegisterInstanceInput, signal?: AbortSignal): Promise<OperationId>;
  /** Undefined when the instance was already gone. */
  deregisterInstance(
    serviceId: string,
    instanceId: string,
    signal?: AbortSignal,
  ): Promise<OperationId | undefined>;
  /** Every page of GetInstancesHealthStatus: instance id -> custom health status. */
  instancesHealth(serviceId: string, signal?: AbortSignal): Promise<Map<string, string>>;
  setInstanceHealth(
    serviceId: string,
    instanceId: string,
    status: CustomHealth,
    signal?: AbortSignal,
  ): Promise<void>;

  /** Tags of a namespace or service, by ARN. */
  tags(arn: string, signal?: AbortSignal): Promise<Record<string, string>>;
  tag(arn: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void>;

  /** Undefined when Cloud Map no longer knows the operation. */
  getOperation(id: string, signal?: AbortSignal): Promise<OperationStatus | undefined>;
  /**
   * Every page of ListOperations: the operations on one service whose status is one of `statuses` and that changed
   * status between `updatedFrom` and `updatedTo` (epoch milliseconds). Only id and status: Cloud Map's summaries
   * carry nothing else.
   */
  listServiceOperations(query: ServiceOperationsQuery, signal?: AbortSignal): Promise<OperationSummary[]>;
}

export type OperationState = "SUBMITTED" | "PENDING" | "SUCCESS" | "FAIL";

export interface ServiceOperationsQuery {
  readonly serviceId: string;
  readonly statuses: readonly OperationState[];
  readonly updatedFrom: number;
  readonly updatedTo: number;
}

export interface OperationSummary {
  readonly id: string;
  readonly status: OperationState;
}

/**
 * Cloud Map refused a RegisterInstance or DeregisterInstance because an operation on that instance is in progress
 * (`DuplicateRequest`, which names it in `DuplicateOperationId`): after a restart, or when another writer got there
 * first. The caller waits for that operation, then sends its own request again.
 */
export class OperationInProgressError extends Error {
  override readonly name = "OperationInProgressError";
  readonly operationId: string;
  constructor(message: string, operationId: string, options?: { cause?: unknown }) {
    super(message, options);
    this.operationId = operationId;
  }
}

export type OperationId = string;
export type CustomHealth = "HEALTHY" | "UNHEALTHY";
/** `A` and `SRV` are what specs ask for; an observed service may carry others. */
export type DnsRecordType = string;
export type RoutingPolicy = "MULTIVALUE" | "WEIGHTED";

export interface DnsRecord {
  readonly type: DnsRecordType;
  readonly ttl: number;
}

export interface ObservedNamespace {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly description: string;
  readonly hostedZoneId: string | undefined;
}

export interface ObservedService {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly namespaceId: string;
  readonly description: string | undefined;
  readonly records: readonly DnsRecord[];
  readonly routingPolicy: RoutingPolicy | undefined;
  /** Undefined when the service has no custom health check. */
  readonly failureThreshold: number | undefined;
  readonly hasCustomHealthCheck: boolean;
}

export interface ObservedInstance {
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface CreateNamespaceInput {
  readonly name: string;
  readonly vpc: string;
  readonly description: string | undefined;
  readonly creatorRequestId: string;
  readonly tags: Record<string, string>;
}

export interface CreateServiceInput {
  readonly name: string;
  readonly namespaceId: string;
  readonly records: readonly DnsRecord[];
  readonly routingPolicy: RoutingPolicy;
  readonly failureThreshold: number | undefined;
  readonly creatorRequestId: string;
  readonly tags: Record<string, string>;
}

export interface RegisterInstanceInput {
  readonly serviceId: string;
  readonly instanceId: string;
  readonly attributes: Record<string, string>;
  readonly creatorRequestId: string;
}

export interface OperationStatus {
  readonly id: string;
  readonly status: OperationState;
  readonly errorMessage: string | undefined;
  /** `NAMESPACE`, `SERVICE`, `INSTANCE` -> id. */
  readonly targets: Readonly<Record<string, string>>;
}
