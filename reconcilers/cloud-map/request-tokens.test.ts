import { describe, expect, it } from "vitest";
import { AwsError } from "../../controllers/aws/errors.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { silentLogger } from "../../controllers/logger.ts";
import type { ReconcileContext } from "../../controllers/reconciler.ts";
import { parseSpecText } from "../../controllers/spec/load.ts";
import type { EcsTask, EcsTaskApi } from "../ecs-tasks/ecs-task-api.ts";
import type {
  CloudMapApi,
  ObservedInstance,
  ObservedNamespace,
  ObservedService,
  OperationStatus,
  OperationSummary,
  RegisterInstanceInput,
} from "./cloud-map-api.ts";
import { InstanceOperations } from "./instance-operations.ts";
import { NamespaceLookup } from "./namespace-lookup.ts";
import { CloudMapOperationError } from "./operation-machine.ts";
import { OperationWaiter } from "./operation-waiter.ts";
import { OWNER_TAG, RESOURCE_TAG, CREATED_TAG } from "./ownership.ts";
import { RequestTokens } from "./request-tokens.ts";
import { CloudMapServiceReconciler } from "./service-reconciler.ts";
import { CloudMapServiceKind } from "./service-kind.ts";
import { CloudMapNamespaceKind } from "./namespace-kind.ts";

describe("RequestTokens", () => {
  it("reuses a token only for the same unsettled request in its slot", () => {
    let n = 0;
    const tokens = new RequestTokens({ newToken: () => `t${++n}` });
    expect(tokens.token("instance:s/a", "ip 1")).toBe("t1");
    expect(tokens.token("instance:s/a", "ip 1")).toBe("t1");
    expect(tokens.token("instance:s/b", "ip 1")).toBe("t2");
    expect(tokens.token("instance:s/a", "ip 2")).toBe("t3");
    tokens.settle("instance:s/a");
    expect(tokens.token("instance:s/a", "ip 2")).toBe("t4");
    tokens.retain("instance:s/", new Set(["instance:s/a"]));
    expect(tokens.held()).toEqual(["instance:s/a"]);
  });

  it("settles once Cloud Map answered for good, and keeps the token for a retry otherwise", async () => {
    let n = 0;
    const tokens = new RequestTokens({ newToken: () => `t${++n}` });
    const seen: string[] = [];
    const attempt = (fail?: Error) =>
      tokens
        .run("slot", "req", async (token) => {
          seen.push(token);
          if (fail !== undefined) throw fail;
        })
        .catch(() => undefined);
    await attempt(new CloudMapOperationError("timed out", "op-1", { outcome: "timed-out" }));
    await attempt(
      new AwsError("throttled", "servicediscovery", "RegisterInstance", "RequestLimitExceeded", "x"),
    );
    await attempt(new AwsError("timeout", "servicediscovery", "RegisterInstance", "TimeoutError", "x"));
    await attempt();
    await attempt(new CloudMapOperationError("failed", "op-2", { outcome: "failed" }));
    await attempt();
    expect(seen).toEqual(["t1", "t1", "t1", "t1", "t2", "t3"]);
  });

  it("forgets a request left unsettled for an hour", async () => {
    const clock = new ManualClock();
    let n = 0;
    const tokens = new RequestTokens({ clock, newToken: () => `t${++n}` });
    tokens.token("slot", "req");
    await clock.advance(60 * 60_000 + 1);
    expect(tokens.token("slot", "req")).toBe("t2");
  });
});

/**
 * Cloud Map as it treats CreatorRequestId (which the emulator does not model): a RegisterInstance carrying a token it
 * has seen does nothing and answers the first request's operation. Operations finish when first polled, except
 * those the test holds PENDING.
 */
