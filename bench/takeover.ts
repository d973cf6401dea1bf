import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { createAwsClients } from "../controllers/aws/clients.ts";
import { AwsScene } from "../cmd/demo/scene.ts";
import type { MotoEmulator } from "../test/moto-emulator.ts";
import { OperatorProcess } from "../test/integration/controller-child.ts";
import { RecordingProxy } from "../test/integration/recording-proxy.ts";
import {
  leaderElectArgs,
  logsZone,
  weightedRecordIds,
  weightedRecordsSpec,
} from "../test/integration/leader-elect-fixture.ts";
import { median } from "./measure.ts";

export interface TakeoverFigures {
  /** How the leader went away. */
  readonly signal: "SIGKILL" | "SIGTERM";
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly intervalMs: number;
  /** Seconds from the signal to the standby's /metrics saying `ecs_log_operator_leader 1`, one per run. */
  readonly takeoverSeconds: number[];
  /** Seconds from the signal to the standby's first write to AWS (its lease excluded), seen by its proxy. */
  readonly firstWriteSeconds: number[];
  /** Seconds from the signal to Route 53 showing a scale-in made right after it, one per run. */
  readonly convergedSeconds: number[];
  readonly medianTakeover: number;
  readonly medianFirstWrite: number;
  readonly medianConverged: number;
}

const REGION = "us-east-1";
const RECORD = "fluentd.logs.internal";

/**
 * Two `ecs-log-operator run --leader-elect` processes on the emulator, each behind its own recording proxy; the leader
 * is sent `signal`, an instance leaves the Auto Scaling group right after, and the standby's takeover, its first write
 * (seen by its proxy) and Route 53's convergence are timed from outside.
 * Then a new standby is started beside the new leader, and again, `runs` times. The standby is started once the
 * leader leads (the emulator's DynamoDB is not atomic under concurrent conditional writes).
 */
export async function benchTakeover(
  emulator: MotoEmulator,
  options: {
    signal: TakeoverFigures["signal"];
    runs: number;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
    intervalMs: number;
  },
): Promise<TakeoverFigures> {
  await emulator.reset();
  const clients = createAwsClients({ endpoint: emulator.endpoint, region: REGION });
  const dir = await mkdtemp(join(tmpdir(), "bench-takeover-"));
  const processes: OperatorProcess[] = [];
  const proxies: RecordingProxy[] = [];
  try {
    const scene = await new AwsScene(clients).network();
    await scene.autoScalingGroup("log-asg", options.runs + 2);
    const zoneId = await logsZone(clients, scene, REGION);
    await writeFile(join(dir, "records.yaml"), weightedRecordsSpec(RECORD));
    const start = async (): Promise<{ process: OperatorProcess; proxy: RecordingProxy; port: number }> => {
      const proxy = await RecordingProxy.start(emulator.endpoint);
      proxies.push(proxy);
      const child = new OperatorProcess([dir, ...leaderElectArgs(options)], {
        ...emulator.env(REGION),
        AWS_ENDPOINT_URL: proxy.endpoint,
      });
      processes.push(child);
      return { process: child, proxy, port: await child.port(120_000) };
    };
    const synced = async () =>
      same(await weightedRecordIds(clients, zoneId, RECORD), await scene.groupInstanceIds("log-asg"));

    let leader = await start();
    await until(async () => (await leading(leader.port)) === 1, 120_000);
    await until(synced, 60_000);
    const takeoverSeconds: number[] = [];
    const firstWriteSeconds: number[] = [];
    const convergedSeconds: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      const standby = await start();
      await until(
        async () => (await fetch(`http://127.0.0.1:${standby.port}/readyz`)).status === 200,
        60_000,
      );
      await until(async () => (await leading(standby.port)) === 0, 10_000);
      const signalled = performance.now();
      // terminate() sends the one SIGTERM (a second one would end the process mid-drain) and awaits the exit.
      const exited =
        options.signal === "SIGTERM"
          ? leader.process.terminate()
          : (leader.process.child.kill("SIGKILL"), undefined);
      await scene.scaleGroup("log-asg", (await scene.groupInstanceIds("log-asg")).length - 1);
      const tookOver = until(async () => (await leading(standby.port)) === 1, 120_000).then(
        () => (performance.now() - signalled) / 1000,
      );
      const firstWrite = until(
        async () => firstWriteAt(standby.proxy, signalled) !== undefined,
        120_000,
      ).then(() => ((firstWriteAt(standby.proxy, signalled) ?? signalled) - signalled) / 1000);
      const converged = until(synced, 120_000).then(() => (performance.now() - signalled) / 1000);
      takeoverSeconds.push(await tookOver);
      firstWriteSeconds.push(await firstWrite);
      convergedSeconds.push(await converged);
      process.stderr.write(
        `bench: takeover ${options.signal} run ${run + 1}: led after ${takeoverSeconds.at(-1)?.toFixed(2)} s, ` +
          `first write after ${firstWriteSeconds.at(-1)?.toFixed(2)} s, ` +
          `converged after ${convergedSeconds.at(-1)?.toFixed(2)} s\n`,
      );
      await (exited ?? leader.process.terminate());
      await leader.proxy.stop();
      leader = standby;
    }
    return {
      ...options,
      takeoverSeconds,
      firstWriteSeconds,
      convergedSeconds,
      medianTakeover: median(takeoverSeconds),
      medianFirstWrite: median(firstWriteSeconds),
      medianConverged: median(convergedSeconds),
    };
  } finally {
    for (const p of processes) await p.terminate();
    for (const p of proxies) await p.stop().catch(() => undefined);
    clients.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** When the standby's first write to AWS after `since` arrived at its proxy; its lease's own writes do not count. */
function firstWriteAt(proxy: RecordingProxy, since: number): number | undefined {
  return proxy.requests.find((r) => r.write && r.at >= since && r.service !== "dynamodb")?.at;
}

async function leading(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^ecs_log_operator_leader (\d+)$/m.exec(text)?.[1]);
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...b].sort().every((v, i) => v === a[i]);
}

/** Polls every 20 ms (so the figures are within 20 ms plus one poll's round trip). */
async function until(test: () => Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!(await test().catch(() => false))) {
    if (performance.now() > end) throw new Error(`bench: condition not met within ${ms} ms`);
    await delay(20);
  }
}
