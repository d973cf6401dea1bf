import type { CloudMapApi, ObservedNamespace } from "./cloud-map-api.ts";

/**
 * Finds private DNS namespaces by name and learns their VPCs. A namespace's VPC never changes, so it is read from
 * Route 53 once per namespace id and process, which keeps Route 53 (whose quota the account shares) out of a
 * converged pass. Shared by both Cloud Map reconcilers.
 */
export class NamespaceLookup {
  private readonly api: CloudMapApi;
  private readonly vpcs = new Map<string, readonly string[]>();

  constructor(api: CloudMapApi) {
    this.api = api;
  }

  async byName(name: string, signal?: AbortSignal): Promise<ObservedNamespace[]> {
    return this.api.listPrivateDnsNamespaces(name, signal);
  }

  /** The namespace's VPCs; empty when they cannot be read. */
  async vpcsOf(ns: ObservedNamespace, signal?: AbortSignal): Promise<readonly string[]> {
    const known = this.vpcs.get(ns.id);
    if (known !== undefined) return known;
    const vpcs = ns.hostedZoneId !== undefined ? await this.api.namespaceVpcs(ns.hostedZoneId, signal) : [];
    this.vpcs.set(ns.id, vpcs);
    return vpcs;
  }

  /** Records the VPC of a namespace this process just created. */
  remember(namespaceId: string, vpc: string): void {
    this.vpcs.set(namespaceId, [vpc]);
  }
}
