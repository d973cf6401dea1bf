import type { ConfigObjectStore } from "../reconcilers/task-definition/config-object-store.ts";
import type {
  TaggedRevision,
  TaggedRevisionsApi,
} from "../reconcilers/task-definition/tagged-revisions-api.ts";
import type {
  ObservedService,
  ObservedTaskDefinition,
  TaskDefinitionApi,
} from "../reconcilers/task-definition/task-definition-api.ts";
import type { TaskDefinitionJson } from "../reconcilers/task-definition/task-definition.ts";

/** Revisions and services in memory: the reconciler's own interfaces, not the SDK. */
export class MemoryTaskDefinitionApi implements TaskDefinitionApi, TaggedRevisionsApi {
  readonly revisions: ObservedTaskDefinition[] = [];
  readonly services = new Map<string, string>();
  readonly writes: string[] = [];

  add(definition: TaskDefinitionJson, tags: readonly { key: string; value: string }[] = []): string {
    const revision = this.revisions.length + 1;
    const arn = `arn:aws:ecs:us-east-1:123456789012:task-definition/${definition.family}:${revision}`;
    this.revisions.push({ arn, revision, definition: structuredClone(definition), tags: [...tags] });
    return arn;
  }
  async describeLatest(): Promise<ObservedTaskDefinition | undefined> {
    return this.revisions.at(-1);
  }
  async describe(td: string): Promise<ObservedTaskDefinition | undefined> {
    return this.revisions.find((r) => r.arn === td || r.arn.endsWith(`/${td}`));
  }
  async register(
    definition: TaskDefinitionJson,
    tags: readonly { key: string; value: string }[] = [],
  ): Promise<{ arn: string; revision: number }> {
    this.writes.push("register");
    const arn = this.add(definition, tags);
    return { arn, revision: this.revisions.length };
  }
  async withTag(key: string, value: string): Promise<TaggedRevision[]> {
    return this.revisions
      .filter((r) => r.tags.some((t) => t.key === key && t.value === value))
      .map((r) => ({ arn: r.arn, family: r.definition.family, revision: r.revision, tags: r.tags }));
  }
  async describeService(cluster: string, service: string): Promise<ObservedService | undefined> {
    const arn = this.services.get(`${cluster}/${service}`);
    return arn === undefined ? undefined : { cluster, service, taskDefinitionArn: arn };
  }
  async updateServiceTaskDefinition(cluster: string, service: string, arn: string): Promise<void> {
    this.writes.push(`update ${cluster}/${service}`);
    this.services.set(`${cluster}/${service}`, arn);
  }
}

/** Objects in memory, writing to the same log as the task definitions so that the order of writes shows. */
export class MemoryConfigObjectStore implements ConfigObjectStore {
  readonly objects = new Map<string, string>();
  readonly writes: string[];

  constructor(writes: string[]) {
    this.writes = writes;
  }
  async read(bucket: string, key: string): Promise<string | undefined> {
    return this.objects.get(`${bucket}/${key}`);
  }
  async write(bucket: string, key: string, body: string): Promise<void> {
    this.writes.push(`put s3://${bucket}/${key}`);
    this.objects.set(`${bucket}/${key}`, body);
  }
}
