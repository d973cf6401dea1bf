import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from "./timeouts.ts";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient } from "@aws-sdk/client-ecs";
import { Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { SQSClient } from "@aws-sdk/client-sqs";
import { refreshableCredentials, type CredentialSource, type RefreshableCredentials } from "./credentials.ts";
import { classifyAwsError, type AwsErrorClass } from "./errors.ts";
import { TokenBucket } from "./rate-limiter.ts";
import { rateLimits, type RateLimitedService } from "./rate-limits.ts";
import { currentPriority } from "./request-priority.ts";
import { OperatorRetryStrategy } from "./retry-strategy.ts";

/** An AWS service by its IAM prefix: the ones `AwsClients` has a field for, or one a kind builds with `client()`. */
export type AwsService =
  "ecs" | "route53" | "servicediscovery" | "autoscaling" | "ec2" | "sqs" | "s3" | (string & {});

/** Outcome of one AWS call, as counted: `success`, or the error class. */
export interface AwsCallRecord {
  readonly service: AwsService;
  readonly operation: string;
  readonly outcome: "success" | AwsErrorClass;
  readonly seconds: number;
  /**
   * False when the attempt got no HTTP answer at all (connection refused, DNS, timeout): AWS was not reached. An
   * error AWS answered with (a 5xx, AccessDenied) is an answer.
   */
  readonly answered?: boolean;
  /**
   * How many changes a batch write carries (the records of a Route 53 ChangeResourceRecordSets); absent for a call
   * that is one change.
   */
  readonly items?: number;
}

/**
 * Asked right before each HTTP attempt of a call is sent (inside the SDK's retry loop, after the rate limit's wait):
 * throwing refuses that attempt, which is then neither sent, recorded nor retried. Leader election checks the lease
 * here before every write (controllers/leader-election/write-guard.ts).
 */
export type AwsRequestGuard = (service: AwsService, operation: string) => void;

/** Receives every HTTP attempt the SDK makes (retries included). The controller's metrics implement it. */
export interface AwsCallObserver {
  record(call: AwsCallRecord): void;
  /** Time a request waited for its service's client-side rate limiter (`AwsClientOptions.requestsPerSecond`). */
  rateLimitWaited?(service: AwsService, seconds: number): void;
}

/** One observer that tells each of `observers` (the metrics, and what tracks whether AWS answers). */
export function observeAll(...observers: (AwsCallObserver | undefined)[]): AwsCallObserver {
  const all = observers.filter((o): o is AwsCallObserver => o !== undefined);
  return {
    record: (call) => all.forEach((o) => o.record(call)),
    rateLimitWaited: (service, seconds) => all.forEach((o) => o.rateLimitWaited?.(service, seconds)),
  };
}

/** Counts calls in memory: what `apply` reports and the benchmark reads. */
export class AwsCallCounter implements AwsCallObserver {
  readonly calls: AwsCallRecord[] = [];
  record(call: AwsCallRecord): void {
    this.calls.push(call);
  }
  /** `service:Operation` -> count. */
  byOperation(): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of this.calls)
      m.set(`${c.service}:${c.operation}`, (m.get(`${c.service}:${c.operation}`) ?? 0) + 1);
    return m;
  }
  count(service: AwsService, operation?: string): number {
    return this.calls.filter(
      (c) => c.service === service && (operation === undefined || c.operation === operation),
    ).length;
  }
  /** Calls that change AWS state, by the naming convention of the AWS APIs we use. */
  writes(): AwsCallRecord[] {
    return this.calls.filter((c) => !isReadOperation(c.operation));
  }
  /**
   * The changes AWS accepted, as `service:Operation`, one per change of a batch write: what `plan` lists as changes
   * (`Change.write`), whatever the batching.
   */
  changesMade(): string[] {
    return this.writes()
      .filter((c) => c.outcome === "success")
      .flatMap((c) => Array<string>(c.items ?? 1).fill(`${c.service}:${c.operation}`));
  }
  reset(): void {
    this.calls.length = 0;
  }
}

export function isReadOperation(operation: string): boolean {
  return /^(List|Describe|Get|Discover|ReceiveMessage)/.test(operation);
}

