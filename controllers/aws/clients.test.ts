import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createAwsClients, type AwsSdkConfig } from "./clients.ts";
import { OperatorRetryStrategy } from "./retry-strategy.ts";

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
});
