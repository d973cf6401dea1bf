import {
  AttachInstancesCommand,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  DetachInstancesCommand,
  PutLifecycleHookCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type ContainerDefinition,
  type NetworkMode,
  type RegisterTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import type { AwsClients } from "../../controllers/aws/clients.ts";

/**
 * Builds AWS scenes on the emulator: a VPC, an ECS cluster with container instances, tasks, Auto Scaling groups.
 * Shared by the demo, the integration tests and the benchmark. Emulator quirks handled here: a VPC needs DNS
 * hostnames for awsvpc tasks (moto reads the ENI's DNS name), RunTask needs `memory` on every container and a
 * registered container instance, and ECS services start no tasks, so tasks are started with RunTask and
 * `group: service:NAME`, which is what ListTasks' serviceName filter matches.
 */
export class AwsScene {
  private readonly clients: AwsClients;
  vpcId = "";
  subnetId = "";
  securityGroupId = "";

  constructor(clients: AwsClients) {
    this.clients = clients;
  }

  async network(cidr = "10.0.0.0/16", subnetCidr = "10.0.1.0/24"): Promise<this> {
    const vpc = await (await this.clients.ec2()).send(new CreateVpcCommand({ CidrBlock: cidr }));
    this.vpcId = vpc.Vpc?.VpcId ?? "";
    await (
      await this.clients.ec2()
    ).send(new ModifyVpcAttributeCommand({ VpcId: this.vpcId, EnableDnsHostnames: { Value: true } }));
    const subnet = await (
      await this.clients.ec2()
    ).send(new CreateSubnetCommand({ VpcId: this.vpcId, CidrBlock: subnetCidr }));
    this.subnetId = subnet.Subnet?.SubnetId ?? "";
    const sg = await (
      await this.clients.ec2()
    ).send(new CreateSecurityGroupCommand({ GroupName: "scene", Description: "scene", VpcId: this.vpcId }));
    this.securityGroupId = sg.GroupId ?? "";
    return this;
  }

  /** A cluster with `instances` EC2 container instances. Returns the EC2 instance ids. */
  async cluster(name: string, instances = 1): Promise<string[]> {
    await this.clients.ecs.send(new CreateClusterCommand({ clusterName: name }));
    const ids = await this.instances(instances);
    for (const id of ids) {
      await this.clients.ecs.send(
        new RegisterContainerInstanceCommand({
          cluster: name,
          instanceIdentityDocument: JSON.stringify({ instanceId: id, region: await this.region() }),
        }),
      );
    }
    return ids;
  }

  async instances(count: number): Promise<string[]> {
    if (count === 0) return [];
    const out = await (
      await this.clients.ec2()
    ).send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: count,
        MaxCount: count,
        SubnetId: this.subnetId,
      }),
    );
    return (out.Instances ?? []).map((i) => i.InstanceId ?? "");
  }

  async taskDefinition(
    family: string,
    networkMode: NetworkMode = "awsvpc",
    containers: ContainerDefinition[] = [{ name: family, image: `${family}:latest`, memory: 256 }],
  ): Promise<string> {
    const out = await this.clients.ecs.send(
      new RegisterTaskDefinitionCommand({ family, networkMode, containerDefinitions: containers }),
    );
    return out.taskDefinition?.taskDefinitionArn ?? "";
  }

  /** Starts `count` tasks as if the ECS service `service` had (moto's services start none themselves). */
  async runTasks(
    cluster: string,
    family: string,
    count: number,
    service?: string,
    awsvpc = true,
  ): Promise<string[]> {
    const arns: string[] = [];
    // RunTask starts at most 10 tasks a call.
    for (let left = count; left > 0; left -= 10) {
      const out = await this.clients.ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition: family,
          count: Math.min(10, left),
          ...(service !== undefined ? { group: `service:${service}`, startedBy: `ecs-svc/${service}` } : {}),
          ...(awsvpc
            ? {
                networkConfiguration: {
                  awsvpcConfiguration: { subnets: [this.subnetId], securityGroups: [this.securityGroupId] },
                },
              }
            : {}),
        }),
      );
      arns.push(...(out.tasks ?? []).map((t) => t.taskArn ?? ""));
    }
    return arns;
  }

  async stopTasks(cluster: string, taskArns: readonly string[]): Promise<void> {
    for (const task of taskArns) await this.clients.ecs.send(new StopTaskCommand({ cluster, task }));
  }

  /** An Auto Scaling group of `size` instances in the scene's subnet. */
  async autoScalingGroup(
    name: string,
    size: number,
    options: { lifecycleHook?: string } = {},
  ): Promise<void> {
    await this.clients.autoScaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: `${name}-lc`,
        ImageId: "ami-12c6146b",
        InstanceType: "t3.medium",
      }),
    );
    await this.clients.autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchConfigurationName: `${name}-lc`,
        MinSize: 0,
        MaxSize: Math.max(size, 1000),
        DesiredCapacity: size,
        VPCZoneIdentifier: this.subnetId,
      }),
    );
    if (options.lifecycleHook !== undefined) {
      await this.clients.autoScaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: name,
          LifecycleHookName: options.lifecycleHook,
          LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
          HeartbeatTimeout: 300,
          DefaultResult: "CONTINUE",
        }),
      );
    }
  }

  async scaleGroup(name: string, size: number): Promise<void> {
    await this.clients.autoScaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, DesiredCapacity: size, MinSize: 0 }),
    );
  }

  async groupInstanceIds(name: string): Promise<string[]> {
    const out = await this.clients.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    return (out.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId ?? "");
  }

  async attach(name: string, instanceIds: string[]): Promise<void> {
    await this.clients.autoScaling.send(
      new AttachInstancesCommand({ AutoScalingGroupName: name, InstanceIds: instanceIds }),
    );
  }

  async detach(name: string, instanceIds: string[]): Promise<void> {
    await this.clients.autoScaling.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: name,
        InstanceIds: instanceIds,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
  }

  /** Registers a whole task definition (RegisterTaskDefinition input, e.g. a fixture file). Returns its ARN. */
  async registerTaskDefinitionFrom(input: RegisterTaskDefinitionCommandInput): Promise<string> {
    const out = await this.clients.ecs.send(new RegisterTaskDefinitionCommand(input));
    return out.taskDefinition?.taskDefinitionArn ?? "";
  }

  /**
   * An ECS service running `taskDefinition` (moto's services start no tasks: `runTasks` with `service` stands in for
   * its scheduler). `awsvpc` gives it the scene's subnet, as an awsvpc task definition needs.
   */
  async createEcsService(
    cluster: string,
    service: string,
    taskDefinition: string,
    options: { desiredCount?: number; awsvpc?: boolean } = {},
  ): Promise<void> {
    await this.clients.ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: service,
        taskDefinition,
        desiredCount: options.desiredCount ?? 0,
        ...(options.awsvpc === true
          ? {
              networkConfiguration: {
                awsvpcConfiguration: { subnets: [this.subnetId], securityGroups: [this.securityGroupId] },
              },
            }
          : {}),
      }),
    );
  }

  /** The service's desired count, as a deploy or an autoscaling policy sets it. */
  async scaleService(cluster: string, service: string, desiredCount: number): Promise<void> {
    await this.clients.ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount }));
  }

  /** StopTask with a reason, as ECS records it in the task's `stoppedReason` (a person, or a failure reported). */
  async stopTask(cluster: string, task: string, reason: string): Promise<void> {
    await this.clients.ecs.send(new StopTaskCommand({ cluster, task, reason }));
  }

  private async region(): Promise<string> {
    return this.clients.ecs.config.region();
  }
}