export interface AwsClientOptions {
  /** Defaults to the SDK's chain: AWS_REGION, then the shared config. */
  readonly region?: string | undefined;
  readonly observer?: AwsCallObserver | undefined;
  /** Client-side limit for Route 53 requests per second (its quota is per account and shared). */
  readonly route53RequestsPerSecond?: number | undefined;
  /** Client-side limits of the other services, requests a second; defaults in `DEFAULT_RATE_LIMITS`. */
  readonly requestsPerSecond?: Partial<Record<Exclude<RateLimitedService, "route53">, number | undefined>>;
  /** SDK attempts per call of a transient failure (5xx, reset connection); throttling is never retried in-call. */
  readonly maxAttempts?: number | undefined;
  /** One endpoint for every service (an emulator); otherwise the SDK's standard endpoint configuration. */
  readonly endpoint?: string | undefined;
  /**
   * Answers reads of watched state from the tick's shared cache (`run`; see `TickReadCache`). It sits above the
   * rate limit and the request guard: a read it answers sends nothing, so waits for no token and is not checked.
   */
  readonly readCache?: ClientCacheHook | undefined;
  /** Checks every attempt of every client's calls, except those of clients built with `{ guarded: false }`. */
  readonly requestGuard?: AwsRequestGuard | undefined;
  /** How long a TCP (and TLS) connection may take to open. Default 5 s. */
  readonly connectTimeoutMs?: number | undefined;
  /** How long one HTTP attempt may take, from sending to the last byte of the answer. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
  /** Default: the SDK's credential chain, behind one cache the clients share and empty on `ExpiredToken`. */
  readonly credentials?: RefreshableCredentials | undefined;
}

/** A cache that puts itself in front of an SDK client's middleware stack, above retries and rate limits. */
export interface ClientCacheHook {
  attach(stack: unknown, service: AwsService): void;
}

/** The SDK's context of each call, shared by every step and attempt of it, whose attempts were sent. */
const sentCalls = new WeakSet<object>();

/**
 * Whether at least one HTTP attempt of the call with this SDK context passed the request guard and went out: false
 * for a write the lease guard refused. Such a call changed nothing in AWS, and its error says nothing about AWS's
 * state.
 */
export function anyAttemptSent(context: object): boolean {
  return sentCalls.has(context);
}
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS };
/** SQS long polling holds a ReceiveMessage open for up to 20 s: its request timeout is this much longer. */
const LONG_POLL_MS = 20_000;

export interface AwsClients {
  readonly ecs: ECSClient;
  readonly route53: Route53Client;
  readonly serviceDiscovery: ServiceDiscoveryClient;
  readonly autoScaling: AutoScalingClient;
  /**
   * EC2's SDK client is loaded on first use: it is by far the largest (about 70 MB of memory once imported) and only
   * bridge/host-mode tasks and Auto Scaling instances need it, for their private addresses.
   */
  readonly ec2: () => Promise<EC2Client>;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /**
   * A client of a service the fields above do not cover, configured and instrumented as they are (region, endpoint,
   * retries, a record of every attempt under `service`, its IAM prefix such as "logs"), and destroyed with them. A
   * kind whose adapter needs another service builds its client here, from its own folder (through
   * `KindParts.shared`, so that the process has one). `guarded: false` leaves its calls out of `requestGuard`
   * (the lease's own client: a standby must write to take the lease).
   */
  client<C extends SdkClient>(
    service: AwsService,
    make: (config: AwsSdkConfig) => C,
    options?: { readonly guarded?: boolean },
  ): C;
  destroy(): void;
}

/** The configuration every client gets. */
export interface AwsSdkConfig {
  readonly region?: string;
  readonly endpoint?: string;
  /** The process's one credential cache (`refreshableCredentials`). */
  readonly credentials: CredentialSource & { memoized: true };
  readonly maxAttempts: number;
  /** The operator's one retry policy (`OperatorRetryStrategy`). */
  readonly retryStrategy: OperatorRetryStrategy;
  /** Connection and request timeouts: without them the SDK waits for a hung endpoint for ever. */
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    readonly throwOnRequestTimeout: true;
  };
}

/** What `client()` needs of an SDK v3 client. */
export interface SdkClient {
  readonly middlewareStack: unknown;
  destroy(): void;
}

interface MiddlewareStackLike {
  add(
    mw: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: "finalizeRequest"; priority: "low"; name: string },
  ): void;
}

