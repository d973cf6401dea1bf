import type { PatchIssue, PatchOptions } from "../task-definition/patch-issue.ts";
import {
  type ContainerJson,
  type LogConfigurationJson,
  type TaskDefinitionJson,
} from "../task-definition/task-definition.ts";
import { unsafeValueReason } from "./fluent-bit-config.ts";
import { INIT_VARIABLE, initVariables, routerImage, usesInit } from "./init-config.ts";
import { DEFAULT_TOTAL_LIMIT_SIZE, outputKind, routerName, type LogRouterSpec } from "./log-router-kind.ts";
import {
  derivedProperties,
  optionProperties,
  routerOutputs,
  SECRET_VARIABLE_PREFIX,
  secretVariable,
  type RegionOf,
} from "./log-router-outputs.ts";
import { routedContainers, routerStopTimeout } from "./router-shape.ts";

export { fluentBitConfigFor, type RenderedFluentBitConfig } from "./log-router-config.ts";

type Path = (string | number)[];

/** What AWS's FireLens examples give the router: enough for Fluent Bit's usual load. */
export const DEFAULT_ROUTER_MEMORY_RESERVATION = 50;

/**
 * Patches the FireLens shape AWS documents onto `td` (a working copy, changed in place): a `fluentbit` router
 * container and `awsfirelens` log configuration on the routed containers, or plain awslogs (and no router) for the
 * awslogs output. Only the fields the spec owns are set; everything else on every container is kept, so a new image
 * from the pipeline survives. Pure apart from changing `td`.
 */
export function applyLogRouter(
  td: TaskDefinitionJson,
  spec: LogRouterSpec,
  options: PatchOptions,
): PatchIssue[] {
  const issues: PatchIssue[] = [];
  const error = (path: Path, message: string): void => {
    issues.push({ path, message, severity: "error" });
  };
  const name = routerName(spec);
  const kind = outputKind(spec.output);
  if (kind === undefined) return [{ path: ["output"], message: "no output", severity: "error" }];

  for (const c of td.containerDefinitions) {
    if (c.firelensConfiguration !== undefined && c.name !== name) {
      error(
        ["router", "name"],
        `family ${td.family} already has a FireLens router "${c.name}" and a task takes only one; ` +
          `set router.name: ${c.name} to manage it`,
      );
    }
  }
  const regionOf = regionResolver(options, error);

  const targets = routedContainers(td, spec, name, error);
  if (kind === "awslogs") {
    const o = spec.output.awslogs!;
    const logConfiguration = awslogs(o, regionOf(o.region, ["output", "awslogs", "region"]));
    // Without FireLens a router would route nothing; a router this spec added is removed, and so is every
    // container's dependency on it (ECS rejects a dependsOn naming a container the task does not have).
    const removed = td.containerDefinitions.some(
      (c) => c.name === name && c.firelensConfiguration !== undefined,
    );
    td.containerDefinitions = td.containerDefinitions.filter(
      (c) => !(c.name === name && c.firelensConfiguration !== undefined),
    );
    if (removed) for (const c of td.containerDefinitions) dropDependency(c, name);
    for (const c of targets) c.logConfiguration = structuredClone(logConfiguration);
  } else {
    const logConfiguration = firelensLogConfiguration(spec, td.family, regionOf);
    for (const c of targets) {
      c.logConfiguration = structuredClone(logConfiguration);
      dependOnRouter(c, name);
    }
    const router = upsertRouter(td, spec, name, targets, regionOf);
    if (router.dependsOn?.some((d) => targets.some((t) => t.name === d.containerName)) === true) {
      error(
        ["router", "name"],
        `the router ${name} depends on a container it routes (${router.dependsOn
          .map((d) => d.containerName)
          .join(", ")}): the routed containers start after the router, so ECS could never start the task`,
      );
    }
    for (const o of routerOutputs(spec)) {
      if (o.index === 0) continue;
      // Regions of the additional outputs, checked here so that a missing one is an error before anything is written.
      derivedProperties(o, td.family, regionOf);
      (o.containers ?? []).forEach((c, j) => {
        if (!targets.some((t) => t.name === c)) {
          error(
            ["additionalOutputs", o.index - 1, "containers", j],
            `"${c}" is not a container this LogRouter routes in family ${td.family} ` +
              `(it routes ${targets.map((t) => t.name).join(", ") || "none"})`,
          );
        }
      });
    }
    issues.push(...stopWarnings(td, spec, router), ...roleWarnings(td, spec, router));
  }
  issues.push(...unsafeOptionIssues(td));
  return issues;
}

