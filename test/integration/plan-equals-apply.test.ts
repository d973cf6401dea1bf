import { DescribeAlarmsCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AwsScene } from "../../cmd/demo/scene.ts";
import { allKinds, buildReconcilers, kindParts } from "../../cmd/kinds.ts";
import { AwsCallCounter, type AwsClients } from "../../controllers/aws/clients.ts";
import { silentLogger } from "../../controllers/logger.ts";
import { runPass, type PassResult } from "../../controllers/pass.ts";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import { logAlarmClients } from "../../reconcilers/log-alarm/log-alarm-clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { buildExampleScene } from "./example-scene.ts";
import { startEmulator } from "./harness.ts";
import { planThenApply } from "./plan-equals-apply.ts";

// plan and apply print from one list of changes: for every kind, the writes AWS accepted during apply (one per
// change of a batch, Route 53's registry TXT records included) are exactly the changes plan listed for the same
// specs and the same AWS state. Before, plan left out the `_elo-` registry records apply writes, and listed a
// pruned namespace's service twice while apply said "2 to delete" and deleted six things.
const counter = new AwsCallCounter();
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
let examples: SpecDocument[];

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: "us-east-1", observer: counter }));
  const loaded = await loadSpecDirectory("manifests/examples/kinds", allKinds());
  expect(loaded.diagnostics).toEqual([]);
  examples = loaded.documents;
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  scene = await buildExampleScene(clients);
});

/** One pass as `plan` (apply false) or `apply` runs it: fresh reconcilers, every spec loaded. */
async function pass(documents: readonly SpecDocument[], apply: boolean): Promise<PassResult> {
  return runPass(
    {
      reconcilers: await buildReconcilers(kindParts(clients)),
      documents,
      complete: true,
      ownerId: "plan-apply",
      logger: silentLogger,
      signal: AbortSignal.timeout(120_000),
      // The kinds' own removal, apart from the prune guard (which has its tests in prune-guard.test.ts).
      pruneGuard: { allowEmpty: true, maxCount: 1, maxFraction: 1 },
    },
    apply,
  );
}

/** The specs as they would read with `prune: true` (every kind takes it). */
function pruned(docs: readonly SpecDocument[]): SpecDocument[] {
  return docs.map((d) => ({ ...d, spec: { ...(d.spec as object), prune: true } }));
}

const writes = (r: PassResult) => r.plans.flatMap((p) => p.changes.map((c) => c.write));

describe("plan == apply, every kind of manifests/examples/kinds against the emulator", () => {
  it("creates, converges, repairs drift and follows a scale-out: each apply made exactly the writes its plan listed", async () => {
    const created = await planThenApply(counter, (apply) => pass(examples, apply));
    // Every kind wrote something, each of the writes named.
    expect(new Set(writes(created.planned))).toEqual(
      new Set([
        "servicediscovery:CreatePrivateDnsNamespace",
        "servicediscovery:CreateService",
        "servicediscovery:RegisterInstance",
        "route53:ChangeResourceRecordSets",
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "s3:PutObject",
        "logs:PutMetricFilter",
        "cloudwatch:PutMetricAlarm",
      ]),
    );
    // Two weighted records and the registry record listing them: it is listed too.
    expect(
      created.planned.plans
        .flatMap((p) => p.changes)
        .filter((c) => c.write === "route53:ChangeResourceRecordSets")
        .map((c) => c.target.split(" ")[0]),
    ).toEqual(["fluentd.logs.internal", "fluentd.logs.internal", "registry"]);

    // Converged: plan lists nothing, apply writes nothing.
    const converged = await planThenApply(counter, (apply) => pass(examples, apply));
    expect(writes(converged.planned)).toEqual([]);

    // Drift and a scale-out: an alarm edited by hand, one more instance in the group.
    const cloudwatch = await logAlarmClients(clients).cloudWatch();
    const [alarm] = (await cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [];
    expect(alarm?.AlarmName).toBeDefined();
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm!.AlarmName,
        MetricName: alarm!.MetricName,
        Namespace: alarm!.Namespace,
        Statistic: alarm!.Statistic,
        Period: alarm!.Period,
        EvaluationPeriods: alarm!.EvaluationPeriods,
        DatapointsToAlarm: alarm!.DatapointsToAlarm,
        ComparisonOperator: alarm!.ComparisonOperator,
        TreatMissingData: alarm!.TreatMissingData,
        AlarmActions: alarm!.AlarmActions,
        AlarmDescription: alarm!.AlarmDescription,
        Threshold: 99,
      }),
    );
    await scene.scaleGroup("log-asg", 3);
    const drifted = await planThenApply(counter, (apply) => pass(examples, apply));
    expect(writes(drifted.planned).sort()).toEqual([
      "cloudwatch:PutMetricAlarm",
      "route53:ChangeResourceRecordSets",
      "route53:ChangeResourceRecordSets",
    ]);
  });

  it("removes what pruning specs made: each apply made exactly the writes its plan listed", async () => {
    await planThenApply(counter, (apply) => pass(pruned(examples), apply));
    const removed = await planThenApply(counter, (apply) => pass([], apply));
    expect(new Set(writes(removed.planned))).toEqual(
      new Set([
        "servicediscovery:DeregisterInstance",
        "servicediscovery:DeleteService",
        "servicediscovery:DeleteNamespace",
        "route53:ChangeResourceRecordSets",
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "logs:DeleteMetricFilter",
        "cloudwatch:DeleteAlarms",
      ]),
    );
    // And nothing is left to do.
    const after = await planThenApply(counter, (apply) => pass([], apply));
    expect(writes(after.planned)).toEqual([]);
  });
});