class TokenAwareCloudMap {
  readonly instances = new Map<string, Record<string, string>>();
  readonly registrations: { instanceId: string; token: string; executed: boolean }[] = [];
  private readonly byToken = new Map<string, string>();
  readonly pending = new Set<string>();
  holdNext = false;
  private ops = 0;
  readonly namespace: ObservedNamespace = {
    id: "ns-1",
    arn: "arn:ns-1",
    name: "fluentd.local",
    description: "",
    hostedZoneId: undefined,
  };
  readonly service: ObservedService = {
    id: "srv-1",
    arn: "arn:srv-1",
    name: "fluentd",
    namespaceId: "ns-1",
    description: undefined,
    records: [{ type: "A", ttl: 10 }],
    routingPolicy: "MULTIVALUE",
    failureThreshold: undefined,
    hasCustomHealthCheck: false,
  };
  readonly api = {
    listPrivateDnsNamespaces: async (): Promise<ObservedNamespace[]> => [this.namespace],
    namespaceVpcs: async (): Promise<string[]> => [],
    listServices: async (): Promise<ObservedService[]> => [this.service],
    tags: async (): Promise<Record<string, string>> => ({
      [OWNER_TAG]: "me",
      [RESOURCE_TAG]: "CloudMapService/fluentd",
      "ecs-log-operator/prune": "false",
      [CREATED_TAG]: "true",
    }),
    listInstances: async (): Promise<ObservedInstance[]> =>
      [...this.instances].map(([id, attributes]) => ({ id, attributes })),
    registerInstance: async (input: RegisterInstanceInput): Promise<string> => {
      const earlier = this.byToken.get(input.creatorRequestId);
      this.registrations.push({
        instanceId: input.instanceId,
        token: input.creatorRequestId,
        executed: !earlier,
      });
      if (earlier !== undefined) return earlier;
      const op = `op-${++this.ops}`;
      this.byToken.set(input.creatorRequestId, op);
      if (this.holdNext) {
        this.holdNext = false;
        this.pending.add(op);
        // Registered when the operation completes.
        this.onComplete.set(op, () => this.instances.set(input.instanceId, input.attributes));
      } else {
        this.instances.set(input.instanceId, input.attributes);
      }
      return op;
    },
    getOperation: async (id: string): Promise<OperationStatus> => {
      const status = this.pending.has(id) ? "PENDING" : "SUCCESS";
      if (status === "SUCCESS") this.onComplete.get(id)?.();
      return { id, status, errorMessage: undefined, targets: {} };
    },
    listServiceOperations: async (): Promise<OperationSummary[]> => {
      for (const [id, complete] of this.onComplete) if (!this.pending.has(id)) complete();
      return [...this.pending].map((id) => ({ id, status: "PENDING" as const }));
    },
  } as unknown as CloudMapApi;
  private readonly onComplete = new Map<string, () => void>();
}

const task = (id: string): EcsTask => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/logs/${id}`,
  lastStatus: "RUNNING",
  desiredStatus: "RUNNING",
  group: "service:fluentd",
  attachments: [
    { type: "ElasticNetworkInterface", details: [{ name: "privateIPv4Address", value: "10.0.0.5" }] },
  ],
});
const tasks = {
  listRunningTaskArns: async () => [task("t1").taskArn],
  describeTasks: async () => [task("t1")],
  describeContainerInstances: async () => new Map(),
  describeInstancePrivateIps: async () => new Map(),
} as unknown as EcsTaskApi;

const SPEC = `apiVersion: ecs-log-operator/v1alpha1
kind: CloudMapService
metadata: { name: fluentd }
spec:
  namespace: fluentd.local
  name: fluentd
  dns: { records: [{ type: A, ttl: 10 }] }
  instances: { ecsTasks: { cluster: logs, service: fluentd } }
