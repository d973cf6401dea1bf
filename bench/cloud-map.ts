import { createAwsClients } from "../controllers/aws/clients.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import { measuredApply, type PassFigures } from "./measure.ts";
import { cloudMapSpecs } from "./specs.ts";

export interface CloudMapFigures {
  readonly tasks: number;
  readonly services: number;
  readonly cold: PassFigures;
  readonly converged: PassFigures;
  /** The fewest reads a converged pass can make: the list pages plus one DescribeTasks per 100 tasks, per service. */
  readonly convergedReadFloor: number;
}

/**
 * `tasks` running tasks spread over `services` ECS services, each published by a CloudMapService: the calls and time
 * of a cold apply and of a converged one.
 */
export async function benchCloudMap(
  emulator: MotoEmulator,
  tasks: number,
  services: number,
): Promise<CloudMapFigures> {
  await emulator.reset();
  const clients = createAwsClients({ endpoint: emulator.endpoint, region: "us-east-1" });
  const perService = Math.ceil(tasks / services);
  try {
    const scene = await new AwsScene(clients).network();
    // Small tasks so that a few container instances hold them all (the emulator places by memory). One cluster per
    // service: the emulator ignores ListTasks' serviceName filter, which would make every service list every task.
    await scene.taskDefinition("fluentd", "awsvpc", [{ name: "fluentd", image: "fluentd", memory: 16 }]);
    for (let s = 0; s < services; s++) {
      await scene.cluster(`logs-${s}`, Math.max(1, Math.ceil(perService / 400)));
      await scene.runTasks(`logs-${s}`, "fluentd", perService, `fluentd-${s}`);
    }
    const specs = cloudMapSpecs(scene.vpcId, services, (s) => `logs-${s}`);
    const cold = await measuredApply(emulator, specs);
    const converged = await measuredApply(emulator, specs);
    // Per service: one ListTasks page per 100 tasks, one DescribeTasks per 100, one ListInstances page per 100.
    // Per pass: the namespace and service lookups (one ListNamespaces page, one ListServices page).
    const pages = Math.ceil(perService / 100);
    const convergedReadFloor = services * pages * 3 + 2;
    return { tasks: perService * services, services, cold, converged, convergedReadFloor };
  } finally {
    clients.destroy();
  }
}
