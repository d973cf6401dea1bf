import { describe, expect, it } from "vitest";
import { leaseTableStatements } from "./iam.ts";

const base = { table: "ecs-log-operator-leases", account: "123456789012", region: "eu-west-1" };
const ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/ecs-log-operator-leases";

describe("leaseTableStatements", () => {
  it("grants exactly the item reads and conditional writes on the lease's own item, and DescribeTable", () => {
    expect(leaseTableStatements({ ...base, resourceName: "prod", createTable: false })).toEqual([
      {
        Sid: "LeaderElectionLease",
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:PutItem"],
        Resource: ARN,
        Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["prod"] } },
      },
      { Sid: "LeaderElectionLeaseTable", Effect: "Allow", Action: ["dynamodb:DescribeTable"], Resource: ARN },
    ]);
  });

  it("adds CreateTable only when the operator may create the table; any item when the lease name is not known", () => {
    const statements = leaseTableStatements({ ...base, createTable: true });
    expect(statements.map((s) => s.Action).flat()).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DescribeTable",
      "dynamodb:CreateTable",
    ]);
    expect(statements[0]?.Condition).toBeUndefined();
    expect(statements.every((s) => s.Resource === ARN)).toBe(true);
  });
});
