import { readFileSync } from "node:fs";
import type { RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import type { TaskDefinitionJson } from "../../reconcilers/task-definition/task-definition.ts";

/** The task definitions the task-definition tests register, as `aws ecs describe-task-definition` prints them. */
export const TD = "test/fixtures/task-definitions";

export const fixture = (name: string): TaskDefinitionJson =>
  JSON.parse(readFileSync(`${TD}/${name}`, "utf8")) as TaskDefinitionJson;

/** A fixture as the SDK's RegisterTaskDefinition input (the JSON has the same shape). */
export const registerInput = (td: TaskDefinitionJson): RegisterTaskDefinitionCommandInput =>
  td as unknown as RegisterTaskDefinitionCommandInput;
