import { canonicalJson } from "../../controllers/spec/load.ts";

/**
 * A task definition as plain JSON, in the shape of RegisterTaskDefinition's input. The patchers touch a handful of
 * fields; every other field is carried through untouched, which is what "patch, do not replace" means.
 */
export interface TaskDefinitionJson {
  family: string;
  containerDefinitions: ContainerJson[];
  executionRoleArn?: string;
  requiresCompatibilities?: string[];
  volumes?: VolumeJson[];
  [field: string]: unknown;
}

export interface ContainerJson {
  name: string;
  image?: string;
  essential?: boolean;
  logConfiguration?: LogConfigurationJson;
  firelensConfiguration?: { type: string; options?: Record<string, string> };
  volumesFrom?: { sourceContainer: string; readOnly?: boolean }[];
  dependsOn?: { containerName: string; condition: string }[];
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
  healthCheck?: unknown;
  [field: string]: unknown;
}

export interface LogConfigurationJson {
  logDriver: string;
  options?: Record<string, string>;
  secretOptions?: { name: string; valueFrom: string }[];
}

export interface VolumeJson {
  name: string;
  [field: string]: unknown;
}

/** Fields DescribeTaskDefinition returns that RegisterTaskDefinition does not take. */
const READ_ONLY_FIELDS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "compatibilities",
  "requiresAttributes",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
  "deleteRequested",
];

/**
 * Turns a described task definition (or a hand-written one) into RegisterTaskDefinition input: read-only fields
 * dropped, and what ECS fills in on its own when a field is omitted (empty lists and maps, `cpu: 0` on a container)
 * left out, so the result reads like what a person wrote and registers the same definition.
 */
export function toRegisterInput(described: Record<string, unknown>): TaskDefinitionJson {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(described)) {
    if (READ_ONLY_FIELDS.includes(k)) continue;
    const pruned = pruneEmpty(v);
    if (pruned !== undefined) copy[k] = pruned;
  }
  const containers = Array.isArray(copy.containerDefinitions) ? copy.containerDefinitions : [];
  copy.containerDefinitions = containers.map((c: Record<string, unknown>) => {
    const { cpu, ...rest } = c;
    return (cpu === 0 ? rest : c) as ContainerJson;
  });
  if (typeof copy.family !== "string" || copy.family === "") {
    throw new TaskDefinitionShapeError("a task definition needs a family");
  }
  for (const c of copy.containerDefinitions as Record<string, unknown>[]) {
    if (typeof c.name !== "string" || c.name === "") {
      throw new TaskDefinitionShapeError(`every container of family ${copy.family} needs a name`);
    }
  }
  return copy as TaskDefinitionJson;
}

export class TaskDefinitionShapeError extends Error {
  override readonly name = "TaskDefinitionShapeError";
}

function pruneEmpty(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return undefined;
  if (Array.isArray(v)) {
    const items = v.map(pruneEmpty).filter((x) => x !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = pruneEmpty(x);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

/**
 * The form two task definitions are compared in: besides `toRegisterInput`'s pruning, every value ECS treats as the
 * default is dropped (`essential: true`, port mapping protocol `tcp`, `readOnly: false`, health check defaults,
 * `user: "0"` that the console puts on a FireLens router), and lists whose order ECS does not keep (environment, secrets) are sorted. Option maps compare
 * regardless of key order because the comparison is canonical JSON.
 */
export function comparable(td: TaskDefinitionJson): string {
  const input = toRegisterInput(td);
  const containers = input.containerDefinitions.map((c) => {
    const out: Record<string, unknown> = { ...c };
    if (out.essential === true) delete out.essential;
    if (c.firelensConfiguration !== undefined && out.user === "0") delete out.user;
    if (Array.isArray(out.portMappings)) {
      out.portMappings = (out.portMappings as Record<string, unknown>[]).map((p) => {
        const m = { ...p };
        if (m.protocol === "tcp") delete m.protocol;
        if (m.hostPort === m.containerPort && input.networkMode === "awsvpc") delete m.hostPort;
        return m;
      });
    }
    for (const list of ["mountPoints", "volumesFrom"]) {
      if (Array.isArray(out[list])) {
        out[list] = (out[list] as Record<string, unknown>[]).map(({ readOnly, ...rest }) =>
          readOnly === false ? rest : { readOnly, ...rest },
        );
      }
    }
    if (typeof out.healthCheck === "object" && out.healthCheck !== null) {
      // ECS fills in the health check's defaults: 30 s interval, 5 s timeout, 3 retries.
      const h: Record<string, unknown> = { ...(out.healthCheck as Record<string, unknown>) };
      for (const [k, v] of [
        ["interval", 30],
        ["timeout", 5],
        ["retries", 3],
      ] as const) {
        if (h[k] === v) delete h[k];
      }
      out.healthCheck = h;
    }
    for (const list of ["environment", "secrets"]) {
      if (Array.isArray(out[list])) {
        out[list] = [...(out[list] as { name?: string }[])].sort((a, b) =>
          (a.name ?? "") < (b.name ?? "") ? -1 : 1,
        );
      }
    }
    return out;
  });
  return canonicalJson({ ...input, containerDefinitions: containers });
}

export function sameTaskDefinition(a: TaskDefinitionJson, b: TaskDefinitionJson): boolean {
  return comparable(a) === comparable(b);
}

/** What differs between two revisions, in words: `container logrouter added, gaze-heatmap: logConfiguration`. */
export function describeDifference(from: TaskDefinitionJson, to: TaskDefinitionJson): string {
  const parts: string[] = [];
  const before = new Map(from.containerDefinitions.map((c) => [c.name, c]));
  const after = new Map(to.containerDefinitions.map((c) => [c.name, c]));
  for (const [name, c] of after) {
    const old = before.get(name);
    if (old === undefined) {
      parts.push(`container ${name} added`);
      continue;
    }
    const fields = changedFields(old, c);
    if (fields.length > 0) parts.push(`${name}: ${fields.join(", ")}`);
  }
  for (const name of before.keys()) if (!after.has(name)) parts.push(`container ${name} removed`);
  const { containerDefinitions: _a, ...restFrom } = from;
  const { containerDefinitions: _b, ...restTo } = to;
  const taskFields = changedFields(restFrom, restTo);
  if (taskFields.length > 0) parts.push(`task: ${taskFields.join(", ")}`);
  return parts.join("; ");
}

function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter(
    (k) => canonicalJson(pruneEmpty(a[k]) ?? null) !== canonicalJson(pruneEmpty(b[k]) ?? null),
  );
}

/** A deep copy, so a patcher never changes the observed revision it started from. */
export function cloneTaskDefinition(td: TaskDefinitionJson): TaskDefinitionJson {
  return structuredClone(td);
}

/** `app, log_router`: the containers of a family, for messages. */
export function containerNames(td: TaskDefinitionJson): string {
  return td.containerDefinitions.map((c) => c.name).join(", ") || "none";
}
