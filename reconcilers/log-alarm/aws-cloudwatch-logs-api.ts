import type {
  CloudWatchLogsClient,
  MetricFilter,
  MetricTransformation as SdkTransformation,
} from "@aws-sdk/client-cloudwatch-logs";
import { awsCall, awsCallOrUndefined } from "../../controllers/aws/errors.ts";
import type {
  CloudWatchLogsApi,
  FilterConfig,
  ObservedFilter,
  ObservedTransformation,
} from "./log-alarm-api.ts";

const LOGS = "logs";

/**
 * CloudWatch Logs through the SDK. The client, and the SDK module with it, are loaded on first use, so the offline
 * commands that list this kind (`validate`, `test-pattern`) never load them.
 */
export class AwsCloudWatchLogsApi implements CloudWatchLogsApi {
  private readonly client: () => Promise<CloudWatchLogsClient>;

  constructor(clients: { logs: () => Promise<CloudWatchLogsClient> }) {
    this.client = clients.logs;
  }

  async logGroupExists(name: string, signal?: AbortSignal): Promise<boolean> {
    const client = await this.client();
    const { DescribeLogGroupsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    let nextToken: string | undefined;
    do {
      const page = await awsCall(LOGS, "DescribeLogGroups", () =>
        client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }), {
          abortSignal: signal,
        }),
      );
      if ((page.logGroups ?? []).some((g) => g.logGroupName === name)) return true;
      nextToken = page.nextToken;
    } while (nextToken);
    return false;
  }

  async filtersOfGroup(logGroup: string, signal?: AbortSignal): Promise<ObservedFilter[]> {
    return this.describe({ logGroupName: logGroup }, signal);
  }

  async filtersOfMetric(
    namespace: string,
    metricName: string,
    signal?: AbortSignal,
  ): Promise<ObservedFilter[]> {
    return this.describe({ metricNamespace: namespace, metricName }, signal);
  }

  private async describe(
    filter: { logGroupName?: string; metricNamespace?: string; metricName?: string },
    signal?: AbortSignal,
  ): Promise<ObservedFilter[]> {
    const client = await this.client();
    const { DescribeMetricFiltersCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    const out: ObservedFilter[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(LOGS, "DescribeMetricFilters", () =>
        client.send(new DescribeMetricFiltersCommand({ ...filter, nextToken }), { abortSignal: signal }),
      );
      out.push(...(page.metricFilters ?? []).map(toObservedFilter));
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  async putFilter(
    filter: FilterConfig & { readonly logGroup: string; readonly name: string },
    signal?: AbortSignal,
  ): Promise<void> {
    const client = await this.client();
    const { PutMetricFilterCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    await awsCall(LOGS, "PutMetricFilter", () =>
      client.send(
        new PutMetricFilterCommand({
          logGroupName: filter.logGroup,
          filterName: filter.name,
          filterPattern: filter.pattern,
          metricTransformations: [
            {
              metricNamespace: filter.metric.namespace,
              metricName: filter.metric.name,
              metricValue: filter.metric.value,
              ...(filter.metric.defaultValue !== undefined
                ? { defaultValue: filter.metric.defaultValue }
                : {}),
            },
          ],
        }),
        { abortSignal: signal },
      ),
    );
  }

  async deleteFilter(logGroup: string, name: string, signal?: AbortSignal): Promise<boolean> {
    const client = await this.client();
    const { DeleteMetricFilterCommand } = await import("@aws-sdk/client-cloudwatch-logs");
    const out = await awsCallOrUndefined(LOGS, "DeleteMetricFilter", () =>
      client.send(new DeleteMetricFilterCommand({ logGroupName: logGroup, filterName: name }), {
        abortSignal: signal,
      }),
    );
    return out !== undefined;
  }
}

function toObservedFilter(f: MetricFilter): ObservedFilter {
  const extras: string[] = [];
  if (f.applyOnTransformedLogs === true) extras.push("applyOnTransformedLogs");
  if (f.fieldSelectionCriteria) extras.push(`fieldSelectionCriteria ${f.fieldSelectionCriteria}`);
  if ((f.emitSystemFieldDimensions ?? []).length > 0) extras.push("emitSystemFieldDimensions");
  return {
    name: f.filterName ?? "",
    logGroup: f.logGroupName ?? "",
    pattern: f.filterPattern ?? "",
    transformations: (f.metricTransformations ?? []).map(toObservedTransformation),
    extras,
  };
}

function toObservedTransformation(t: SdkTransformation): ObservedTransformation {
  const extras: string[] = [];
  // "If you omit this, the unit is set as None."
  if (t.unit !== undefined && t.unit !== "None") extras.push(`unit ${t.unit}`);
  const dims = Object.entries(t.dimensions ?? {});
  if (dims.length > 0) extras.push(`dimensions ${dims.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  return {
    namespace: t.metricNamespace ?? "",
    name: t.metricName ?? "",
    value: t.metricValue ?? "",
    defaultValue: t.defaultValue ?? undefined,
    extras,
  };
}
