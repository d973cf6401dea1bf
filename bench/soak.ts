import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { MotoEmulator } from "../test/moto-emulator.ts";

const run = promisify(execFile);

/** Heap, listeners and handles at one moment of the soak (see soak-child.ts). */
export interface SoakSample {
  readonly label: string;
  /** After two full collections. */
  readonly heapUsedMb: number;
  readonly rssMb: number;
  /** Abort listeners on the controller's shutdown (`stopping`) and drain-timeout (`work`) signals; process listeners. */
  readonly listeners: { readonly stopping: number; readonly work: number; readonly process: number };
  /** Open TCP sockets (the SDK's keep-alive connections, the scrapes' connections to /metrics). */
  readonly sockets: number;
  readonly handles: Record<string, number>;
  /** Sizes of the per-key structures. */
  readonly keys: Record<string, unknown>;
}

export interface SoakFigures {
  readonly reconciles: number;
  readonly warmUp: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly awsRequests: number;
  readonly reconcileErrors: number;
  readonly actions: Record<string, number>;
  readonly liveSpecs: number;
  readonly liveKeys: number;
  readonly start: SoakSample;
  readonly end: SoakSample;
}

/**
 * The soak: the controller in a child process of its own (started with --expose-gc), against the emulator with the
 * real SDK clients, for `reconciles` reconciles after a warm-up, while specs are added, edited and removed and tasks
 * start and stop. Its heap, listeners and sockets are sampled at the start and at the end.
 */
export async function benchSoak(emulator: MotoEmulator, reconciles: number, seed = 1): Promise<SoakFigures> {
  await emulator.reset();
  const { stdout } = await run(
    process.execPath,
    ["--expose-gc", "bench/soak-child.ts", emulator.endpoint, String(reconciles), String(seed)],
    { env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 60 * 60_000 },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as SoakFigures;
}
