import { describe, expect, it } from "vitest";
import { silentLogger } from "../../controllers/logger.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import type { EcsTaskApi } from "../ecs-tasks/ecs-task-api.ts";
import type { CloudMapApi, ObservedNamespace, ObservedService } from "./cloud-map-api.ts";
import { NamespaceLookup } from "./namespace-lookup.ts";
import { CloudMapNamespaceReconciler } from "./namespace-reconciler.ts";
import { OperationWaiter } from "./operation-waiter.ts";
import { CloudMapServiceReconciler } from "./service-reconciler.ts";

/** Only the reads the sweeps make; every namespace and service belongs to someone else. */
class ForeignAccount {
  namespaces: ObservedNamespace[] = [];
  services: ObservedService[] = [];
  readonly api = {
    listPrivateDnsNamespaces: async () => this.namespaces,
    listServices: async () => this.services,
    namespaceVpcs: async () => ["vpc-0abc1234"],
    tags: async () => ({ "ecs-log-operator/owner": "someone-else" }),
  } as unknown as CloudMapApi;

  churn(round: number): void {
    this.namespaces = [0, 1].map((i) => ({
      id: `ns-${round}-${i}`,
      arn: `arn:ns-${round}-${i}`,
      name: `n${round}-${i}.local`,
      description: "",
      hostedZoneId: `Z${round}${i}`,
    }));
    this.services = [0, 1, 2].map((i) => ({
      id: `srv-${round}-${i}`,
      arn: `arn:srv-${round}-${i}`,
      name: `s${round}-${i}`,
      namespaceId: `ns-${round}-0`,
      description: undefined,
      records: [],
      routingPolicy: "MULTIVALUE" as const,
      failureThreshold: undefined,
      hasCustomHealthCheck: false,
    }));
  }
}

const context = (): ReconcileContext => ({
  signal: new AbortController().signal,
  logger: silentLogger,
  ownerId: "me",
  documents: [],
  sweeping: true,
});

describe("Cloud Map reconcilers' memory", () => {
  it("follows the account's namespaces and services, not every one ever seen", async () => {
    const account = new ForeignAccount();
    const lookup = new NamespaceLookup(account.api);
    const operations = new OperationWaiter(account.api);
    const namespaces = new CloudMapNamespaceReconciler({ api: account.api, lookup, operations });
    const services = new CloudMapServiceReconciler({
      api: account.api,
      tasks: {} as EcsTaskApi,
      lookup,
      operations,
    });
    for (let round = 0; round < 30; round++) {
      account.churn(round);
      const ctx = context();
      expect(await namespaces.planOrphans(ctx)).toEqual([]);
      expect(await services.planOrphans(ctx)).toEqual([]);
      for (const ns of account.namespaces) await lookup.vpcsOf(ns);
    }
    expect(namespaces.foreignIds()).toEqual(["ns-29-0", "ns-29-1"]);
    expect(services.foreignIds()).toEqual(["srv-29-0", "srv-29-1", "srv-29-2"]);
    expect(lookup.knownVpcs()).toEqual(["ns-29-0", "ns-29-1"]);
  });
});
