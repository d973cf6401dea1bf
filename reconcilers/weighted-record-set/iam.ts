import { arnOf, sortedUnique, type IamContext, type PolicyStatement } from "../../controllers/iam.ts";
import { ecsTaskStatements, privateAddressStatement } from "../ecs-tasks/ecs-task-iam.ts";
import type { WeightedRecordSetSpec } from "./kind.ts";
import { fenceIamRecordNames } from "./route53-fence.ts";

/** A hosted zone id as Route 53 prints it (`Z0123456789ABC`), as opposed to a zone name. */
const ZONE_ID = /^Z[A-Z0-9]{1,32}$/;

/**
 * Every pass sweeps every zone for records this owner wrote at names no spec covers any more (`orphans.ts`), so
 * reading is granted on all zones; changes are narrowed to the zones given by id and to the specs' record names,
 * unless --allow-prune lets the sweep delete at other names.
 */
export function weightedRecordSetStatements(
  specs: readonly WeightedRecordSetSpec[],
  ctx: IamContext,
): PolicyStatement[] {
  const out: PolicyStatement[] = [
    ...ecsTaskStatements(
      specs.flatMap((r) => (r.targets.ecsTasks === undefined ? [] : [r.targets.ecsTasks])),
      ctx,
    ),
  ];
  if (specs.some((r) => r.targets.autoScalingGroup !== undefined)) out.push(privateAddressStatement());
  if (ctx.sweeping || specs.length > 0) {
    out.push({
      Sid: "Route53ReadZones",
      Effect: "Allow",
      Action: [
        "route53:GetHostedZone",
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
      ],
      Resource: "*",
    });
  }
  if (specs.length > 0 || (ctx.allowPrune && ctx.sweeping)) {
    const zones = sortedUnique(
      specs.map((r) => (ZONE_ID.test(r.hostedZone) && !ctx.allowPrune ? r.hostedZone : "*")),
    );
    const zoneArns =
      zones.length === 0 || zones.includes("*")
        ? ["arn:aws:route53:::hostedzone/*"]
        : zones.map((z) => `arn:aws:route53:::hostedzone/${z}`);
    // The registry records that say who owns the records live at `_elo-<type>.<name>` (registry.ts).
    const names = sortedUnique(
      specs.flatMap((r) => {
        const name = normalizeRecordName(r.name);
        return [name, `_elo-${r.type.toLowerCase()}.${name}`];
      }),
    );
    const types = sortedUnique([...specs.map((r) => r.type), "TXT"]);
    const namesKey = "route53:ChangeResourceRecordSetsNormalizedRecordNames";
    const typesKey = "route53:ChangeResourceRecordSetsRecordTypes";
    // With leader election every batch also deletes and creates two TXT records of the lease's fence: a ForAllValues
    // condition must admit every name of a request, so the fence's names join the specs' as StringLike patterns (a
    // spec's wildcard name `*.x` then also admits the names below x).
    const fence = ctx.fencedLease;
    const condition: PolicyStatement["Condition"] =
      fence === undefined
        ? { "ForAllValues:StringEquals": { [namesKey]: names, [typesKey]: types } }
        : {
            "ForAllValues:StringLike": {
              [namesKey]: [...names, ...fenceIamRecordNames(fence.resourceName)],
            },
            "ForAllValues:StringEquals": { [typesKey]: types },
          };
    out.push({
      Sid: "Route53ChangeOwnRecords",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: zoneArns,
      ...(ctx.allowPrune ? {} : { Condition: condition }),
    });
  }
  const groups = sortedUnique(
    specs.flatMap((r) => (r.targets.autoScalingGroup === undefined ? [] : [r.targets.autoScalingGroup])),
  );
  if (groups.length > 0) {
    out.push({
      Sid: "AutoScalingReadsGroupsForTargets",
      Effect: "Allow",
      // Auto Scaling's Describe actions accept no resource ARN. A drain also reads its lifecycle hook.
      Action: [
        "autoscaling:DescribeAutoScalingGroups",
        ...(specs.some((r) => r.drain !== undefined) ? ["autoscaling:DescribeLifecycleHooks"] : []),
      ],
      Resource: "*",
    });
  }
  const draining = sortedUnique(
    specs.flatMap((r) =>
      r.drain === undefined || r.targets.autoScalingGroup === undefined ? [] : [r.targets.autoScalingGroup],
    ),
  );
  if (draining.length > 0) {
    out.push({
      Sid: "AutoScalingDrain",
      Effect: "Allow",
      Action: ["autoscaling:CompleteLifecycleAction"],
      Resource: draining.map((g) =>
        arnOf(ctx, "autoscaling", `autoScalingGroup:*:autoScalingGroupName/${g}`),
      ),
    });
    // A drain's hold starts once the change that removed the record is INSYNC.
    out.push({
      Sid: "Route53DrainInSync",
      Effect: "Allow",
      Action: ["route53:GetChange"],
      Resource: "arn:aws:route53:::change/*",
    });
  }
  return out;
}

/** Route 53's normalized form of a record name, as its condition keys compare it: lower case, no final dot. */
function normalizeRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
