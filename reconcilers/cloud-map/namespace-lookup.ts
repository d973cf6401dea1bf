import { PassMemo } from "../../controllers/pass-memo.ts";
import type { CloudMapApi, ObservedNamespace } from "./cloud-map-api.ts";
import { sameDnsName } from "./dns-name.ts";

/**
 * Finds private DNS namespaces by name and learns their VPCs. A namespace's VPC never changes, so it is read from
 * Route 53 once per namespace id and process, which keeps Route 53 (whose quota the account shares) out of a
 * converged pass. Shared by both Cloud Map reconcilers.
 */
export class NamespaceLookup {
  private readonly api: CloudMapApi;
  private readonly vpcs = new Map<string, readonly string[]>();
  /** Every private namespace, listed once per pass (the pass's context is the key) instead of once per spec. */
  private readonly perPass = new PassMemo<ObservedNamespace[]>();

  constructor(api: CloudMapApi) {
    this.api = api;
  }

  /**
   * Namespaces of this name. With `pass` (a reconcile's context), one listing serves every lookup of that pass;
   * without it, AWS is asked again: apply re-reads what its plan may have seen before a namespace was created.
   */
  async byName(name: string, signal?: AbortSignal, pass?: object): Promise<ObservedNamespace[]> {
    if (pass === undefined) return this.api.listPrivateDnsNamespaces(name, signal);
    return (await this.all(signal, pass)).filter((ns) => sameDnsName(ns.name, name));
  }

  /** Every private DNS namespace, listed once per pass. */
  all(signal: AbortSignal | undefined, pass: object): Promise<ObservedNamespace[]> {
    return this.perPass.get(pass, "", async () => {
      const all = await this.api.listPrivateDnsNamespaces(undefined, signal);
      // The VPCs of namespaces that are gone are forgotten: the map follows the account's namespaces, not time.
      const present = new Set(all.map((ns) => ns.id));
      for (const id of [...this.vpcs.keys()]) if (!present.has(id)) this.vpcs.delete(id);
      return all;
    });
  }

  /** Namespace ids whose VPCs are known, for tests and the soak benchmark. */
  knownVpcs(): string[] {
    return [...this.vpcs.keys()].sort();
  }

  /** Drops a pass's listing after a namespace was created or deleted in it. */
  forget(pass: object): void {
    this.perPass.forget(pass);
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
