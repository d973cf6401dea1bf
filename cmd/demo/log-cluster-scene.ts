import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateHostedZoneCommand, type VPCRegion } from "@aws-sdk/client-route-53";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import { logAlarmClients } from "../../reconcilers/log-alarm/log-alarm-clients.ts";
import { AwsScene } from "./scene.ts";

/** One example of every kind, which the scene below is built for. */
export const EXAMPLES = "manifests/examples/kinds";

export interface LogClusterScene {
  readonly scene: AwsScene;
  /** The running tasks of the `logs/fluentd` ECS service. */
  readonly fluentdTasks: string[];
}

/**
 * The seeds' log cluster on the emulator, as `manifests/examples/kinds/` expects it: a `logs` cluster with a fluentd
 * ECS service of three tasks, the log-asg Auto Scaling group with its drain hook, the logs.internal zone, an `app`
 * cluster whose gaze-heatmap service its pipeline registered without log routing (seed 003), the bucket of its router's
 * config, the log-batch family with its fluentd sidecar (seed 001) and fluentd's log group. Shared by the demo and the
 * tests that show a realistic controller.
 */
export async function buildLogClusterScene(clients: AwsClients, region: VPCRegion): Promise<LogClusterScene> {
  const scene = await new AwsScene(clients).network();
  await scene.cluster("logs", 2);
  await scene.taskDefinition("fluentd", "awsvpc", [
    { name: "fluentd", image: "fluent/fluentd:v1.16", memory: 256 },
  ]);
  await scene.createEcsService("logs", "fluentd", "fluentd", { desiredCount: 3, awsvpc: true });
  const fluentdTasks = await scene.runTasks("logs", "fluentd", 3, "fluentd");
  await scene.autoScalingGroup("log-asg", 3, { lifecycleHook: "drain-dns" });
  await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: "logs.internal",
      CallerReference: `log-cluster-${scene.vpcId}`,
      HostedZoneConfig: { PrivateZone: true, Comment: "demo" },
      VPC: { VPCId: scene.vpcId, VPCRegion: region },
    }),
  );
  await scene.cluster("app", 1);
  // Seed 003: the application as its deploy pipeline registers it, without any log routing.
  const appTaskDefinition = await scene.registerTaskDefinitionFrom({
    family: "gaze-heatmap",
    taskRoleArn: "arn:aws:iam::123456789012:role/ECSTaskGazeHeatmap",
    executionRoleArn: "arn:aws:iam::123456789012:role/ECSTaskExecutionRole",
    networkMode: "awsvpc",
    containerDefinitions: [{ name: "gaze-heatmap", image: "gaze-heatmap:1.0.0", essential: true }],
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
  });
  await scene.createEcsService("app", "gaze-heatmap", appTaskDefinition);
  // The LogRouter example keeps its extra Fluent Bit config in this bucket (router.configFile, type init-s3).
  await clients.s3.send(new CreateBucketCommand({ Bucket: "gaze-heatmap-log-config" }));
  // Seed 001: a legacy batch that reads the log files its fluentd sidecar writes.
  await scene.registerTaskDefinitionFrom({
    family: "log-batch",
    networkMode: "awsvpc",
    containerDefinitions: [
      { name: "fluentd", image: "fluentd:v1.16", cpu: 400, memoryReservation: 400, essential: true },
      { name: "batch", image: "batch:2024.1", cpu: 400, memoryReservation: 400, essential: true },
    ],
  });
  // The log group fluentd's awslogs driver writes to, which the LogAlarm example watches.
  const logs = await logAlarmClients(clients).logs();
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/aws/ecs/fluentd" }));
  return { scene, fluentdTasks };
}

/** Copies a spec directory, replacing strings in its YAML files (the examples' VPC id by the scene's). */
export async function copySpecs(from: string, to: string, replace: Record<string, string>): Promise<void> {
  await cp(from, to, { recursive: true });
  for (const entry of await readdir(to, { recursive: true })) {
    const file = join(to, entry);
    if (!/\.ya?ml$/.test(file)) continue;
    let text = await readFile(file, "utf8");
    for (const [a, b] of Object.entries(replace)) text = text.replaceAll(a, b);
    await writeFile(file, text);
  }
}
