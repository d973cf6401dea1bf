import { mkdir, readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { MotoEmulator } from "../test/moto-emulator.ts";
import { benchCost, type CostFigures } from "./cost.ts";
import {
  cloudMapOnFake,
  cloudMapOnMoto,
  weightedOnFake,
  weightedOnMoto,
  type EfficiencyRow,
} from "./efficiency.ts";
import { benchLatency, type LatencyFigures } from "./latency.ts";
import { benchRun, benchRunOnFakeInChild, type RunFigures } from "./run.ts";
import { benchTakeover, type TakeoverFigures } from "./takeover.ts";
import { benchSoak, type SoakFigures, type SoakSample } from "./soak.ts";
import { benchVersusTerraform, type VersusTerraformFigures } from "./versus-terraform.ts";

/**
 * `npm run bench`: figures taken the same way every time, printed as a table and written as JSON under
 * bench/results/. A script, not a test: it measures and asserts nothing; the summary says how far each target stands.
 * Sections: efficiency, cost, latency, run, terraform, takeover, and soak when named (`--only NAME`, repeatable);
 * `--quick` runs smaller sizes.
 */
const SECTIONS = ["efficiency", "cost", "latency", "run", "terraform", "takeover", "soak"] as const;
const { values } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    quick: { type: "boolean" },
  },
});
for (const name of values.only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    process.stderr.write(
      `bench: no section ${JSON.stringify(name)}; the sections are ${SECTIONS.join(", ")}\n`,
    );
    process.exit(2);
  }
}
const want = (name: (typeof SECTIONS)[number]) => values.only === undefined || values.only.includes(name);
const quick = values.quick === true;

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
});

const INTERVAL_MS = 2000;
/** The `run` section's interval: the measurement used 20 s. */
const RUN_INTERVAL_MS = 20_000;
/** The `run` section's interval at 350 services on the in-process fake (see bench/README.md). */
const FAKE_RUN_INTERVAL_MS = 60_000;
const results: {
  date: string;
  node: string;
  quick: boolean;
  efficiency?: EfficiencyRow[];
  cost?: CostFigures[];
  latency?: LatencyFigures[];
  run?: RunFigures[];
  terraform?: VersusTerraformFigures[];
  takeover?: TakeoverFigures[];
  soak?: SoakFigures;
  seconds?: Record<string, number>;
} = { date: new Date().toISOString(), node: process.version, quick };
const seconds: Record<string, number> = {};
const out: string[] = [];
const say = (line = "") => {
  out.push(line);
  process.stdout.write(line + "\n");
};
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
async function section<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  progress(`${name}...`);
  try {
    return await fn();
  } finally {
    seconds[name] = (performance.now() - started) / 1000;
  }
}

