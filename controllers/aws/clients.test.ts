import { CreateServiceCommand, ListServicesCommand } from "@aws-sdk/client-servicediscovery";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../clock.ts";
import { createAwsClients, type AwsCallRecord, type AwsSdkConfig } from "./clients.ts";
import { TickReadCache } from "./read-cache.ts";
import { OperatorRetryStrategy } from "./retry-strategy.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createAwsClients", () => {
  it("builds a client of another service as it builds its own: same configuration, instrumented, destroyed with them", async () => {
    const clients = createAwsClients({
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 2,
      connectTimeoutMs: 1_500,
      requestTimeoutMs: 7_000,
    });
    let destroyed = false;
    let given: AwsSdkConfig | undefined;
    const other = clients.client("logs", (config) => {
      given = config;
      const client = new SQSClient(config);
      const destroy = client.destroy.bind(client);
      client.destroy = () => {
        destroyed = true;
        destroy();
      };
      return client;
    });
    expect(await other.config.region()).toBe("eu-west-1");
    expect(await other.config.maxAttempts()).toBe(2);
    expect(other.middlewareStack.identify().join(" ")).toContain("ecsLogOperator-logs-instrument");
    // Its deadlines and its retries are the operator's, as for every client.
    expect(given?.requestHandler).toEqual({
      connectionTimeout: 1_500,
      requestTimeout: 7_000,
      throwOnRequestTimeout: true,
    });
    expect(given?.retryStrategy).toBeInstanceOf(OperatorRetryStrategy);
    clients.destroy();
    expect(destroyed).toBe(true);
  });

  it("puts the read cache above the rate limit and the request guard: a hit sends nothing, a refused write keeps the tick's reads", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
    const reads = new TickReadCache({ clock: new ManualClock() });
    let leading = false;
    const guarded: string[] = [];
    const recorded: AwsCallRecord[] = [];
    const clients = createAwsClients({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 1,
      readCache: reads,
      observer: { record: (call) => recorded.push(call) },
      requestGuard: (_service, operation) => {
        guarded.push(operation);
        if (!leading && operation === "CreateService") throw new Error("not leading");
      },
    });
    // AWS, as the innermost step: what reaches it was sent.
    const sent: string[] = [];
    clients.serviceDiscovery.middlewareStack.add(
      (_next, context) => async () => {
        sent.push(context.commandName ?? "");
        return { output: { Services: [], $metadata: {} }, response: {} };
      },
      { step: "deserialize", priority: "high", name: "test-aws" },
    );
    const list = () => clients.serviceDiscovery.send(new ListServicesCommand({}));
    const create = () => clients.serviceDiscovery.send(new CreateServiceCommand({ Name: "app" }));

    await list();
    await list();
    expect(sent).toEqual(["ListServicesCommand"]);
    // The hit was neither checked nor recorded: it is no request.
    expect(guarded).toEqual(["ListServices"]);
    expect(recorded.map((c) => c.operation)).toEqual(["ListServices"]);

    await expect(create()).rejects.toThrow("not leading");
    await list();
    // Refused before sending: AWS is as the tick read it, so the listing still serves.
    expect(sent).toEqual(["ListServicesCommand"]);
    expect(reads.stats()).toMatchObject({ hits: 2, misses: 1 });

    leading = true;
    await create();
    await list();
    // A write that went out makes the listing stale.
    expect(sent).toEqual(["ListServicesCommand", "CreateServiceCommand", "ListServicesCommand"]);
    clients.destroy();
  });
});
