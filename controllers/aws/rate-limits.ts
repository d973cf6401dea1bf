/**
 * Client-side request limits per AWS service: the account's quotas are shared with everything else in it, so the
 * operator keeps under them instead of finding them through throttling errors (which the SDK still retries).
 */
export interface RateLimit {
  /** Requests a second, sustained. */
  readonly perSecond: number;
  /** Requests that may go at once after a quiet spell. */
  readonly burst: number;
}

/** The services the operator limits, by IAM prefix (flags `--route53-rps`, `--ecs-rps`, `--cloudmap-rps`, ...). */
export type RateLimitedService = "route53" | "ecs" | "servicediscovery" | "autoscaling" | "ec2";

/**
 * Defaults under what AWS publishes. Route 53: 5 requests a second per account. ECS: its read actions' token
 * bucket holds 50 and refills at 20 a second, per account and Region. EC2: non-mutating actions (DescribeInstances)
 * hold 100 and refill at 20 a second. Cloud Map publishes a quota for DiscoverInstances only (which the operator
 * does not call) and Auto Scaling none per action: no limit by default there, set one with the flag where the
 * account's other users need room.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Partial<Record<RateLimitedService, RateLimit>>> = {
  route53: { perSecond: 5, burst: 5 },
  ecs: { perSecond: 20, burst: 50 },
  ec2: { perSecond: 20, burst: 100 },
};

/** The limits in force: the defaults, each replaced by a rate given (its burst then the rate, at least 1). */
export function rateLimits(
  given: Readonly<Partial<Record<RateLimitedService, number | undefined>>> = {},
): Partial<Record<RateLimitedService, RateLimit>> {
  const out: Partial<Record<RateLimitedService, RateLimit>> = { ...DEFAULT_RATE_LIMITS };
  for (const [service, perSecond] of Object.entries(given) as [RateLimitedService, number | undefined][]) {
    if (perSecond !== undefined) out[service] = { perSecond, burst: Math.max(1, Math.ceil(perSecond)) };
  }
  return out;
}