const emulator = await MotoEmulator.start();
try {
  if (want("efficiency")) {
    results.efficiency = await section("efficiency", async () => {
      const rows: EfficiencyRow[] = [];
      for (const n of quick ? [100] : [100, 1000]) {
        rows.push(await cloudMapOnMoto(emulator, n));
        rows.push(await weightedOnMoto(emulator, n));
      }
      for (const n of quick ? [10_000] : [100, 1000, 10_000]) {
        rows.push(await cloudMapOnFake(n));
        rows.push(await weightedOnFake(n));
      }
      return rows;
    });
  }
  if (want("cost")) {
    results.cost = await section("cost", async () => [
      await benchCost("CloudMapService", 10_000, quick ? 1 : 3),
      await benchCost("WeightedRecordSet", 10_000, quick ? 1 : 3),
    ]);
  }
  if (want("latency")) {
    const changes = quick ? 10 : 50;
    results.latency = await section("latency", async () => [
      await benchLatency(emulator, { mode: "events", changes, intervalMs: INTERVAL_MS }),
      await benchLatency(emulator, { mode: "interval", changes, intervalMs: INTERVAL_MS }),
    ]);
  }
  if (want("run")) {
    results.run = await section("run", async () => [
      await benchRun(emulator, {
        services: 60,
        recordSets: 40,
        intervalMs: RUN_INTERVAL_MS,
        intervals: quick ? 2 : 3,
      }),
      // Segment's size (seeds/002): 350 ECS services, 16,000 tasks; 100 record sets. At the default ECS limit
      // (20 requests a second) the informer's listing alone takes most of a minute, so the interval is longer.
      await benchRunOnFakeInChild({
        services: 350,
        tasks: 16_000,
        clusters: 10,
        recordSets: 100,
        groups: 5,
        instancesPerGroup: 3,
        intervalMs: FAKE_RUN_INTERVAL_MS,
        intervals: quick ? 1 : 2,
      }),
    ]);
  }
  if (want("terraform")) {
    results.terraform = await section("terraform", async () => {
      const rows: VersusTerraformFigures[] = [];
      for (const n of quick ? [60] : [60, 300])
        rows.push(await benchVersusTerraform(emulator, n, quick ? 3 : 5));
      return rows;
    });
  }
  if (want("takeover")) {
    // kube-controller-manager's durations and run's default interval; --quick: the integration tests' short ones.
    const durations = quick
      ? { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500, intervalMs: 3_000 }
      : { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, intervalMs: 30_000 };
    const runs = quick ? 3 : 5;
    results.takeover = await section("takeover", async () => [
      await benchTakeover(emulator, { signal: "SIGKILL", runs, ...durations }),
      await benchTakeover(emulator, { signal: "SIGTERM", runs, ...durations }),
    ]);
  }
  // Half an hour on a shared 2-core machine: only when asked for (`--only soak`).
  if (values.only?.includes("soak") === true) {
    results.soak = await section("soak", () => benchSoak(emulator, quick ? 1_000 : 10_000));
  }
} finally {
  await emulator.stop();
}
results.seconds = seconds;

report();
await mkdir("bench/results", { recursive: true });
const file = `bench/results/${new Date().toISOString().slice(0, 10)}${quick ? "-quick" : ""}.json`;
// A run of some sections (--only) replaces those sections of the day's file and keeps the others.
const earlier: Record<string, unknown> = await readFile(file, "utf8").then(
  (t) => JSON.parse(t) as Record<string, unknown>,
  () => ({}),
);
await writeFile(file, JSON.stringify({ ...earlier, ...results }, null, 2) + "\n");
say(`written to ${file}`);

/** Each operation's calls per interval beside its floor (and +N% where above it), then the ones the floor leaves out. */
function overFloor(r: RunFigures): string {
  const floor = r.floorByOperation ?? {};
  const ops = [...new Set([...Object.keys(floor), ...Object.keys(r.callsPerInterval)])].sort();
  return ops
    .map((op) => {
      const n = r.callsPerInterval[op] ?? 0;
      const f = floor[op];
      if (f === undefined) return `${op} ${n} (not in the floor)`;
      return n > f ? `${op} ${n} (${f}, +${((n / f - 1) * 100).toFixed(0)}%)` : `${op} ${n} (${f})`;
    })
    .join("; ");
}