function regionResolver(options: PatchOptions, error: (path: Path, message: string) => void): RegionOf {
  return (given, path) => {
    const region = given ?? options.region;
    if (region === undefined) {
      error(path, "no region: set region here, or give the operator one (AWS_REGION or --region)");
      return "";
    }
    return region;
  };
}

function awslogs(
  o: { group: string; streamPrefix: string; createGroup?: boolean | undefined },
  region: string,
): LogConfigurationJson {
  const options: Record<string, string> = {
    "awslogs-group": o.group,
    "awslogs-region": region,
    "awslogs-stream-prefix": o.streamPrefix,
  };
  if (o.createGroup === true) options["awslogs-create-group"] = "true";
  return { logDriver: "awslogs", options };
}

/** The first output, as FireLens takes it: the routed containers' `awsfirelens` options and secretOptions. */
function firelensLogConfiguration(
  spec: LogRouterSpec,
  family: string,
  regionOf: RegionOf,
): LogConfigurationJson {
  const first = routerOutputs(spec).find((o) => o.index === 0);
  if (first === undefined) return { logDriver: "awsfirelens" };
  const options = Object.fromEntries([
    ...derivedProperties(first, family, regionOf),
    ...optionProperties(first),
  ]);
  if (spec.router.buffer?.type === "filesystem") {
    options["storage.total_limit_size"] = spec.router.buffer.totalLimitSize ?? DEFAULT_TOTAL_LIMIT_SIZE;
  }
  // Secrets travel as references: ECS resolves them at task start with the execution role.
  const secretOptions = first.secrets.map((s) => ({ name: s.name, valueFrom: s.valueFrom }));
  return {
    logDriver: "awsfirelens",
    options,
    ...(secretOptions.length > 0 ? { secretOptions } : {}),
  };
}

/**
 * Makes `c` start after the router and stop before it. ECS orders FireLens containers this way on its own; writing
 * the dependency makes the order visible in the task definition and holds it whatever else `dependsOn` lists. A
 * HEALTHY condition already there (a router with a health check) is kept: it is the stricter order.
 */
function dependOnRouter(c: ContainerJson, router: string): void {
  const existing = c.dependsOn?.find((d) => d.containerName === router);
  if (existing !== undefined && (existing.condition === "START" || existing.condition === "HEALTHY")) return;
  const others = (c.dependsOn ?? []).filter((d) => d.containerName !== router);
  c.dependsOn = [...others, { containerName: router, condition: "START" }];
}

function dropDependency(c: ContainerJson, name: string): void {
  if (c.dependsOn === undefined) return;
  c.dependsOn = c.dependsOn.filter((d) => d.containerName !== name);
  if (c.dependsOn.length === 0) delete c.dependsOn;
}

function upsertRouter(
  td: TaskDefinitionJson,
  spec: LogRouterSpec,
  name: string,
  routed: readonly ContainerJson[],
  regionOf: RegionOf,
): ContainerJson {
  const firelensOptions: Record<string, string> = {
    "enable-ecs-log-metadata": spec.router.enableEcsLogMetadata === false ? "false" : "true",
  };
  const cf = spec.router.configFile;
  // With init-s3 the init process includes the file; FireLens's own config-file options are for s3 and file.
  if (cf !== undefined && cf.type !== "init-s3") {
    firelensOptions["config-file-type"] = cf.type;
    firelensOptions["config-file-value"] = cf.value;
  }
  const owned: Partial<ContainerJson> = {
    image: routerImage(spec),
    essential: spec.router.essential ?? true,
    stopTimeout: routerStopTimeout(spec, routed),
  };
  const existing = td.containerDefinitions.find((c) => c.name === name);
  if (spec.router.memoryReservation !== undefined) {
    owned.memoryReservation = spec.router.memoryReservation;
  } else if (
    td.memory === undefined &&
    existing?.memory === undefined &&
    existing?.memoryReservation === undefined
  ) {
    // Without task-level memory, ECS rejects a container that has neither memory nor memoryReservation.
    owned.memoryReservation = DEFAULT_ROUTER_MEMORY_RESERVATION;
  }
  owned.firelensConfiguration = { type: "fluentbit", options: firelensOptions };
  const logs = spec.router.logs;
  if (logs !== undefined)
    owned.logConfiguration = awslogs(logs, regionOf(logs.region, ["router", "logs", "region"]));
  const router = existing ?? { name };
  Object.assign(router, owned);
  if (existing === undefined) td.containerDefinitions.push(router);
  setOwnedEntries(router, "environment", (n) => INIT_VARIABLE.test(n), initVariables(spec));
  setOwnedEntries(
    router,
    "secrets",
    (n) => n.startsWith(SECRET_VARIABLE_PREFIX),
    routerOutputs(spec)
      .filter((o) => o.index > 0)
      .flatMap((o) => o.secrets.map((s) => ({ name: secretVariable(o, s.name), valueFrom: s.valueFrom }))),
  );
  return router;
}

