import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import { awsCall, awsCallOrUndefined } from "../../controllers/aws/errors.ts";
import type { ObservedService, ObservedTaskDefinition, TaskDefinitionApi } from "./task-definition-api.ts";
import { toRegisterInput, type TaskDefinitionJson } from "./task-definition.ts";

export class AwsTaskDefinitionApi implements TaskDefinitionApi {
  private readonly ecs: ECSClient;

  constructor(clients: { ecs: ECSClient }) {
    this.ecs = clients.ecs;
  }

  async describeLatest(family: string, signal?: AbortSignal): Promise<ObservedTaskDefinition | undefined> {
    // DescribeTaskDefinition with a bare family resolves to the family's latest ACTIVE revision in ECS. Emulators
    // may answer with a newer INACTIVE one; then the revisions below it are read, newest first (a few at most, and
    // with DescribeTaskDefinition only, so the operator's IAM policy needs nothing more).
    let latest = await this.describe(family, signal);
    for (let tries = 0; latest !== undefined && latest.status !== "ACTIVE" && tries < 20; tries++) {
      if (latest.revision <= 1) return undefined;
      latest = await this.describe(`${family}:${latest.revision - 1}`, signal);
    }
    return latest?.status === "ACTIVE" ? latest : undefined;
  }

  async describe(taskDefinition: string, signal?: AbortSignal): Promise<ObservedTaskDefinition | undefined> {
    const out = await awsCallOrUndefined("ecs", "DescribeTaskDefinition", async () => {
      try {
        return await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ["TAGS"] }), {
          abortSignal: signal,
        });
      } catch (error) {
        // ECS answers an unknown family with ClientException "Unable to describe task definition."
        if (isUnknownTaskDefinition(error)) return undefined;
        throw error;
      }
    });
    const td = out?.taskDefinition;
    if (td === undefined || td.taskDefinitionArn === undefined) return undefined;
    return {
      arn: td.taskDefinitionArn,
      revision: td.revision ?? 0,
      status: td.status ?? "ACTIVE",
      definition: toRegisterInput(td as Record<string, unknown>),
      tags: (out?.tags ?? []).map((t) => ({ key: t.key ?? "", value: t.value ?? "" })),
    };
  }

  async register(
    definition: TaskDefinitionJson,
    tags: readonly { key: string; value: string }[],
    signal?: AbortSignal,
  ): Promise<{ arn: string; revision: number }> {
    const input = { ...definition, tags: [...tags] } as unknown as RegisterTaskDefinitionCommandInput;
    const out = await awsCall("ecs", "RegisterTaskDefinition", () =>
      this.ecs.send(new RegisterTaskDefinitionCommand(input), { abortSignal: signal }),
    );
    return { arn: out.taskDefinition?.taskDefinitionArn ?? "", revision: out.taskDefinition?.revision ?? 0 };
  }

  async describeService(
    cluster: string,
    service: string,
    signal?: AbortSignal,
  ): Promise<ObservedService | undefined> {
    const out = await awsCallOrUndefined("ecs", "DescribeServices", () =>
      this.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: signal }),
    );
    const s = out?.services?.find((x) => x.serviceName === service && x.status !== "INACTIVE");
    if (s === undefined || s.taskDefinition === undefined) return undefined;
    return { cluster, service, taskDefinitionArn: s.taskDefinition };
  }

  async updateServiceTaskDefinition(
    cluster: string,
    service: string,
    taskDefinitionArn: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await awsCall("ecs", "UpdateService", () =>
      this.ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: taskDefinitionArn }), {
        abortSignal: signal,
      }),
    );
  }
}

function isUnknownTaskDefinition(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return (
    (e.name === "ClientException" && /unable to describe task definition/i.test(e.message ?? "")) ||
    e.name === "TaskDefinitionNotFoundException"
  );
}