function report(): void {
  const targets: string[] = [];
  const pct = (x: number, floor: number) => `${x >= floor ? "+" : ""}${((x / floor - 1) * 100).toFixed(0)}%`;
  if (results.efficiency !== undefined) {
    say("1. Call efficiency: calls of one apply (reads / writes), against the floor the AWS API allows");
    say(
      table(
        [
          "kind",
          "N",
          "backend",
          "cold reads",
          "cold writes (floor)",
          "converged reads (floor)",
          "over",
          "converged writes",
        ],
        results.efficiency.map((r) => [
          r.kind,
          r.targets.toLocaleString("en"),
          r.backend,
          String(r.cold.reads),
          `${r.cold.writes} (${r.floor.coldWrites})`,
          `${r.converged.reads} (${r.floor.convergedReads})`,
          pct(r.converged.reads, r.floor.convergedReads),
          String(r.converged.writes),
        ]),
      ),
    );
    for (const r of results.efficiency) {
      if (r.cold.failures + r.converged.failures > 0)
        say(
          `  ${r.kind} N=${r.targets} (${r.backend}): ${r.cold.failures + r.converged.failures} failure(s)`,
        );
    }
    const biggest = (kind: EfficiencyRow["kind"]) =>
      results.efficiency?.filter((r) => r.kind === kind).sort((a, b) => b.targets - a.targets)[0];
    say("  converged calls by operation at the largest N:");
    for (const kind of ["CloudMapService", "WeightedRecordSet"] as const) {
      const r = biggest(kind);
      if (r !== undefined)
        say(`    ${kind} N=${r.targets} (${r.backend}): ${JSON.stringify(r.converged.calls)}`);
    }
    say();
    const worstOver = Math.max(
      ...results.efficiency.map((r) => r.converged.reads / r.floor.convergedReads - 1),
    );
    const writes = results.efficiency.reduce((n, r) => n + r.converged.writes, 0);
    const overBy = results.efficiency
      .map((r) => `${r.kind} ${r.targets} ${r.backend}: ${pct(r.converged.reads, r.floor.convergedReads)}`)
      .join(", ");
    targets.push(
      `${writes === 0 && worstOver <= 0.1 ? "MET " : "MISS"} converged pass: 0 writes (${writes} seen), reads within 10% of the floor (${overBy})`,
    );
    const cloudMapCold = results.efficiency.find(
      (r) => r.kind === "CloudMapService" && r.backend === "moto" && r.targets === 1000,
    );
    if (cloudMapCold !== undefined) {
      targets.push(
        `${cloudMapCold.cold.seconds < 5 ? "MET " : "MISS"} cold 1,000-task Cloud Map apply on moto under 5 s: ` +
          `${cloudMapCold.cold.seconds.toFixed(1)} s (${(cloudMapCold.cold.seconds / 5).toFixed(2)}x the target; ` +
          `${cloudMapCold.cold.calls["servicediscovery:GetOperation"] ?? 0} GetOperation, ` +
          `${cloudMapCold.cold.calls["servicediscovery:ListOperations"] ?? 0} ListOperations)`,
      );
    }
    const wrs = results.efficiency.filter((r) => r.kind === "WeightedRecordSet");
    const batches = wrs.map(
      (r) =>
        `${r.targets} ${r.backend}: ${r.cold.calls["route53:ChangeResourceRecordSets"] ?? 0} vs ${r.floor.coldChangeBatches ?? 0}`,
    );
    const batchesMet = wrs.every(
      (r) => (r.cold.calls["route53:ChangeResourceRecordSets"] ?? 0) <= (r.floor.coldChangeBatches ?? 0),
    );
    targets.push(
      `${batchesMet ? "MET " : "MISS"} cold apply of N weighted records in ceil(N/1000) ChangeResourceRecordSets (${batches.join(", ")})`,
    );
  }
  if (results.latency !== undefined) {
    say(
      `2. Convergence latency: task start/stop to Cloud Map showing it (moto, controller in process, interval ${INTERVAL_MS / 1000} s)`,
    );
    say(
      table(
        ["mode", "changes", "p50 s", "p99 s", "max s", "timed out"],
        results.latency.map((l) => [
          l.mode === "events" ? "SQS events + interval" : "interval only",
          String(l.changes),
          l.p50.toFixed(3),
          l.p99.toFixed(3),
          l.max.toFixed(3),
          String(l.timedOut),
        ]),
      ),
    );
    say();
    const ev = results.latency.find((l) => l.mode === "events");
    const iv = results.latency.find((l) => l.mode === "interval");
    if (ev !== undefined)
      targets.push(
        `${ev.p50 < 1 && ev.timedOut === 0 ? "MET " : "MISS"} p50 under 1 s with events: ${ev.p50.toFixed(3)} s (${(ev.p50 / 1).toFixed(2)}x the bound)`,
      );
    if (iv !== undefined) {
      const bound = (INTERVAL_MS + 1000) / 1000;
      targets.push(
        `${iv.p99 < bound && iv.timedOut === 0 ? "MET " : "MISS"} p99 under interval + 1 s = ${bound} s without events: ` +
          `${iv.p99.toFixed(3)} s (${(iv.p99 / bound).toFixed(2)}x the bound)`,
      );
    }
  }
  if (results.cost !== undefined) {
    say("3. Cost of the operator: one converged pass at 10,000 targets, in-process fake, in a child process");
    say(
      table(
        [
          "kind",
          "N",
          "runs",
          "operator CPU s",
          "fake CPU s",
          "wall s",
          "peak RSS MB",
          "RSS before pass MB",
          "writes",
        ],
        results.cost.map((c) => [
          c.kind,
          c.targets.toLocaleString("en"),
          String(c.runs),
          c.operatorCpuSeconds.toFixed(3),
          c.fakeCpuSeconds.toFixed(3),
          c.seconds.toFixed(3),
          c.peakRssMb.toFixed(0),
          c.baselinePeakRssMb.toFixed(0),
          String(c.writes),
        ]),
      ),
    );
    say();
    const tasks = results.cost.find((c) => c.kind === "CloudMapService");
    if (tasks !== undefined) {
      targets.push(
        `${tasks.peakRssMb < 150 ? "MET " : "MISS"} 10,000 tasks peak RSS under 150 MB: ${tasks.peakRssMb.toFixed(0)} MB ` +
          `(${(tasks.peakRssMb / 150).toFixed(2)}x the target; ${tasks.baselinePeakRssMb.toFixed(0)} MB before the pass)`,
      );
      targets.push(
        `${tasks.operatorCpuSeconds < 1 ? "MET " : "MISS"} converged pass at 10,000 tasks under 1 s CPU: ` +
          `${tasks.operatorCpuSeconds.toFixed(3)} s (${(tasks.operatorCpuSeconds / 1).toFixed(2)}x the budget)`,
      );
    }
  }
  if (results.run !== undefined) {
    say(
      `5. Scale under run: the controller in process (moto, interval ${RUN_INTERVAL_MS / 1000} s; in-process fake behind the real SDK clients, interval ${FAKE_RUN_INTERVAL_MS / 1000} s), calls per interval once converged`,
    );
    say(
      table(
        [
          "backend",
          "specs",
          "tasks",
          "first sync s (ready; every spec converged)",
          "reads/interval (floor; with service tags; and health)",
          "over the floor",
          "writes/interval",
          "Route 53 req/interval",
          "s/interval",
          "converged peak RSS MB",
        ],
        results.run.map((r) => [
          r.backend,
          `${r.cloudMapServices} CloudMapService + ${r.weightedRecordSets} WeightedRecordSet`,
          String(r.tasks ?? "-"),
          `${r.firstSyncSeconds.toFixed(1)}; ${r.firstConvergedSeconds?.toFixed(1) ?? "-"}`,
          `${r.readsPerInterval} (${r.floor}; ${r.floorWithServiceTags}; ${r.floorWithHealth ?? "-"})`,
          pct(r.readsPerInterval, r.floor),
          String(r.writesPerInterval),
          String(r.route53PerInterval ?? "-"),
          r.secondsPerInterval?.toFixed(1) ?? "-",
          r.backend === "fake" ? (r.convergedPeakRssMb?.toFixed(0) ?? "-") : "-",
        ]),
      ),
    );
    for (const r of results.run) {
      say(`  ${r.backend}: calls per interval by operation (floor): ${overFloor(r)}`);
      say(`  ${r.backend}: calls of the first sync by operation: ${JSON.stringify(r.firstSyncCalls)}`);
      const notReady = Object.entries(r.firstSyncNotReady ?? {});
      say(
        notReady.length === 0
          ? `  ${r.backend}: every spec Ready once every key was reconciled`
          : `  ${r.backend}: NOT READY at the first sync (its time is not a first sync): ` +
              notReady.map(([k, v]) => `${v.count} ${k} (${v.first})`).join("; "),
      );
      if (r.limiterWaitSeconds !== undefined)
        say(
          `  ${r.backend}: rate-limiter wait over the measured intervals (s): ${JSON.stringify(r.limiterWaitSeconds)}`,
        );
      if (r.backend === "fake")
        say(
          `  fake: RSS ${r.baselineRssMb?.toFixed(0)} MB before start (Node, modules, the fake's state), ` +
            `${r.convergedPeakRssMb?.toFixed(0)} MB peak while converged, ${r.processPeakRssMb?.toFixed(0)} MB peak ` +
            `over the child's life (cold first sync included); CPU ${r.cpuSecondsPerInterval?.toFixed(2)} s an interval, ` +
            `${r.fakeCpuSecondsPerInterval?.toFixed(2)} s of it in the fake`,
        );
      targets.push(
        `${r.writesPerInterval === 0 && r.readsPerInterval <= r.floor * 1.1 ? "MET " : "MISS"} run converged (${r.backend}, ${r.cloudMapServices} + ${r.weightedRecordSets} specs): 0 writes ` +
          `(${r.writesPerInterval}), reads within 10% of the issue's floor: ${r.readsPerInterval} for ${r.floor} ` +
          `(${pct(r.readsPerInterval, r.floor)}; ${pct(r.readsPerInterval, r.floorWithServiceTags)} against the floor with one tag read per service)`,
      );
      if (r.floorWithHealth !== undefined)
        targets.push(
          `${r.writesPerInterval === 0 && r.readsPerInterval <= r.floorWithHealth * 1.1 ? "MET " : "MISS"} run converged (${r.backend}): reads within 10% of the floor with each service's ownership tags and the health read's DescribeServices: ${r.readsPerInterval} for ${r.floorWithHealth} (${pct(r.readsPerInterval, r.floorWithHealth)})`,
        );
      if (r.backend === "moto") {
        // Judged on every spec converged, not only on every key reconciled once (/readyz).
        const s = r.firstConvergedSeconds ?? r.firstSyncSeconds;
        targets.push(
          `${s < 5 ? "MET " : "MISS"} first sync of ${r.cloudMapServices + r.weightedRecordSets + 1} specs under 5 s, every spec converged: ${s.toFixed(1)} s (ready after ${r.firstSyncSeconds.toFixed(1)} s)`,
        );
      }
    }
    const r53 = results.run.map(
      (r) =>
        `${r.route53PerInterval ?? "-"} at ${r.weightedRecordSets} specs (${r.zoneRecords ?? "?"} record sets)`,
    );
    targets.push(`     Route 53 requests per interval: ${r53.join(", ")}`);
    say();
  }
  if (results.terraform !== undefined) {
    say(
      "4. Against Terraform: the same N weighted records on the same emulator (ratio = Terraform time / operator time)",
    );
    say(
      table(
        [
          "N",
          "Terraform apply runs",
          "operator cold apply runs (median of)",
          "ratio",
          "operator ChangeResourceRecordSets",
        ],
        results.terraform.map((t) => [
          String(t.records),
          "1",
          String(t.operatorSeconds.length),
          `${t.ratio.toFixed(0)}x`,
          String(t.operatorChangeBatches),
        ]),
      ),
    );
    say();
    const t60 = results.terraform.find((t) => t.records === 60);
    const t300 = results.terraform.find((t) => t.records === 300);
    if (t60 !== undefined) {
      const grows =
        t300 === undefined ? "not measured (--quick)" : t300.ratio > t60.ratio ? "grows" : "does not grow";
      targets.push(
        `${t60.ratio >= 20 && (t300 === undefined || t300.ratio > t60.ratio) ? "MET " : "MISS"} at least 20x faster ` +
          `than Terraform at 60 records: ${t60.ratio.toFixed(0)}x (${(t60.ratio / 20).toFixed(1)}x the target); ` +
          `ratio at 300: ${t300?.ratio.toFixed(0) ?? "-"}x, ${grows}`,
      );
    }
  }
  if (results.takeover !== undefined) {
    const first = results.takeover[0];
    say(
      `5. Takeover: two run --leader-elect processes, the leader signalled, an instance leaving the group right after ` +
        `(lease ${(first?.leaseDurationMs ?? 0) / 1000} s, renew deadline ${(first?.renewDeadlineMs ?? 0) / 1000} s, ` +
        `retry ${(first?.retryPeriodMs ?? 0) / 1000} s, interval ${(first?.intervalMs ?? 0) / 1000} s)`,
    );
    say(
      table(
        [
          "signal",
          "runs",
          "leads after, median s",
          "max s",
          "first write, median s",
          "max s",
          "Route 53 converged, median s",
          "max s",
        ],
        results.takeover.map((t) => [
          t.signal,
          String(t.takeoverSeconds.length),
          t.medianTakeover.toFixed(2),
          Math.max(...t.takeoverSeconds).toFixed(2),
          t.medianFirstWrite.toFixed(2),
          Math.max(...t.firstWriteSeconds).toFixed(2),
          t.medianConverged.toFixed(2),
          Math.max(...t.convergedSeconds).toFixed(2),
        ]),
      ),
    );
    say();
    for (const t of results.takeover) {
      const worst = Math.max(...t.takeoverSeconds);
      if (t.signal === "SIGKILL") {
        const bound = (t.leaseDurationMs + t.retryPeriodMs) / 1000;
        targets.push(
          `${worst <= bound ? "MET " : "MISS"} SIGKILL: the standby leads within lease duration + retry period = ` +
            `${bound} s: at most ${worst.toFixed(2)} s (median ${t.medianTakeover.toFixed(2)} s)`,
        );
      } else {
        // About one retry period: the standby's next read after the release, plus the leader's drain.
        const bound = (t.retryPeriodMs + 1000) / 1000;
        targets.push(
          `${t.medianTakeover <= bound ? "MET " : "MISS"} SIGTERM: the other leads within about one retry period ` +
            `(+ 1 s to drain) = ${bound} s: median ${t.medianTakeover.toFixed(2)} s`,
        );
      }
    }
  }
  if (results.soak !== undefined) {
    const s = results.soak;
    say(
      `6. Soak: ${s.reconciles.toLocaleString("en")} reconciles in ${s.seconds.toFixed(0)} s after a warm-up of ` +
        `${s.warmUp}, with churn ${JSON.stringify(s.actions)}; controller in a child process, moto, real SDK clients`,
    );
    const row = (x: SoakSample) => [
      x.label,
      x.heapUsedMb.toFixed(1),
      x.rssMb.toFixed(0),
      String(x.listeners.stopping),
      String(x.listeners.work),
      String(x.listeners.process),
      String(x.sockets),
      String(x.handles.Timeout ?? 0),
      JSON.stringify(x.keys),
    ];
    say(
      table(
        ["at", "heap MB", "RSS MB", "stopping", "work", "process", "sockets", "timers", "per-key structures"],
        [row(s.start), row(s.end)],
      ),
    );
    say(
      `  ${s.awsRequests} AWS requests, ${s.reconcileErrors} reconcile errors, ${s.cpuSeconds.toFixed(1)} s CPU`,
    );
    say();
    const flat =
      s.end.heapUsedMb <= s.start.heapUsedMb * 1.2 + 2 &&
      s.end.listeners.stopping <= s.start.listeners.stopping + 1 &&
      s.end.listeners.work <= s.start.listeners.work + 4 &&
      s.end.sockets <= s.start.sockets + 4;
    targets.push(
      `${flat && s.reconciles >= 10_000 ? "MET " : "MISS"} flat over 10,000 reconciles with churn: heap ` +
        `${s.start.heapUsedMb.toFixed(1)} -> ${s.end.heapUsedMb.toFixed(1)} MB, listeners ` +
        `${s.start.listeners.stopping}/${s.start.listeners.work} -> ${s.end.listeners.stopping}/${s.end.listeners.work}, ` +
        `sockets ${s.start.sockets} -> ${s.end.sockets} (${s.reconciles.toLocaleString("en")} reconciles)`,
    );
  }
  say("Targets:");
  for (const t of targets) say(`  ${t}`);
  say(
    `Section times (s): ${JSON.stringify(Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, Math.round(v)])))}`,
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    "  " +
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
