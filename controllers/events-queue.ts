import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { awsCall } from "./aws/errors.ts";
import { Backoff } from "./backoff.ts";
import { systemClock, type Clock } from "./clock.ts";
import { clusterName, formatWatchKey } from "./informers.ts";
import type { Logger } from "./logger.ts";
import { parseServiceArn } from "./service-health/observation.ts";

/**
 * The watch keys an EventBridge event names. ECS Task State Change carries `clusterArn`, `group`
 * (`service:NAME` for a service's task) and `taskDefinitionArn` (`.../task-definition/FAMILY:REV`); Auto Scaling
 * events (lifecycle actions, launch and terminate) carry `AutoScalingGroupName`. ECS Service Action and Deployment
 * State Change events name their service by ARN in `resources`. Anything else names none.
 */
export function watchKeysOfEvent(event: unknown): string[] {
  if (!isRecord(event) || !isRecord(event.detail)) return [];
  const detail = event.detail;
  if (event.source === "aws.ecs") {
    const keys: string[] = [];
    const cluster = typeof detail.clusterArn === "string" ? clusterName(detail.clusterArn) : undefined;
    for (const r of Array.isArray(event.resources) ? event.resources : []) {
      const service = typeof r === "string" ? parseServiceArn(r) : undefined;
      const serviceCluster = service?.cluster ?? cluster;
      if (service !== undefined && serviceCluster !== undefined) {
        keys.push(formatWatchKey({ type: "ecs-service", cluster: serviceCluster, service: service.name }));
      }
    }
    if (cluster === undefined) return keys;
    if (typeof detail.group === "string" && detail.group.startsWith("service:")) {
      keys.push(formatWatchKey({ type: "ecs-service", cluster, service: detail.group.slice(8) }));
    }
    if (typeof detail.taskDefinitionArn === "string") {
      const m = /task-definition\/([^:/]+)(?::\d+)?$/.exec(detail.taskDefinitionArn);
      if (m?.[1] !== undefined) keys.push(formatWatchKey({ type: "ecs-family", cluster, family: m[1] }));
    }
    return keys;
  }
  if (event.source === "aws.autoscaling" && typeof detail.AutoScalingGroupName === "string") {
    return [formatWatchKey({ type: "asg", group: detail.AutoScalingGroupName })];
  }
  return [];
}

/** After a failed receive: at most 1 s, doubling to 30 s (the operator's one backoff policy). */
const RECEIVE_BACKOFF = new Backoff({ baseMs: 1_000, maxMs: 30_000 });

/** Called with the watch keys of the events received, and when they were received. */
export type OnWatchKeys = (watchKeys: readonly string[], receivedAt: number) => void;

/** Events that say "look again now" about watch keys: the controller runs one beside its informers. */
export interface WatchEvents {
  /** Receives until the signal aborts, telling `onKeys` what each batch names. */
  run(signal: AbortSignal, onKeys: OnWatchKeys): Promise<void>;
}

export interface EventsQueueOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly logger: Logger;
  /** Where `receiveOnce` reports keys; `run` takes its own. */
  readonly onKeys?: OnWatchKeys;
  /** Called with every event read, parsed, before its keys are woken (service health reads failures from them). */
  readonly onEvent?: ((event: unknown, receivedAt: number) => void) | undefined;
  /** SQS long polling: how long one ReceiveMessage waits for a message (at most 20 s). */
  readonly waitSeconds?: number;
  readonly clock?: Clock;
}

/**
 * Reads EventBridge events from SQS and wakes the keys they name, then deletes them. Events arrive at least once
 * and out of order, so they carry no state into the reconcile: they only say "look again now".
 */
export class EventsQueue implements WatchEvents {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly logger: Logger;
  private readonly onKeys: OnWatchKeys;
  private readonly onEvent: ((event: unknown, receivedAt: number) => void) | undefined;
  private readonly waitSeconds: number;
  private readonly clock: Clock;

  constructor(options: EventsQueueOptions) {
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
    this.logger = options.logger;
    this.onKeys = options.onKeys ?? (() => undefined);
    this.onEvent = options.onEvent;
    this.waitSeconds = options.waitSeconds ?? 20;
    this.clock = options.clock ?? systemClock;
  }

  /** Receives until the signal aborts. A failed receive is logged and retried after a pause. */
  async run(signal: AbortSignal, onKeys: OnWatchKeys = this.onKeys): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.receiveOnce(signal, onKeys);
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        this.logger.warn("events queue receive failed", { queue: this.queueUrl, error });
        await this.clock.sleep(RECEIVE_BACKOFF.delayMs(failures - 1), signal).catch(() => undefined);
      }
    }
  }

  /** One ReceiveMessage; returns the number of messages handled. */
  async receiveOnce(signal: AbortSignal, onKeys: OnWatchKeys = this.onKeys): Promise<number> {
    const out = await awsCall("sqs", "ReceiveMessage", () =>
      this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: this.waitSeconds,
        }),
        { abortSignal: signal },
      ),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return 0;
    const receivedAt = this.clock.now();
    const keys = new Set<string>();
    for (const m of messages) for (const k of this.keysOf(m, receivedAt)) keys.add(k);
    if (keys.size > 0) onKeys([...keys].sort(), receivedAt);
    // Deleted even when unreadable: a message that cannot be read now never will be, and the resync covers it.
    const entries = messages
      .filter((m) => m.ReceiptHandle !== undefined)
      .map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
    if (entries.length > 0) {
      const deleted = await awsCall("sqs", "DeleteMessageBatch", () =>
        this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })),
      );
      for (const f of deleted.Failed ?? []) {
        this.logger.warn("events queue delete failed", { code: f.Code, message: f.Message });
      }
    }
    return messages.length;
  }

  private keysOf(message: Message, receivedAt: number): string[] {
    let event: unknown;
    try {
      event = JSON.parse(message.Body ?? "");
    } catch {
      this.logger.warn("events queue message is not JSON; deleted", { messageId: message.MessageId });
      return [];
    }
    try {
      this.onEvent?.(event, receivedAt);
    } catch (error) {
      this.logger.warn("event handler failed", { messageId: message.MessageId, error });
    }
    const keys = watchKeysOfEvent(event);
    this.logger.debug("event received", {
      messageId: message.MessageId,
      detailType: isRecord(event) ? event["detail-type"] : undefined,
      watches: keys,
    });
    return keys;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
