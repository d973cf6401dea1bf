import { clusterName } from "../informers.ts";
import { explainServiceAction, type ExplainedEvent } from "./explain.ts";
import { isStopped } from "./health.ts";
import { parseServiceArn, type ContainerRecord, type TaskRecord } from "./observation.ts";

/**
 * What an EventBridge event tells service health, parsed from the envelope exactly as EventBridge delivers it
 * (Amazon ECS Developer Guide, "Amazon ECS events"):
 * - "ECS Service Action" (`detail.eventName` such as SERVICE_TASK_PLACEMENT_FAILURE with `detail.reason`
 *   `RESOURCE:MEMORY`, SERVICE_TASK_CONFIGURATION_FAILURE, SERVICE_STEADY_STATE; `detail.clusterArn`,
 *   `detail.createdAt`, the service's ARN in `resources[0]`, no `detail.version`), and "ECS Deployment State
 *   Change" (SERVICE_DEPLOYMENT_FAILED / _COMPLETED, same envelope);
 * - "ECS Task State Change" (`detail` shaped as DescribeTasks' Task, with ISO 8601 strings for its times and
 *   `stopCode`, `stoppedReason` once it stops; `group` is `service:NAME` for a service's task).
 * ECS may add fields: unknown ones are ignored, and an event missing what is needed is not a signal.
 */
export type EcsEventSignal =
  | {
      readonly type: "service-action";
      readonly cluster: string;
      readonly service: string;
      readonly event: ExplainedEvent;
    }
  | {
      readonly type: "task-stopped";
      readonly cluster: string;
      /** Undefined for a task no service started. */
      readonly service: string | undefined;
      readonly task: TaskRecord;
      /** When EventBridge says the change happened (`detail.stoppedAt`, else the envelope's `time`). */
      readonly at: string;
    };

export function parseEcsEvent(event: unknown): EcsEventSignal | undefined {
  if (!isRecord(event) || event.source !== "aws.ecs" || !isRecord(event.detail)) return undefined;
  const detail = event.detail;
  const detailType = event["detail-type"];
  if (detailType === "ECS Service Action" || detailType === "ECS Deployment State Change") {
    return serviceAction(event, detail);
  }
  if (detailType === "ECS Task State Change") return taskStopped(event, detail);
  return undefined;
}

function serviceAction(
  event: Record<string, unknown>,
  detail: Record<string, unknown>,
): EcsEventSignal | undefined {
  const eventName = str(detail.eventName);
  const resources = Array.isArray(event.resources) ? event.resources : [];
  const arn = resources.map(str).find((r) => r !== undefined && parseServiceArn(r) !== undefined);
  const parsed = arn !== undefined ? parseServiceArn(arn) : undefined;
  const clusterArn = str(detail.clusterArn);
  const cluster = parsed?.cluster ?? (clusterArn !== undefined ? clusterName(clusterArn) : undefined);
  if (eventName === undefined || parsed === undefined || cluster === undefined) return undefined;
  const reason = str(detail.reason);
  // Deployment State Change events carry `updatedAt` where Service Action events carry `createdAt`.
  const createdAt =
    isoOrUndefined(str(detail.createdAt)) ??
    isoOrUndefined(str(detail.updatedAt)) ??
    isoOrUndefined(str(event.time));
  if (createdAt === undefined) return undefined;
  const eventType = str(detail.eventType);
  return {
    type: "service-action",
    cluster,
    service: parsed.name,
    event: {
      id: str(event.id) ?? `${eventName}@${createdAt}`,
      createdAt,
      message: `${eventType !== undefined ? `${eventType} ` : ""}${eventName}${reason !== undefined ? `: ${reason}` : ""}`,
      source: "eventbridge",
      ...explainServiceAction(eventName, reason),
    },
  };
}

function taskStopped(
  event: Record<string, unknown>,
  detail: Record<string, unknown>,
): EcsEventSignal | undefined {
  const taskArn = str(detail.taskArn);
  const clusterArn = str(detail.clusterArn);
  const lastStatus = str(detail.lastStatus);
  const desiredStatus = str(detail.desiredStatus);
  if (
    taskArn === undefined ||
    clusterArn === undefined ||
    lastStatus === undefined ||
    desiredStatus === undefined
  ) {
    return undefined;
  }
  const group = str(detail.group);
  const task: TaskRecord = {
    taskArn,
    lastStatus,
    desiredStatus,
    group,
    taskDefinitionArn: str(detail.taskDefinitionArn),
    address: eniAddress(detail.attachments),
    startedAt: isoOrUndefined(str(detail.startedAt)),
    stoppedAt: isoOrUndefined(str(detail.stoppedAt)),
    stopCode: str(detail.stopCode),
    stoppedReason: str(detail.stoppedReason),
    containers: (Array.isArray(detail.containers) ? detail.containers : []).filter(isRecord).map(container),
  };
  if (!isStopped(task)) return undefined;
  const at = task.stoppedAt ?? isoOrUndefined(str(event.time));
  if (at === undefined) return undefined;
  return {
    type: "task-stopped",
    cluster: clusterName(clusterArn),
    service: group?.startsWith("service:") ? group.slice("service:".length) : undefined,
    task,
    at,
  };
}

function container(c: Record<string, unknown>): ContainerRecord {
  return {
    name: str(c.name) ?? "",
    lastStatus: str(c.lastStatus),
    exitCode: typeof c.exitCode === "number" ? c.exitCode : undefined,
    reason: str(c.reason),
  };
}

/** EventBridge writes the attachment type as `eni`; DescribeTasks as `ElasticNetworkInterface`. */
function eniAddress(attachments: unknown): string | undefined {
  if (!Array.isArray(attachments)) return undefined;
  for (const a of attachments.filter(isRecord)) {
    if (a.type !== "eni" && a.type !== "ElasticNetworkInterface") continue;
    const details = Array.isArray(a.details) ? a.details.filter(isRecord) : [];
    const ip = str(details.find((d) => d.name === "privateIPv4Address")?.value);
    if (ip !== undefined) return ip;
  }
  return undefined;
}

function isoOrUndefined(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
