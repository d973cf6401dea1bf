import {
  containerNames,
  type ContainerJson,
  type TaskDefinitionJson,
} from "../task-definition/task-definition.ts";
import { ECS_DEFAULT_STOP_TIMEOUT, FARGATE_MAX_STOP_TIMEOUT, type LogRouterSpec } from "./log-router-kind.ts";

type Path = (string | number)[];

/**
 * Fluent Bit's default Grace is 5 s (src/flb_config.c, `config->grace = 5`): after SIGTERM it flushes for that long,
 * while ECS waits the container's stopTimeout (30 s unless set; Fargate allows up to 120) before SIGKILL. The rendered
 * config sets Grace to the router's stopTimeout less this margin, so the engine's own shutdown after Grace (plugins'
 * exit callbacks, such as the s3 output's last upload) still ends before the SIGKILL.
 */
export const GRACE_MARGIN_SECONDS = 5;

/** The containers whose logs the spec routes: `containers`, or every container but routers. */
export function routedContainers(
  td: TaskDefinitionJson,
  spec: LogRouterSpec,
  router: string,
  error: (path: Path, message: string) => void = () => {},
): ContainerJson[] {
  if (spec.containers === undefined) {
    return td.containerDefinitions.filter((c) => c.name !== router && c.firelensConfiguration === undefined);
  }
  const out: ContainerJson[] = [];
  spec.containers.forEach((name, i) => {
    const c = td.containerDefinitions.find((x) => x.name === name);
    if (c === undefined) {
      error(
        ["containers", i],
        `family ${td.family} has no container "${name}" (it has ${containerNames(td)})`,
      );
    } else {
      out.push(c);
    }
  });
  return out;
}

/** The router's stopTimeout: the spec's, else the routed containers' longest, at least ECS's default. */
export function routerStopTimeout(spec: LogRouterSpec, routed: readonly ContainerJson[]): number {
  if (spec.router.stopTimeout !== undefined) return spec.router.stopTimeout;
  const longest = Math.max(
    ECS_DEFAULT_STOP_TIMEOUT,
    ...routed.map((c) => (typeof c.stopTimeout === "number" ? c.stopTimeout : 0)),
  );
  return Math.min(longest, FARGATE_MAX_STOP_TIMEOUT);
}

/** Fluent Bit's Grace for a router given `stopTimeout` seconds between SIGTERM and SIGKILL. */
export function graceFor(stopTimeout: number): number {
  return Math.max(1, stopTimeout - GRACE_MARGIN_SECONDS);
}
