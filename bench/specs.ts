/** The spec documents the benchmark applies, as YAML text. */

/** A private namespace and `services` CloudMapServices, service `s` following ECS service `fluentd-s` in `clusterOf(s)`. */
export function cloudMapSpecs(vpcId: string, services: number, clusterOf: (s: number) => string): string {
  return [
    `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapNamespace
metadata: { name: bench-local }
spec: { name: bench.local, vpc: ${vpcId} }
`,
    ...Array.from(
      { length: services },
      (_, s) => `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata: { name: fluentd-${s} }
spec:
  namespace: bench.local
  name: fluentd-${s}
  dns: { records: [{ type: A, ttl: 10 }], routingPolicy: MULTIVALUE }
  instances: { ecsTasks: { cluster: ${clusterOf(s)}, service: fluentd-${s} }, port: 24224 }
`,
    ),
  ].join("---\n");
}

/** One WeightedRecordSet: a record per InService instance of `group`, at `name` in `zone`. */
export function weightedSpec(metadataName: string, zone: string, name: string, group: string): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: ${metadataName} }
spec:
  hostedZone: ${zone}
  name: ${name}
  type: A
  ttl: 10
  weight: 10
  targets: { autoScalingGroup: ${group} }
`;
}
