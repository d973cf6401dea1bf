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
}

/** Receives every HTTP attempt the SDK makes (retries included). The controller's metrics implement it. */
export interface AwsCallObserver {
  record(call: AwsCallRecord): void;
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
  /** SDK attempts per call of a transient failure (5xx, reset connection); throttling is never retried in-call. */
  readonly maxAttempts?: number | undefined;
  /** One endpoint for every service (an emulator); otherwise the SDK's standard endpoint configuration. */
  readonly endpoint?: string | undefined;
  /** How long a TCP (and TLS) connection may take to open. Default 5 s. */
  readonly connectTimeoutMs?: number | undefined;
  /** How long one HTTP attempt may take, from sending to the last byte of the answer. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
  /** Default: the SDK's credential chain, behind one cache the clients share and empty on `ExpiredToken`. */
  readonly credentials?: RefreshableCredentials | undefined;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
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
   * `KindParts.shared`, so that the process has one).
   */
  client<C extends SdkClient>(service: AwsService, make: (config: AwsSdkConfig) => C): C;
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
      instrument(client.middlewareStack as unknown as MiddlewareStackLike, "ec2", options.observer);
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
  const route53Limiter = new TokenBucket(options.route53RequestsPerSecond ?? 5);
  instrument(ecs.middlewareStack as unknown as MiddlewareStackLike, "ecs", options.observer);
  instrument(
    route53.middlewareStack as unknown as MiddlewareStackLike,
    "route53",
    options.observer,
    route53Limiter,
  );
  instrument(
    serviceDiscovery.middlewareStack as unknown as MiddlewareStackLike,
    "servicediscovery",
    options.observer,
  );
  instrument(autoScaling.middlewareStack as unknown as MiddlewareStackLike, "autoscaling", options.observer);
  instrument(sqs.middlewareStack as unknown as MiddlewareStackLike, "sqs", options.observer);
  instrument(s3.middlewareStack as unknown as MiddlewareStackLike, "s3", options.observer);
  const others: SdkClient[] = [];
  return {
    ecs,
    route53,
    serviceDiscovery,
    autoScaling,
    ec2: loadEc2,
    sqs,
    s3,
    client(service, make) {
      const client = make(base);
      instrument(client.middlewareStack as MiddlewareStackLike, service, options.observer);
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
 * Adds, inside the SDK's retry loop (so once per HTTP attempt), a rate limit and a record of the attempt.
 */
function instrument(
  stack: MiddlewareStackLike,
  service: AwsService,
  observer: AwsCallObserver | undefined,
  limiter?: TokenBucket,
): void {
  stack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
      if (limiter !== undefined) await limiter.take();
      const started = performance.now();
      try {
        const out = await next(args);
        observer?.record({
          service,
          operation,
          outcome: "success",
          seconds: (performance.now() - started) / 1000,
        });
        return out;
      } catch (error) {
        const cls = classifyAwsError(service, operation, error).errorClass;
        observer?.record({ service, operation, outcome: cls, seconds: (performance.now() - started) / 1000 });
        throw error;
      }
    },
    { step: "finalizeRequest", priority: "low", name: `ecsLogOperator-${service}-instrument` },
  );
}
