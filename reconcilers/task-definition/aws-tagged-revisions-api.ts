import type { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { awsPages } from "../../controllers/aws/pages.ts";
import {
  parseTaskDefinitionArn,
  type TaggedRevision,
  type TaggedRevisionsApi,
} from "./tagged-revisions-api.ts";

/**
 * The Resource Groups Tagging API's GetResources, filtered to ECS task definitions and one tag: one paginated listing
 * across every family, where ECS itself only describes revisions one at a time. The SDK module and its client are
 * loaded on first use, so a process that patches no task definition never loads them.
 */
export class AwsTaggedRevisionsApi implements TaggedRevisionsApi {
  private readonly clients: AwsClients;
  private client: ResourceGroupsTaggingAPIClient | undefined;

  constructor(clients: AwsClients) {
    this.clients = clients;
  }

  async withTag(key: string, value: string, signal?: AbortSignal): Promise<TaggedRevision[]> {
    const { paginateGetResources, ResourceGroupsTaggingAPIClient } =
      await import("@aws-sdk/client-resource-groups-tagging-api");
    this.client ??= this.clients.client("tag", (config) => new ResourceGroupsTaggingAPIClient(config));
    const pages = paginateGetResources(
      { client: this.client, pageSize: 100 },
      { ResourceTypeFilters: ["ecs:task-definition"], TagFilters: [{ Key: key, Values: [value] }] },
      { abortSignal: signal },
    );
    const out: TaggedRevision[] = [];
    for await (const page of awsPages("tag", "GetResources", pages)) {
      for (const r of page.ResourceTagMappingList ?? []) {
        const parsed = parseTaskDefinitionArn(r.ResourceARN ?? "");
        if (parsed === undefined) continue;
        out.push({
          arn: r.ResourceARN!,
          ...parsed,
          tags: (r.Tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value ?? "" })),
        });
      }
    }
    return out;
  }
}
