import { describe, expect, it } from "vitest";
import { comparable, toRegisterInput, type TaskDefinitionJson } from "./task-definition.ts";

describe("toRegisterInput and comparable", () => {
  it("drops what ECS adds on its own and compares regardless of option order and router user 0", () => {
    const described = {
      taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/f:3",
      revision: 3,
      status: "ACTIVE",
      compatibilities: ["EC2", "FARGATE"],
      requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awsfirelens" }],
      registeredAt: new Date(0),
      family: "f",
      networkMode: "awsvpc",
      volumes: [],
      placementConstraints: [],
      containerDefinitions: [
        {
          name: "app",
          image: "app:1",
          cpu: 0,
          portMappings: [{ containerPort: 80, hostPort: 80, protocol: "tcp" }],
          essential: true,
          environment: [
            { name: "B", value: "2" },
            { name: "A", value: "1" },
          ],
          mountPoints: [],
          volumesFrom: [],
          logConfiguration: {
            logDriver: "awsfirelens",
            options: { TLS: "on", Name: "datadog" },
            secretOptions: [],
          },
        },
        { name: "r", image: "fb", user: "0", firelensConfiguration: { type: "fluentbit", options: {} } },
      ],
    };
    const input = toRegisterInput(described);
    expect(input).toEqual({
      family: "f",
      networkMode: "awsvpc",
      containerDefinitions: [
        {
          name: "app",
          image: "app:1",
          portMappings: [{ containerPort: 80, hostPort: 80, protocol: "tcp" }],
          essential: true,
          environment: [
            { name: "B", value: "2" },
            { name: "A", value: "1" },
          ],
          logConfiguration: { logDriver: "awsfirelens", options: { TLS: "on", Name: "datadog" } },
        },
        { name: "r", image: "fb", user: "0", firelensConfiguration: { type: "fluentbit" } },
      ],
    });
    const written: TaskDefinitionJson = {
      family: "f",
      networkMode: "awsvpc",
      containerDefinitions: [
        {
          name: "app",
          image: "app:1",
          portMappings: [{ containerPort: 80 }],
          environment: [
            { name: "A", value: "1" },
            { name: "B", value: "2" },
          ],
          logConfiguration: { logDriver: "awsfirelens", options: { Name: "datadog", TLS: "on" } },
        },
        { name: "r", image: "fb", firelensConfiguration: { type: "fluentbit" } },
      ],
    };
    expect(comparable(input)).toBe(comparable(written));
    const withDefaults = structuredClone(input);
    withDefaults.containerDefinitions[0]!.healthCheck = {
      command: ["CMD", "true"],
      interval: 30,
      timeout: 5,
      retries: 3,
    };
    withDefaults.containerDefinitions[0]!.volumesFrom = [{ sourceContainer: "r", readOnly: false }];
    const withoutDefaults = structuredClone(written);
    withoutDefaults.containerDefinitions[0]!.healthCheck = { command: ["CMD", "true"] };
    withoutDefaults.containerDefinitions[0]!.volumesFrom = [{ sourceContainer: "r" }];
    expect(comparable(withDefaults)).toBe(comparable(withoutDefaults));
    written.containerDefinitions[0]!.image = "app:2";
    expect(comparable(input)).not.toBe(comparable(written));
  });
});
