import { createAwsClients, type AwsClientOptions, type AwsClients } from "../../controllers/aws/clients.ts";
import { MotoEmulator } from "../moto-emulator.ts";

/**
 * A test file's emulator and the SDK clients pointed at it. The emulator's dummy credentials also go into
 * process.env, where the code under test that builds its own clients (the commands) finds them through the SDK's
 * standard chain.
 */
export async function startEmulator(
  options: Omit<AwsClientOptions, "endpoint"> = {},
): Promise<{ moto: MotoEmulator; clients: AwsClients }> {
  const moto = await MotoEmulator.start();
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = moto.env();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
  return { moto, clients: createAwsClients({ ...options, endpoint: moto.endpoint }) };
}

/** The specs of a `fluentd.local` namespace in `vpcId` and its `fluentd` service following the `logs` cluster's tasks. */
export function fluentdCloudMapSpecs(vpcId: string, options: { port?: number } = {}): string {
  const port = options.port !== undefined ? `, port: ${options.port}` : "";
  return `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapNamespace
metadata: { name: logs-namespace }
spec: { name: fluentd.local, vpc: ${vpcId} }
---
apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata: { name: fluentd }
spec:
  namespace: fluentd.local
  name: fluentd
  dns: { records: [{ type: A, ttl: 10 }], routingPolicy: MULTIVALUE }
  instances: { ecsTasks: { cluster: logs, service: fluentd }${port} }
`;
}
