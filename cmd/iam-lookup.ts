import { createAwsClients } from "../controllers/aws/clients.ts";
import type { SpecDocument } from "../controllers/spec/document.ts";
import { AwsCloudMapApi } from "../reconcilers/cloud-map/aws-cloud-map-api.ts";
import type { CloudMapApi } from "../reconcilers/cloud-map/cloud-map-api.ts";
import { dnsNameKey } from "../reconcilers/cloud-map/dns-name.ts";
import { checkAwsSetup, checkEndpoints, configuredEndpoints } from "./aws-preflight.ts";

// `iam-policy --lookup`: what the policy can be narrowed to once AWS is asked. Imported only with --lookup, so that
// the offline default loads no SDK client.

/** The namespaces whose hosted zones the policy names: those of the CloudMapService specs. */
export function lookedUpNamespaces(documents: readonly SpecDocument[]): string[] {
  const names = documents
    .filter((d) => d.kind === "CloudMapService")
    .map((d) => (d.spec as { namespace?: unknown }).namespace)
    .filter((n): n is string => typeof n === "string");
  return [...new Set(names.map(dnsNameKey))].sort();
}

/**
 * The hosted zone of each of `names` that exists as a private DNS namespace, from one listing. Names that do not exist
 * yet are left out (the policy keeps `*` for them). Two namespaces of one name in different VPCs give both zones.
 */
export async function namespaceZones(
  api: Pick<CloudMapApi, "listPrivateDnsNamespaces">,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const wanted = new Set(names.map(dnsNameKey));
  const zones = new Map<string, string[]>();
  if (wanted.size === 0) return zones;
  for (const ns of await api.listPrivateDnsNamespaces(undefined, signal)) {
    const key = dnsNameKey(ns.name);
    if (!wanted.has(key) || ns.hostedZoneId === undefined) continue;
    // Cloud Map answers with the bare id (Z...); the emulator with Route 53's path form (/hostedzone/Z...). The ARN
    // takes the bare id.
    const zone = ns.hostedZoneId.replace(/^\/hostedzone\//, "");
    zones.set(key, [...(zones.get(key) ?? []), zone].sort());
  }
  return zones;
}

/** Builds the Cloud Map client from the SDK's chain (or `--region` / `--endpoint-url`) and reads the zones. */
export async function lookUpNamespaceZones(
  documents: readonly SpecDocument[],
  aws: { readonly region: string | undefined; readonly endpoint: string | undefined },
): Promise<Map<string, string[]>> {
  const names = lookedUpNamespaces(documents);
  if (names.length === 0) return new Map();
  const clients = createAwsClients({ region: aws.region, endpoint: aws.endpoint });
  await checkAwsSetup(clients);
  await checkEndpoints(configuredEndpoints(aws.endpoint));
  return namespaceZones(new AwsCloudMapApi(clients), names, AbortSignal.timeout(60_000));
}
