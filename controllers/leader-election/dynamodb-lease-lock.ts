import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { awsCall, awsCallOrUndefined, AwsError } from "../aws/errors.ts";
import { systemClock, type Clock } from "../clock.ts";
import { LeaseConflictError, type LeaseFields, type LeaseLock, type LeaseRecord } from "./lease-lock.ts";

/** The lease table's partition key: the lease's resource name. One item per lease. */
export const LEASE_TABLE_KEY = "name";

/**
 * The lease as one DynamoDB item, written only with PutItem conditional on the item's absence (first acquisition) or
 * on its `version` attribute (every later write), so of two replicas writing from the same observed item exactly one
 * succeeds (ConditionalCheckFailedException for the other). Reads are strongly consistent: an eventually consistent
 * read could return a version older than one a follower has already seen.
 */
export class DynamoDbLeaseLock implements LeaseLock {
  readonly description: string;
  private readonly dynamodb: DynamoDBClient;
  private readonly table: string;
  private readonly name: string;

  constructor(options: { dynamodb: DynamoDBClient; table: string; name: string }) {
    this.dynamodb = options.dynamodb;
    this.table = options.table;
    this.name = options.name;
    this.description = `DynamoDB table ${options.table}, item ${options.name}`;
  }

  async get(signal?: AbortSignal): Promise<LeaseRecord | undefined> {
    const out = await awsCall("dynamodb", "GetItem", () =>
      this.dynamodb.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { [LEASE_TABLE_KEY]: { S: this.name } },
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      ),
    );
    return out.Item === undefined ? undefined : fromItem(out.Item);
  }

  create(fields: LeaseFields, signal?: AbortSignal): Promise<LeaseRecord> {
    return this.put(fields, "attribute_not_exists(#key)", {}, signal);
  }

  update(expectedVersion: string, fields: LeaseFields, signal?: AbortSignal): Promise<LeaseRecord> {
    // An item written by hand without a version is taken over as version "".
    return expectedVersion === ""
      ? this.put(fields, "attribute_exists(#key) AND attribute_not_exists(#version)", {}, signal)
      : this.put(fields, "#version = :expected", { ":expected": { S: expectedVersion } }, signal);
  }

  private async put(
    fields: LeaseFields,
    condition: string,
    values: Record<string, AttributeValue>,
    signal: AbortSignal | undefined,
  ): Promise<LeaseRecord> {
    const record: LeaseRecord = { ...fields, version: randomUUID() };
    // DynamoDB refuses names the expression does not use.
    const names: Record<string, string> = {};
    if (condition.includes("#key")) names["#key"] = LEASE_TABLE_KEY;
    if (condition.includes("#version")) names["#version"] = "version";
    try {
      await awsCall("dynamodb", "PutItem", () =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.table,
            Item: toItem(this.name, record),
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          }),
          { abortSignal: signal },
        ),
      );
    } catch (error) {
      if (error instanceof AwsError && error.code === "ConditionalCheckFailedException") {
        // The SDK retries a write whose answer was lost (a 5xx, a reset connection): when the first try had landed,
        // the retry fails its own condition. The version is ours alone (a fresh UUID), so finding it stored means
        // this write is the one that holds, not a conflict.
        if ((await this.get(signal).catch(() => undefined))?.version === record.version) return record;
        throw new LeaseConflictError(`${this.description} was written by another replica`, { cause: error });
      }
      throw error;
    }
    return record;
  }
}

function toItem(name: string, r: LeaseRecord): Record<string, AttributeValue> {
  return {
    [LEASE_TABLE_KEY]: { S: name },
    holder: { S: r.holder },
    epoch: { N: String(r.epoch) },
    version: { S: r.version },
    leaseDurationMs: { N: String(r.leaseDurationMs) },
    acquiredAt: { N: String(r.acquiredAt) },
    renewedAt: { N: String(r.renewedAt) },
    released: { BOOL: r.released },
  };
}

/** Reads an item defensively: one edited by hand still yields a record whose version the next write can match. */
function fromItem(item: Record<string, AttributeValue>): LeaseRecord {
  const n = (key: string) => {
    const v = Number(item[key]?.N);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    holder: item.holder?.S ?? "",
    epoch: n("epoch"),
    version: item.version?.S ?? "",
    leaseDurationMs: n("leaseDurationMs"),
    acquiredAt: n("acquiredAt"),
    renewedAt: n("renewedAt"),
    released: item.released?.BOOL === true,
  };
}

export class LeaseTableError extends Error {
  override readonly name = "LeaseTableError";
}

/**
 * Makes sure the lease table exists and is ACTIVE. When it is missing and `create` is allowed, creates it with
 * on-demand billing (a lease costs a few writes a second at most) and says so through `onCreate`; two replicas
 * creating it at once both succeed (ResourceInUseException means the other one won). Waits for ACTIVE at most
 * `timeoutMs`.
 */
export async function ensureLeaseTable(
  dynamodb: DynamoDBClient,
  table: string,
  options: {
    create: boolean;
    onCreate?: (table: string) => void;
    clock?: Clock;
    timeoutMs?: number;
    pollMs?: number;
    signal?: AbortSignal;
  },
): Promise<"exists" | "created"> {
  const clock = options.clock ?? systemClock;
  const signal = options.signal;
  const describe = () =>
    awsCallOrUndefined("dynamodb", "DescribeTable", () =>
      dynamodb.send(new DescribeTableCommand({ TableName: table }), { abortSignal: signal }),
    );
  let outcome: "exists" | "created" = "exists";
  let described = await describe();
  if (described === undefined) {
    if (!options.create) {
      throw new LeaseTableError(
        `the lease table ${table} does not exist: create it (manifests/deploy/ does), or let the operator create it`,
      );
    }
    try {
      await awsCall("dynamodb", "CreateTable", () =>
        dynamodb.send(
          new CreateTableCommand({
            TableName: table,
            AttributeDefinitions: [{ AttributeName: LEASE_TABLE_KEY, AttributeType: "S" }],
            KeySchema: [{ AttributeName: LEASE_TABLE_KEY, KeyType: "HASH" }],
            BillingMode: "PAY_PER_REQUEST",
          }),
          { abortSignal: signal },
        ),
      );
      outcome = "created";
      options.onCreate?.(table);
    } catch (error) {
      // Another replica created it first.
      if (!(error instanceof AwsError && error.code === "ResourceInUseException")) throw error;
    }
    described = await describe();
  }
  const start = clock.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  for (;;) {
    const status = described?.Table?.TableStatus;
    if (status === "ACTIVE") break;
    if (status !== undefined && status !== "CREATING" && status !== "UPDATING") {
      throw new LeaseTableError(`the lease table ${table} is ${status}`);
    }
    if (clock.now() - start >= timeoutMs) {
      throw new LeaseTableError(`the lease table ${table} is not ACTIVE after ${timeoutMs / 1000}s`);
    }
    await clock.sleep(options.pollMs ?? 1000, signal);
    described = await describe();
  }
  const key = described?.Table?.KeySchema;
  if (key?.length !== 1 || key[0]?.AttributeName !== LEASE_TABLE_KEY || key[0]?.KeyType !== "HASH") {
    throw new LeaseTableError(
      `the lease table ${table} must have the string partition key "${LEASE_TABLE_KEY}" and no sort key`,
    );
  }
  return outcome;
}
