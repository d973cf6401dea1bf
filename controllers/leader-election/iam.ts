/** An IAM policy statement, as `iam-policy` prints them. */
export interface LeaseIamStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string;
  readonly Condition?: Record<string, Record<string, string[]>>;
}

export interface LeaseTableAccess {
  /** `--leader-elect-table`. */
  readonly table: string;
  /** `--leader-elect-resource-name`: when given, item access is narrowed to that one lease. */
  readonly resourceName?: string | undefined;
  /** Whether `run` may create the table when it is missing (false when the deploy manifests create it). */
  readonly createTable: boolean;
  /** `*` when unknown. */
  readonly account: string;
  readonly region: string;
}

/**
 * Exactly what the lease needs on its table: GetItem and PutItem (every write is a conditional PutItem), on the lease's
 * own item when its name is known (`dynamodb:LeadingKeys`, the partition key); DescribeTable to check the table at
 * start; CreateTable only when the operator may create it.
 */
export function leaseTableStatements(access: LeaseTableAccess): LeaseIamStatement[] {
  const arn = `arn:aws:dynamodb:${access.region}:${access.account}:table/${access.table}`;
  const statements: LeaseIamStatement[] = [
    {
      Sid: "LeaderElectionLease",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem"],
      Resource: arn,
      ...(access.resourceName !== undefined
        ? { Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [access.resourceName] } } }
        : {}),
    },
    { Sid: "LeaderElectionLeaseTable", Effect: "Allow", Action: ["dynamodb:DescribeTable"], Resource: arn },
  ];
  if (access.createTable) {
    statements.push({
      Sid: "LeaderElectionCreateLeaseTable",
      Effect: "Allow",
      Action: ["dynamodb:CreateTable"],
      Resource: arn,
    });
  }
  return statements;
}
