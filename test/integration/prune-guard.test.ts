import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
} from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsScene } from "../../cmd/demo/scene.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { OperatorProcess } from "./controller-child.ts";
import { startEmulator } from "./harness.ts";

/**
 * The prune guard end to end, on a git-sync style checkout (`current` is a symlink to a revision directory, swapped
 * by renaming a new link over it): emptying the spec set deletes nothing without --allow-empty, and says so in plan,
 * apply, run's log, /status and a metric; with --allow-empty the deletion happens.
 */
const REGION = "us-east-1";
let moto: MotoEmulator;
let clients: AwsClients;
let scene: AwsScene;
let base = "";
let zoneId = "";
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: REGION }));
  scene = new AwsScene(clients);
  await scene.network();
  await scene.cluster("logs", 1);
  await scene.taskDefinition("fluentd");
  await scene.runTasks("logs", "fluentd", 2, "fluentd");
  const zone = await clients.route53.send(
    new CreateHostedZoneCommand({
      Name: "logs.internal",
      CallerReference: "prune-guard",
      VPC: { VPCId: scene.vpcId, VPCRegion: REGION },
      HostedZoneConfig: { PrivateZone: true },
    }),
  );
  zoneId = (zone.HostedZone?.Id ?? "").replace("/hostedzone/", "");
  await clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: "CREATE",
            ResourceRecordSet: {
              Name: "grafana.logs.internal",
              Type: "CNAME",
              TTL: 300,
              ResourceRecords: [{ Value: "grafana.example.com" }],
            },
          },
        ],
      },
    }),
  );
  base = mkdtempSync(join(tmpdir(), "prune-guard-"));
  mkdirSync(join(base, "rev-full"));
  mkdirSync(join(base, "rev-run"));
  mkdirSync(join(base, "rev-empty"));
  for (const name of ["a", "b"]) writeFileSync(join(base, "rev-full", `${name}.yaml`), spec(name));
  // Other names for the run test: the emulator refuses to CREATE again a record it has seen deleted (a quirk).
  for (const name of ["c", "d"]) writeFileSync(join(base, "rev-run", `${name}.yaml`), spec(name));
  symlinkSync("rev-full", join(base, "current"));
});

afterAll(async () => {
  await operator?.terminate();
  clients?.destroy();
  await moto?.stop();
  rmSync(base, { recursive: true, force: true });
});

function spec(name: string): string {
  return `apiVersion: ecs-log-operator/v1alpha1
kind: WeightedRecordSet
metadata: { name: ${name} }
spec:
  hostedZone: logs.internal
  name: ${name}.logs.internal
  type: A
  ttl: 10
  weight: 10
  targets: { ecsTasks: { cluster: logs, service: fluentd } }
  prune: true
`;
}

/** Swaps the checkout as git-sync does: a new link renamed over the old one, atomically. */
function checkout(revision: string): void {
  symlinkSync(revision, join(base, "next"));
  renameSync(join(base, "next"), join(base, "current"));
}

async function zone(): Promise<string[]> {
  const out = await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (out.ResourceRecordSets ?? [])
    .filter((r) => r.Type !== "NS" && r.Type !== "SOA")
    .map((r) => `${r.Name} ${r.Type} ${r.SetIdentifier ?? ""}`)
    .sort();
}

async function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ["cmd/ecs-log-operator.ts", ...args, "--owner-id", "guard"], {
    env: { ...process.env, ...moto.env(REGION) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  return { code, out, err };
}

async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    await delay(200);
  }
  throw new Error(`timed out waiting for ${what}\n${operator?.stderr ?? ""}`);
}

describe("the prune guard on an emptied checkout", () => {
  it("plan and apply hold the deletions and say so; apply --allow-empty makes them", async () => {
    const current = join(base, "current");
    expect((await cli("apply", current)).code).toBe(0);
    const applied = await zone();
    expect(applied.filter((r) => r.includes(" A "))).toHaveLength(4);

    checkout("rev-empty");
    const plan = await cli("plan", current);
    expect(plan.code).toBe(2);
    expect(plan.out).toContain(
      "WeightedRecordSet/a (a.logs.internal: no spec manages it): deletions held by the prune guard",
    );
    expect(plan.out).toMatch(/! held delete a\.logs\.internal A /);
    expect(plan.out).toContain(
      "Held: the spec set is empty: the deletions for 2 removed WeightedRecordSet spec(s) are held",
    );
    expect(plan.out).toContain("pass --allow-empty");

    const held = await cli("apply", current);
    expect(held.code).toBe(1);
    expect(held.err).toContain("deletions held by the prune guard");
    expect(await zone()).toEqual(applied);

    const allowed = await cli("apply", current, "--allow-empty");
    expect(allowed.code).toBe(0);
    expect(await zone()).toEqual(["grafana.logs.internal. CNAME "]);
  });

  it("run holds them through a checkout swapped mid-run: log, /status, metric; restored, released; --allow-empty deletes", async () => {
    checkout("rev-run");
    const current = join(base, "current");
    expect((await cli("apply", current)).code).toBe(0);
    const applied = await zone();
    const args = [
      current,
      "--interval",
      "1s",
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--owner-id",
      "guard",
    ];
    operator = new OperatorProcess(args, moto.env(REGION));
    const port = await operator.port();
    await until("ready", async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined,
    );

    checkout("rev-empty");
    const status = await until("the hold in /status", async () => {
      const s = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
        deletionsHeld: Record<string, string>;
        // Each kind's orphan sweep (`Kind/*`) is listed apart from the resources, with its own conditions.
        sweeps: { key: string; conditions: { type: string; status: string; reason: string }[] }[];
      };
      return s.deletionsHeld.WeightedRecordSet !== undefined ? s : undefined;
    });
    expect(status.deletionsHeld.WeightedRecordSet).toMatch(/^the spec set is empty/);
    expect(
      status.sweeps
        .find((r) => r.key === "WeightedRecordSet/*")
        ?.conditions.find((c) => c.type === "DeletionHeld"),
    ).toMatchObject({ status: "True", reason: "SpecSetEmpty" });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('ecs_log_operator_deletions_held{kind="WeightedRecordSet"} 2');
    // Several intervals later: nothing deleted, and the hold was logged once.
    await delay(3500);
    expect(await zone()).toEqual(applied);
    const logged = operator.lines.filter((l) => l.msg === "deletions held");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ kind: "WeightedRecordSet", reason: "SpecSetEmpty" });

    checkout("rev-run");
    await until("the hold released", async () =>
      operator?.lines.some((l) => l.msg === "deletions no longer held") === true ? true : undefined,
    );
    expect(await zone()).toEqual(applied);
    expect(await operator.terminate()).toEqual({ code: 0, signal: null });

    checkout("rev-empty");
    operator = new OperatorProcess([...args, "--allow-empty"], moto.env(REGION));
    await operator.port();
    await until("the deletion with --allow-empty", async () =>
      JSON.stringify(await zone()) === JSON.stringify(["grafana.logs.internal. CNAME "]) ? true : undefined,
    );
    expect(await operator.terminate()).toEqual({ code: 0, signal: null });
  });
});
