import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { loadSpecDirectory } from "../../controllers/spec/load.ts";
import { gitSourceIamStatements, gitSourceSettings } from "../git-source.ts";
import { allKinds } from "../kinds.ts";
import { namespaceZones } from "../iam-lookup.ts";
import { iamPolicy, type PolicyDocument, type PolicyStatement } from "./iam-policy.ts";

// Issue 18 item 7: the policy explains itself, and Cloud Map's Route 53 writes do not undo the narrowed Route 53
// statement beside them once the namespaces' zones are known.

const ROOT = join(import.meta.dirname, "../..");
const EXAMPLES = join(ROOT, "manifests/examples/kinds");
const base = { account: "123456789012", region: "eu-west-1" };
const ZONE = "Z0FLUENTDLOCAL";

async function examples(): Promise<SpecDocument[]> {
  return (await loadSpecDirectory(EXAMPLES, allKinds())).documents;
}

/** Every statement `iam-policy` can print for the examples: every flag that adds statements, both Cloud Map forms. */
async function everyStatement(): Promise<PolicyStatement[]> {
  const documents = await examples();
  const full = {
    ...base,
    allowPrune: true,
    eventsQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/events",
    leaderElection: { table: "leases", resourceName: undefined, createTable: true },
    statements: gitSourceIamStatements(
      gitSourceSettings(
        {
          "git-url": "https://github.com/acme/ecs-specs.git",
          "git-token-secret-arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:t-AbCdEf",
        },
        [],
      )!,
    ),
  };
  return [
    ...iamPolicy(documents, full).Statement,
    ...iamPolicy(documents, { ...base, namespaceZones: new Map([["fluentd.local", [ZONE]]]) }).Statement,
  ];
}

/** The statements that grant route53:ChangeResourceRecordSets on every hosted zone, whatever the condition. */
const anyZoneChanges = (p: PolicyDocument) =>
  p.Statement.filter(
    (s) =>
      s.Condition === undefined &&
      s.Action.includes("route53:ChangeResourceRecordSets") &&
      [s.Resource].flat().some((r) => r === "*" || r === "arn:aws:route53:::hostedzone/*"),
  );

describe("the policy explains itself", () => {
  it("gives every statement a Sid IAM accepts (letters and digits), explained in the README's table", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### What each statement of `iam-policy` is for"));
    const explained = new Set(
      [...section.slice(0, section.indexOf("\n## ")).matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) =>
        [...(m[1] ?? "").matchAll(/`([A-Za-z0-9]+)`/g)].map((x) => x[1]),
      ),
    );
    const sids = [...new Set((await everyStatement()).map((s) => s.Sid))];
    expect(sids.length).toBeGreaterThan(20);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
    expect(sids.filter((sid) => !explained.has(sid))).toEqual([]);
  });

  it("narrows Cloud Map's instance record changes to the namespace's hosted zone when its id is known", async () => {
    const documents = await examples();
    const narrowed = iamPolicy(documents, { ...base, namespaceZones: new Map([["fluentd.local", [ZONE]]]) });
    expect(narrowed.Statement.find((s) => s.Sid === "CloudMapWritesInstanceRecordsInNamespaceZones")).toEqual(
      {
        Sid: "CloudMapWritesInstanceRecordsInNamespaceZones",
        Effect: "Allow",
        Action: ["route53:ChangeResourceRecordSets"],
        Resource: [`arn:aws:route53:::hostedzone/${ZONE}`],
      },
    );
    // Nothing else grants the change on any zone without a condition: the narrowed Route 53 statement holds.
    expect(anyZoneChanges(narrowed)).toEqual([]);
    expect(narrowed.Statement.map((s) => s.Sid)).not.toContain("CloudMapWritesInstanceRecordsInAnyZone");
  });

  it("keeps any zone, under a Sid that says so, offline, for a namespace not created yet, and for prunes", async () => {
    const documents = await examples();
    const broad = (p: PolicyDocument) => anyZoneChanges(p).map((s) => s.Sid);
    expect(broad(iamPolicy(documents, base))).toEqual(["CloudMapWritesInstanceRecordsInAnyZone"]);
    const otherZone = new Map([["other.local", ["Z0OTHER"]]]);
    expect(broad(iamPolicy(documents, { ...base, namespaceZones: otherZone }))).toEqual([
      "CloudMapWritesInstanceRecordsInAnyZone",
    ]);
    // A prune deregisters the instances of services whose specs are gone, in namespaces no spec names any more
    // (Route53ChangeOwnRecords is broad then too: --allow-prune sweeps records at names no spec holds).
    const pruning = iamPolicy(documents, {
      ...base,
      allowPrune: true,
      namespaceZones: new Map([["fluentd.local", [ZONE]]]),
    });
    expect(broad(pruning)).toContain("CloudMapWritesInstanceRecordsInAnyZone");
    expect(pruning.Statement.map((s) => s.Sid)).not.toContain(
      "CloudMapWritesInstanceRecordsInNamespaceZones",
    );
  });

  it("matches namespace names as DNS names, and names every zone of a name", () => {
    const service = (namespace: string, name: string): SpecDocument => ({
      apiVersion: "ecs-log-operator/v1alpha1",
      kind: "CloudMapService",
      metadata: { name },
      spec: {
        namespace,
        name,
        dns: { records: [{ type: "A", ttl: 10 }], routingPolicy: "MULTIVALUE" },
        instances: { ecsTasks: { cluster: "logs", service: name } },
      },
      source: { file: "t.yaml", line: 1, col: 1 },
      generation: "g",
      positionOf: () => ({ file: "t.yaml", line: 1, col: 1 }),
    });
    const policy = iamPolicy([service("Fluentd.Local.", "a"), service("b.local", "b")], {
      ...base,
      namespaceZones: new Map([
        ["fluentd.local", ["Z2", "Z1"]],
        ["b.local", ["Z3"]],
      ]),
    });
    expect(
      policy.Statement.find((s) => s.Sid === "CloudMapWritesInstanceRecordsInNamespaceZones")?.Resource,
    ).toEqual([
      "arn:aws:route53:::hostedzone/Z1",
      "arn:aws:route53:::hostedzone/Z2",
      "arn:aws:route53:::hostedzone/Z3",
    ]);
  });
});

describe("namespaceZones (iam-policy --lookup)", () => {
  it("keeps the zones of the named namespaces that exist, by DNS name, in the id form an ARN takes", async () => {
    const ns = (name: string, hostedZoneId: string | undefined) => ({
      id: `ns-${name}`,
      arn: "",
      name,
      description: "",
      hostedZoneId,
    });
    const api = {
      listPrivateDnsNamespaces: () =>
        Promise.resolve([
          ns("Fluentd.Local", "Z2"),
          ns("fluentd.local.", "/hostedzone/Z1"),
          ns("other.local", "Z9"),
          ns("nozone.local", undefined),
        ]),
    };
    expect(await namespaceZones(api, ["fluentd.local", "nozone.local", "missing.local"])).toEqual(
      new Map([["fluentd.local", ["Z1", "Z2"]]]),
    );
  });
});
