import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { JsonLogger } from "../../controllers/logger.ts";
import { collectProcessMetrics, ControllerMetrics } from "../../controllers/metrics.ts";
import { parseDuration } from "../cli-support.ts";
import { composeController } from "../compose-controller.ts";

export interface DemoOperator {
  readonly metricsUrl: string;
  /** Where the controller's JSON log lines go (one line per decision), so they do not scroll the table away. */
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The controller, as `ecs-log-operator run` builds it, pointed at the emulator. */
export async function startDemoOperator(options: {
  specDir: string;
  endpoint: string;
  metricsPort: number;
  interval: string;
}): Promise<DemoOperator> {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const metrics = new ControllerMetrics(registry);
  const clients: AwsClients = createAwsClients({
    endpoint: options.endpoint,
    region: "us-east-1",
    observer: metrics,
  });
  const logDir = await mkdtemp(join(tmpdir(), "ecs-log-operator-demo-log-"));
  const logFile = join(logDir, "operator.log");
  const { createWriteStream } = await import("node:fs");
  const log = createWriteStream(logFile);
  const controller = composeController({
    specDir: options.specDir,
    clients,
    metrics,
    logger: new JsonLogger({ write: (line) => log.write(line + "\n") }),
    ownerId: "demo",
    intervalMs: parseDuration(options.interval),
    bindAddress: `127.0.0.1:${options.metricsPort}`,
  });
  await controller.start();
  return {
    metricsUrl: `http://127.0.0.1:${controller.port}`,
    logFile,
    async stop() {
      await controller.stop();
      clients.destroy();
      await new Promise((r) => log.end(r));
      if (process.env.ECS_LOG_OPERATOR_DEMO_KEEP_LOG === undefined)
        await rm(logDir, { recursive: true, force: true });
    },
  };
}