/**
 * Builds the SDK v3 clients once. Endpoints follow the SDK's standard configuration, so `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` point them at an emulator without any code here.
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const credentials = options.credentials ?? refreshableCredentials();
  const maxAttempts = options.maxAttempts ?? 5;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const handler = (requestTimeoutMs: number) => ({
    // Without these the SDK waits for a hung endpoint for ever: every call has a deadline of its own.
    connectionTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeout: requestTimeoutMs,
    throwOnRequestTimeout: true as const,
  });
  const base: AwsSdkConfig = {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    credentials: credentials.provider,
    maxAttempts,
    retryStrategy: new OperatorRetryStrategy({
      maxAttempts,
      refreshCredentials: () => credentials.refresh(),
    }),
    requestHandler: handler(requestTimeout),
  };
  const usesEmulator = Boolean(
    options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_SERVICEDISCOVERY,
  );
  const ecs = new ECSClient(base);
  const route53 = new Route53Client(base);
  // Cloud Map's DiscoverInstances is sent to a `data-` host; an emulator at one address has no such host.
  const serviceDiscovery = new ServiceDiscoveryClient({ ...base, disableHostPrefix: usesEmulator });
  const autoScaling = new AutoScalingClient(base);
  let ec2: Promise<EC2Client> | undefined;
  const loadEc2 = (): Promise<EC2Client> =>
    (ec2 ??= import("@aws-sdk/client-ec2").then(({ EC2Client }) => {
      const client = new EC2Client(base);
      instrument(client.middlewareStack as unknown as MiddlewareStackLike, "ec2", {
        ...observe,
        limiter: ec2Limiter,
      });
      options.readCache?.attach(client.middlewareStack, "ec2");
      return client;
    }));
  const sqs = new SQSClient({ ...base, requestHandler: handler(requestTimeout + LONG_POLL_MS) });
  const s3 = new S3Client({
    ...base,
    // The SDK addresses a bucket as a host name (BUCKET.s3.REGION.amazonaws.com, or BUCKET.localhost for an
    // endpoint named localhost); an emulator at one address has no such names, so there the bucket goes in the path.
    forcePathStyle: Boolean(
      options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_S3,
    ),
    // A config bucket may live in another region than the operator; S3 answers those requests with a redirect.
    followRegionRedirects: true,
  });
  const limits = rateLimits({ ...options.requestsPerSecond, route53: options.route53RequestsPerSecond });
  const limiter = (service: RateLimitedService): TokenBucket | undefined => {
    const limit = limits[service];
    return limit === undefined ? undefined : new TokenBucket(limit.perSecond, limit.burst);
  };
  const ec2Limiter = limiter("ec2");
  const observe = { observer: options.observer, guard: options.requestGuard };
  for (const [client, service] of [
    [ecs, "ecs"],
    [route53, "route53"],
    [serviceDiscovery, "servicediscovery"],
    [autoScaling, "autoscaling"],
  ] as const) {
    instrument(client.middlewareStack as unknown as MiddlewareStackLike, service, {
      ...observe,
      limiter: limiter(service),
    });
    options.readCache?.attach(client.middlewareStack, service);
  }
  instrument(sqs.middlewareStack as unknown as MiddlewareStackLike, "sqs", observe);
  instrument(s3.middlewareStack as unknown as MiddlewareStackLike, "s3", observe);
  const others: SdkClient[] = [];
  return {
    ecs,
    route53,
    serviceDiscovery,
    autoScaling,
    ec2: loadEc2,
    sqs,
    s3,
    client(service, make, clientOptions) {
      const client = make(base);
      instrument(client.middlewareStack as MiddlewareStackLike, service, {
        observer: options.observer,
        guard: clientOptions?.guarded === false ? undefined : options.requestGuard,
      });
      // What the tick's cache keeps of this service (the tagging API's listing), and the writes that drop it.
      options.readCache?.attach(client.middlewareStack, service);
      others.push(client);
      return client;
    },
    destroy() {
      for (const c of [ecs, route53, serviceDiscovery, autoScaling, sqs, s3, ...others]) c.destroy();
      void ec2?.then((c) => c.destroy());
    },
  };
}

/**
 * Adds, inside the SDK's retry loop (so once per HTTP attempt), a rate limit, the request guard and a record of the
 * attempt.
 */
function instrument(
  stack: MiddlewareStackLike,
  service: AwsService,
  hooks: {
    readonly observer: AwsCallObserver | undefined;
    readonly guard?: AwsRequestGuard | undefined;
    readonly limiter?: TokenBucket | undefined;
  },
): void {
  const { observer, guard, limiter } = hooks;
  stack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
      const items = batchItems(args);
      if (limiter !== undefined) {
        const waitFrom = performance.now();
        await limiter.take(undefined, currentPriority());
        observer?.rateLimitWaited?.(service, (performance.now() - waitFrom) / 1000);
      }
      // Last, after any wait: a paused process resumes here, and the guard reads the clock as it is now.
      guard?.(service, operation);
      sentCalls.add(context);
      const started = performance.now();
      try {
        const out = await next(args);
        observer?.record({
          service,
          operation,
          outcome: "success",
          seconds: (performance.now() - started) / 1000,
          ...(items !== undefined ? { items } : {}),
        });
        return out;
      } catch (error) {
        const cls = classifyAwsError(service, operation, error).errorClass;
        observer?.record({
          service,
          operation,
          outcome: cls,
          seconds: (performance.now() - started) / 1000,
          ...(items !== undefined ? { items } : {}),
          answered:
            typeof (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode ===
            "number",
        });
        throw error;
      }
    },
    { step: "finalizeRequest", priority: "low", name: `ecsLogOperator-${service}-instrument` },
  );
}

/** The changes of a batch write: a Route 53 change batch's. */
function batchItems(args: unknown): number | undefined {
  const input = (args as { input?: { ChangeBatch?: { Changes?: unknown[] } } }).input;
  return input?.ChangeBatch?.Changes?.length;
}
