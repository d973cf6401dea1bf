import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const TARGET_PREFIX = "Logs_20140328.";

/**
 * A loopback proxy in front of the emulator for CloudWatch Logs requests, making moto answer as CloudWatch Logs does
 * where the LogAlarm tests depend on it (moto 5.2):
 * - PutMetricFilter of a name the log group already has replaces that filter ("Creates or updates a metric filter",
 *   https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html); moto appends a
 *   second filter of the same name. The proxy deletes the old one first.
 * - PutMetricFilter and DescribeMetricFilters on a log group that does not exist fail with
 *   ResourceNotFoundException, as in AWS; moto accepts them.
 * Everything else passes through unchanged. moto checks no signature, so the proxy's own requests reuse the
 * caller's headers (its credential scope names the region).
 */
export class LogsEmulatorProxy {
  readonly endpoint: string;
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(target: string): Promise<LogsEmulatorProxy> {
    const server = createServer((req, res) => {
      void handle(target, req, res).catch((error: unknown) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new LogsEmulatorProxy(server);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function handle(target: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  const headers = Object.fromEntries(
    Object.entries(req.headers).flatMap(([k, v]) =>
      v === undefined || k === "host" || k === "content-length"
        ? []
        : [[k, Array.isArray(v) ? v.join(",") : v]],
    ),
  );
  const send = (operation: string | undefined, payload: string) =>
    fetch(`${target}${req.url ?? "/"}`, {
      method: req.method ?? "POST",
      headers:
        operation === undefined ? headers : { ...headers, "x-amz-target": `${TARGET_PREFIX}${operation}` },
      body: req.method === "GET" || req.method === "HEAD" ? undefined : payload,
    });
  const operation = String(req.headers["x-amz-target"] ?? "").replace(TARGET_PREFIX, "");
  if (operation === "PutMetricFilter" || operation === "DescribeMetricFilters") {
    const input = JSON.parse(body || "{}") as { logGroupName?: string; filterName?: string };
    if (input.logGroupName !== undefined) {
      const groups = (await (
        await send("DescribeLogGroups", JSON.stringify({ logGroupNamePrefix: input.logGroupName }))
      ).json()) as { logGroups?: { logGroupName?: string }[] };
      if (!(groups.logGroups ?? []).some((g) => g.logGroupName === input.logGroupName)) {
        res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
        res.end(
          JSON.stringify({
            __type: "ResourceNotFoundException",
            message: "The specified log group does not exist.",
          }),
        );
        return;
      }
      if (operation === "PutMetricFilter") {
        await send(
          "DeleteMetricFilter",
          JSON.stringify({ logGroupName: input.logGroupName, filterName: input.filterName }),
        );
      }
    }
  }
  const answer = await send(undefined, body);
  res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
  res.end(Buffer.from(await answer.arrayBuffer()));
}