`;

/** The service reconciler over the fake, with operations that time out after 1 s of `clock`. */
function reconcilerOver(cloudMap: TokenAwareCloudMap, clock: ManualClock): CloudMapServiceReconciler {
  return new CloudMapServiceReconciler({
    api: cloudMap.api,
    tasks,
    lookup: new NamespaceLookup(cloudMap.api),
    operations: new OperationWaiter(cloudMap.api, { clock, timeoutMs: 1000 }),
    instances: new InstanceOperations(cloudMap.api, { clock, timeoutMs: 1000 }),
    clock,
  });
}

describe("CloudMapServiceReconciler's namespace", () => {
  it("waits for the declared namespace when the only one of its name is in another VPC", async () => {
    const cloudMap = new TokenAwareCloudMap();
    // A hand-made fluentd.local in vpc-1; the spec set declares fluentd.local in vpc-2, not created yet.
    Object.assign(cloudMap.namespace, { hostedZoneId: "Z1" });
    cloudMap.api.namespaceVpcs = async () => ["vpc-1"];
    const docs = parseSpecText(
      "s.yaml",
      `apiVersion: ecs-log-operator/v1alpha1\nkind: CloudMapNamespace\nmetadata: { name: logs }\n` +
        `spec: { name: fluentd.local, vpc: vpc-0abc2222 }\n---\n${SPEC}`,
      [CloudMapServiceKind, CloudMapNamespaceKind],
    ).documents;
    const clock = new ManualClock();
    const r = reconcilerOver(cloudMap, clock);
    const ctx: ReconcileContext = {
      signal: new AbortController().signal,
      logger: silentLogger,
      ownerId: "me",
      documents: docs,
    };
    const plan = await r.plan(docs[1]!, ctx);
    expect(plan.notes).toContain("namespace fluentd.local is created by CloudMapNamespace/logs first");
    // Planned into the namespace to come (created with it), not into ns-1's existing service.
    expect(plan.changes.map((c) => `${c.action} ${c.target}`)).toEqual([
      expect.stringMatching(/^create service fluentd\.fluentd\.local/),
      expect.stringMatching(/^create instance t1 /),
    ]);
  });
});

describe("CloudMapServiceReconciler's CreatorRequestIds", () => {
  const doc = parseSpecText("s.yaml", SPEC, [CloudMapServiceKind]).documents[0]!;
  const reconcile = async (r: CloudMapServiceReconciler): Promise<void> => {
    const ctx: ReconcileContext = {
      signal: new AbortController().signal,
      logger: silentLogger,
      ownerId: "me",
      documents: [doc],
    };
    const plan = await r.plan(doc, ctx);
    await plan.apply(ctx.signal);
  };

  it("registers an instance deregistered by hand again with a new token, and reuses one only for a retry", async () => {
    const cloudMap = new TokenAwareCloudMap();
    const clock = new ManualClock();
    const r = reconcilerOver(cloudMap, clock);
    const drive = async (p: Promise<void>) => {
      let done = false;
      const settled = p.then(
        () => (done = true),
        (e: unknown) => {
          done = true;
          throw e;
        },
      );
      settled.catch(() => undefined);
      for (let i = 0; i < 50 && !done; i++) await clock.advance(250);
      return settled;
    };

    await drive(reconcile(r));
    expect(cloudMap.instances.has("t1")).toBe(true);
    // Someone deregisters it by hand; the next reconcile registers it again, with a token of its own: with the first
    // token Cloud Map would answer the first (finished) operation and the instance would never come back.
    cloudMap.instances.delete("t1");
    await drive(reconcile(r));
    expect(cloudMap.instances.has("t1")).toBe(true);
    const [first, second] = cloudMap.registrations;
    expect(second?.token).not.toBe(first?.token);
    expect(cloudMap.registrations.every((x) => x.executed)).toBe(true);

    // A registration whose operation does not finish in time is retried with the same token: Cloud Map answers the
    // same operation instead of registering twice.
    cloudMap.instances.delete("t1");
    cloudMap.holdNext = true;
    await expect(drive(reconcile(r))).rejects.toThrow(/did not finish within/);
    cloudMap.pending.clear();
    await drive(reconcile(r));
    const [, , third, retry] = cloudMap.registrations;
    expect(retry?.token).toBe(third?.token);
    expect(retry?.executed).toBe(false);
    expect(cloudMap.instances.has("t1")).toBe(true);
    expect(r.tokensHeld()).toEqual([]);
  });
});
