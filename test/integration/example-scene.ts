import { readFileSync } from "node:fs";
import { CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import { CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { logAlarmClients } from "../../reconcilers/log-alarm/log-alarm-clients.ts";

/**
 * What the specs of manifests/examples/kinds follow, as the demo builds it (in us-east-1): the `logs` cluster with
 * two fluentd tasks, the `log-asg` group with its drain hook, the `logs.internal` zone, the `app` cluster's
 * gaze-heatmap service, log-batch's base revision, the events queue, the LogRouter's config bucket and the
 * LogAlarm's log group.
 */
export async function buildExampleScene(clients: AwsClients): Promise<AwsScene> {
  const scene = await new AwsScene(clients).network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd", "awsvpc", [
    { name: "fluentd", image: "fluent/fluentd", memory: 256 },
  ]);
  await scene.runTasks("logs", "fluentd", 2, "fluentd");
  await scene.autoScalingGroup("log-asg", 2, { lifecycleHook: "drain-dns" });
  await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: "logs.internal",
      CallerReference: `help-examples-${scene.vpcId}`,
      HostedZoneConfig: { PrivateZone: true },
      VPC: { VPCId: scene.vpcId, VPCRegion: "us-east-1" },
    }),
  );
  const fixture = (name: string) =>
    JSON.parse(
      readFileSync(`test/fixtures/task-definitions/${name}`, "utf8"),
    ) as RegisterTaskDefinitionCommandInput;
  await scene.cluster("app", 0);
  await scene.createEcsService(
    "app",
    "gaze-heatmap",
    await scene.registerTaskDefinitionFrom(fixture("gaze-heatmap.base.json")),
  );
  await scene.registerTaskDefinitionFrom(fixture("log-batch.base.json"));
  await clients.sqs.send(new CreateQueueCommand({ QueueName: "ecs-events" }));
  // The LogRouter example's extra Fluent Bit config goes to this bucket; the LogAlarm example watches this group.
  await clients.s3.send(new CreateBucketCommand({ Bucket: "gaze-heatmap-log-config" }));
  const logs = await logAlarmClients(clients).logs();
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/aws/ecs/fluentd" }));
  return scene;
}