/**
 * Replaces the entries of a name-keyed list (`environment`, `secrets`) that this operator owns (`owns`) with
 * `wanted`, keeping every other entry where it was; an emptied list is removed, as ECS omits it.
 */
function setOwnedEntries<T extends { name: string }>(
  c: ContainerJson,
  field: "environment" | "secrets",
  owns: (name: string) => boolean,
  wanted: readonly T[],
): void {
  const current = Array.isArray(c[field]) ? (c[field] as T[]) : [];
  const kept = current.filter((e) => !owns(e.name));
  const next = [...kept, ...wanted];
  if (next.length === 0) delete c[field];
  else c[field] = next;
}

function stopWarnings(td: TaskDefinitionJson, spec: LogRouterSpec, router: ContainerJson): PatchIssue[] {
  if (spec.router.stopTimeout === undefined || spec.router.configFile !== undefined) return [];
  return [
    {
      path: ["router", "stopTimeout"],
      message:
        `the router of family ${td.family} gets ${String(router.stopTimeout)} s to stop, but without a config file ` +
        "Fluent Bit keeps its default Grace of 5 s and exits before flushing what it still retries: set " +
        "router.configFile, whose rendered [SERVICE] section sets Grace to match",
      severity: "warning",
    },
  ];
}

function roleWarnings(td: TaskDefinitionJson, spec: LogRouterSpec, router: ContainerJson): PatchIssue[] {
  const issues: PatchIssue[] = [];
  if (usesInit(spec) && (typeof td.taskRoleArn !== "string" || td.taskRoleArn === "")) {
    issues.push({
      path: ["router", spec.router.configFile?.type === "init-s3" ? "configFile" : "init"],
      message:
        `family ${td.family} has no taskRoleArn, but the router's init process downloads its S3 files with the task ` +
        "role (s3:GetObject, s3:GetBucketLocation; `iam-policy --role task` prints them); the router will not start",
      severity: "warning",
    });
  }
  const secrets = Array.isArray(router.secrets) ? router.secrets : [];
  const lintWarns = td.containerDefinitions.some((c) => (c.logConfiguration?.secretOptions?.length ?? 0) > 0);
  if (secrets.length > 0 && !lintWarns && (td.executionRoleArn === undefined || td.executionRoleArn === "")) {
    issues.push({
      path: ["additionalOutputs"],
      message:
        `family ${td.family} has no executionRoleArn, but ECS reads the router's secrets with the task execution ` +
        "role (secretsmanager:GetSecretValue); the task will fail to start without one",
      severity: "warning",
    });
  }
  return issues;
}

/** FireLens writes every option into the router's generated config, so options obey the emitter's rule too. */
function unsafeOptionIssues(td: TaskDefinitionJson): PatchIssue[] {
  const issues: PatchIssue[] = [];
  for (const c of td.containerDefinitions) {
    const options = {
      ...(c.logConfiguration?.logDriver === "awsfirelens" ? c.logConfiguration.options : {}),
      ...c.firelensConfiguration?.options,
    };
    for (const [k, v] of Object.entries(options)) {
      const reason = unsafeValueReason(v);
      if (reason !== undefined) {
        issues.push({ path: [], message: `option ${k} of container ${c.name} ${reason}`, severity: "error" });
      }
    }
  }
  return issues;
}
