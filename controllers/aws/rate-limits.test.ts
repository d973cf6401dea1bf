import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "../metrics.ts";
import { createAwsClients, type AwsCallObserver } from "./clients.ts";
import { DEFAULT_RATE_LIMITS, rateLimits } from "./rate-limits.ts";

describe("rateLimits", () => {
  it("keeps every service under AWS's published rates by default, and takes a rate given per service", () => {
    expect(rateLimits()).toEqual(DEFAULT_RATE_LIMITS);
    expect(rateLimits().route53).toEqual({ perSecond: 5, burst: 5 });
    expect(rateLimits().ecs).toEqual({ perSecond: 20, burst: 50 });
    expect(rateLimits().servicediscovery).toBeUndefined();
    const given = rateLimits({ ecs: 2.5, servicediscovery: 40, route53: undefined });
    expect(given.ecs).toEqual({ perSecond: 2.5, burst: 3 });
    expect(given.servicediscovery).toEqual({ perSecond: 40, burst: 40 });
    expect(given.route53).toEqual({ perSecond: 5, burst: 5 });
  });

  it("reports each request's wait for its limiter, which the metrics expose per service", async () => {
    const waits: string[] = [];
    const observer: AwsCallObserver = {
      record: () => undefined,
      rateLimitWaited: (service) => waits.push(service),
    };
    const clients = createAwsClients({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 1,
      observer,
      requestsPerSecond: { servicediscovery: 1000 },
    });
    const stack = clients.serviceDiscovery.middlewareStack;
    stack.add(() => async () => ({ output: { Services: [], $metadata: {} }, response: {} }), {
      step: "finalizeRequest",
      priority: "low",
      name: "test-answer",
    });
    const { ListServicesCommand } = await import("@aws-sdk/client-servicediscovery");
    clients.serviceDiscovery.config.credentials = async () => ({ accessKeyId: "t", secretAccessKey: "t" });
    await clients.serviceDiscovery.send(new ListServicesCommand({}));
    clients.destroy();
    expect(waits).toEqual(["servicediscovery"]);

    const registry = new Registry();
    new ControllerMetrics(registry).rateLimitWaited("ecs", 0.4);
    expect(await registry.metrics()).toContain(
      'ecs_log_operator_aws_rate_limit_wait_seconds_bucket{le="0.5",service="ecs"} 1',
    );
  });
});
