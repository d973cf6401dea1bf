import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { AwsCloudMapApi } from "../../reconcilers/cloud-map/aws-cloud-map-api.ts";
import { OperationInProgressError } from "../../reconcilers/cloud-map/cloud-map-api.ts";

/**
 * What the emulator does not model, on the wire through the real SDK client: moto ignores ListOperations' Filters
 * (and lists only namespace operations) and never answers DuplicateRequest. An HTTP endpoint on loopback answers
 * these two as AWS documents them (ListOperations: "Cloud Map gets MaxResults operations and then filters them", so a
 * page may be empty with a NextToken; RegisterInstance: DuplicateRequest with DuplicateOperationId), and records
 * what the adapter sent.
 */
interface Sent {
  readonly target: string;
  readonly body: Record<string, unknown>;
}

let server: Server;
let clients: AwsClients;
const sent: Sent[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      sent.push({ target, body });
      const answer = (status: number, payload: unknown, type?: string): void => {
        res.writeHead(status, {
          "content-type": "application/x-amz-json-1.1",
          ...(type !== undefined ? { "x-amzn-errortype": type } : {}),
        });
        res.end(JSON.stringify(payload));
      };
      if (target === "ListOperations") {
        // First page empty (filtered away), then the matching operations, SUCCESS among them as the emulator does.
        if (body.NextToken === undefined) return answer(200, { Operations: [], NextToken: "page-2" });
        return answer(200, {
          Operations: [
            { Id: "op-pending", Status: "PENDING" },
            { Id: "op-failed", Status: "FAIL" },
            { Id: "op-done", Status: "SUCCESS" },
          ],
        });
      }
      if (target === "RegisterInstance") {
        return answer(
          400,
          {
            __type: "DuplicateRequest",
            Message: "The operation is already in progress.",
            DuplicateOperationId: "op-in-progress",
          },
          "DuplicateRequest",
        );
      }
      answer(400, { __type: "InvalidInput", Message: `not served: ${target}` }, "InvalidInput");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  // Dummy credentials, found by the SDK's standard chain as the emulator's are (harness.ts).
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "it", AWS_SECRET_ACCESS_KEY: "it" });
  clients = createAwsClients({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", maxAttempts: 1 });
});

afterAll(async () => {
  clients?.destroy();
  await new Promise<void>((r) => server?.close(() => r()));
});

describe("AwsCloudMapApi's operation calls on the wire", () => {
  it("lists one service's unfinished operations with AWS's filters, follows every page, and keeps only those statuses", async () => {
    sent.length = 0;
    const api = new AwsCloudMapApi(clients);
    const listed = await api.listServiceOperations({
      serviceId: "srv-1",
      statuses: ["SUBMITTED", "PENDING", "FAIL"],
      updatedFrom: 1_700_000_000_500,
      updatedTo: 1_700_000_900_200,
    });
    expect(listed).toEqual([
      { id: "op-pending", status: "PENDING" },
      { id: "op-failed", status: "FAIL" },
    ]);
    expect(sent.map((s) => s.target)).toEqual(["ListOperations", "ListOperations"]);
    expect(sent[0]?.body).toEqual({
      MaxResults: 100,
      Filters: [
        { Name: "SERVICE_ID", Values: ["srv-1"], Condition: "EQ" },
        { Name: "STATUS", Values: ["SUBMITTED", "PENDING", "FAIL"], Condition: "IN" },
        // Unix seconds, the start first, widened to whole seconds.
        { Name: "UPDATE_DATE", Values: ["1700000000", "1700000901"], Condition: "BETWEEN" },
      ],
    });
    expect(sent[1]?.body.NextToken).toBe("page-2");
  });

  it("turns DuplicateRequest into the operation in progress that the caller can wait for", async () => {
    const api = new AwsCloudMapApi(clients);
    const error = await api
      .registerInstance({ serviceId: "srv-1", instanceId: "t1", attributes: {}, creatorRequestId: "tok" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationInProgressError);
    expect((error as OperationInProgressError).operationId).toBe("op-in-progress");
  });
});
