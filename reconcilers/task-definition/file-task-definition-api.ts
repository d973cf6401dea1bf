import { readFile } from "node:fs/promises";
import type { ObservedService, ObservedTaskDefinition, TaskDefinitionApi } from "./task-definition-api.ts";
import { toRegisterInput, type TaskDefinitionJson } from "./task-definition.ts";

/**
 * Task definitions read from JSON files instead of ECS, for `render --from FILE` (offline, e.g. in CI). A family
 * without a file is asked of `fallback` (ECS), or reported as unreadable when there is none. Read-only: it never
 * registers or rolls anything.
 */
export class FileTaskDefinitionApi implements TaskDefinitionApi {
  private readonly files: ReadonlyMap<string, ObservedTaskDefinition>;
  private readonly fallback: (() => TaskDefinitionApi) | undefined;

  constructor(files: ReadonlyMap<string, ObservedTaskDefinition>, fallback?: () => TaskDefinitionApi) {
    this.files = files;
    this.fallback = fallback;
  }

  /**
   * Reads task definition files: RegisterTaskDefinition input, a task definition as DescribeTaskDefinition returns
   * it, or a whole DescribeTaskDefinition answer (`{"taskDefinition": ..., "tags": [...]}`).
   */
  static async readFiles(paths: readonly string[]): Promise<Map<string, ObservedTaskDefinition>> {
    const out = new Map<string, ObservedTaskDefinition>();
    for (const path of paths) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(path, "utf8"));
      } catch (error) {
        throw new TaskDefinitionFileError(
          `${path}: cannot read a task definition: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const record = isRecord(parsed) ? parsed : {};
      const td = isRecord(record.taskDefinition) ? record.taskDefinition : record;
      let definition: TaskDefinitionJson;
      try {
        definition = toRegisterInput(td);
      } catch (error) {
        throw new TaskDefinitionFileError(
          `${path}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const tags = Array.isArray(record.tags) ? (record.tags as { key: string; value: string }[]) : [];
      out.set(definition.family, {
        arn: `file:${path}`,
        revision: typeof td.revision === "number" ? td.revision : 0,
        definition,
        tags,
      });
    }
    return out;
  }

  async describeLatest(family: string, signal?: AbortSignal): Promise<ObservedTaskDefinition | undefined> {
    const file = this.files.get(family);
    if (file !== undefined) return file;
    if (this.fallback === undefined) {
      throw new TaskDefinitionFileError(
        `family ${family} cannot be read offline: give its task definition with --from FILE, or let render read ECS`,
      );
    }
    try {
      return await this.fallback().describeLatest(family, signal);
    } catch (error) {
      throw new TaskDefinitionFileError(
        `family ${family} cannot be read from AWS (${error instanceof Error ? error.message : String(error)}); ` +
          "to render offline, give its task definition with --from FILE",
        { cause: error },
      );
    }
  }

  async describe(taskDefinition: string, signal?: AbortSignal): Promise<ObservedTaskDefinition | undefined> {
    return this.fallback?.().describe(taskDefinition, signal);
  }

  register(): Promise<{ arn: string; revision: number }> {
    return Promise.reject(new Error("render registers nothing"));
  }

  async describeService(): Promise<ObservedService | undefined> {
    return undefined;
  }

  updateServiceTaskDefinition(): Promise<void> {
    return Promise.reject(new Error("render rolls out nothing"));
  }
}

export class TaskDefinitionFileError extends Error {
  override readonly name = "TaskDefinitionFileError";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
