import { parseWatchKey } from "../controllers/informers.ts";
import { explainServiceEvent } from "../controllers/service-health/explain.ts";
import { assessServiceHealth } from "../controllers/service-health/health.ts";
import type { ServiceDescription, TaskDefinitionSummary } from "../controllers/service-health/observation.ts";
import { ageOf, formatTable } from "../controllers/status-text.ts";
import type { ClusterSummary } from "./cluster-inventory.ts";

/** What `inspect` shows of one service: Segment's `specs` view, plus which specs manage it and its health. */
export interface InspectedService {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly launchType: string | null;
  readonly taskDefinition: string;
  /** `awsvpc`, `bridge`, `host`; null when the task definition could not be read. */
  readonly networkMode: string | null;
  readonly containers: readonly { readonly name: string; readonly image: string; readonly tag: string }[];
  readonly serviceRegistries: readonly string[];
  readonly subnets: readonly string[];
  readonly deployments: readonly {
    readonly id: string;
    readonly status: string;
    readonly taskDefinition: string;
    readonly rolloutState: string | null;
  }[];
  readonly health: { readonly degraded: boolean; readonly reason: string; readonly message: string };
  /** Newest first, at most the number asked for. */
  readonly events: readonly {
    readonly createdAt: string;
    readonly message: string;
    readonly reason: string | null;
    readonly explanation: string | null;
  }[];
  /** `Kind/name` of the specs that manage or follow it. */
  readonly managedBy: readonly string[];
}

export interface InspectReport {
  readonly cluster: ClusterSummary;
  readonly generatedAt: string;
  readonly services: readonly InspectedService[];
  /** The spec directory read, when one was given. */
  readonly specs: string | null;
}

/** A spec and the watch keys it declares (`Reconciler.watches`). */
export interface SpecWatches {
  readonly resource: string;
  readonly watches: readonly string[];
}

/**
 * Which specs manage a service: one that watches the service itself (`ecs:CLUSTER/service:NAME`), its task
 * definition family in the cluster (`ecs:CLUSTER/family:F`), or patches that family (`taskdef:F`).
 */
export function managersOf(
  cluster: string,
  service: string,
  family: string | undefined,
  specs: readonly SpecWatches[],
): string[] {
  const out = new Set<string>();
  for (const s of specs) {
    for (const w of s.watches) {
      if (w.startsWith("taskdef:")) {
        if (family !== undefined && w.slice("taskdef:".length) === family) out.add(s.resource);
        continue;
      }
      const t = parseWatchKey(w);
      if (t === undefined || t.type === "asg" || t.cluster !== cluster) continue;
      if (
        (t.type === "ecs-service" && t.service === service) ||
        (t.type === "ecs-family" && t.family === family)
      ) {
        out.add(s.resource);
      }
    }
  }
  return [...out].sort();
}

/** `repo/name:tag` or `repo/name@sha256:...` -> the tag or digest (`latest` when none is given). */
export function imageTag(image: string): string {
  const at = image.indexOf("@");
  if (at !== -1) return image.slice(at + 1);
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(colon + 1) : "latest";
}

function shortImage(image: string): string {
  const name = image.slice(image.lastIndexOf("/") + 1);
  return name.includes(":") || name.includes("@") ? name : `${name}:latest`;
}

export function buildInspectReport(input: {
  readonly cluster: ClusterSummary;
  readonly services: readonly ServiceDescription[];
  readonly taskDefinitions: ReadonlyMap<string, TaskDefinitionSummary>;
  readonly specs: readonly SpecWatches[];
  readonly specDir: string | null;
  readonly now: number;
  readonly events: number;
}): InspectReport {
  const services = [...input.services]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s): InspectedService => {
      const td = input.taskDefinitions.get(s.taskDefinition);
      const health = assessServiceHealth(
        { cluster: s.cluster, service: s.name, description: s, stopped: [] },
        { now: input.now, maxEvents: input.events },
      );
      return {
        name: s.name,
        arn: s.arn,
        status: s.status,
        desired: s.desiredCount,
        running: s.runningCount,
        pending: s.pendingCount,
        launchType: s.launchType ?? null,
        taskDefinition: s.taskDefinition,
        networkMode: td?.networkMode ?? null,
        containers: (td?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          tag: imageTag(c.image),
        })),
        serviceRegistries: s.serviceRegistries.map((r) => r.registryArn),
        subnets: s.subnets,
        deployments: s.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinition,
          rolloutState: d.rolloutState ?? null,
        })),
        health: { degraded: health.degraded, reason: health.reason, message: health.message },
        events: s.events.slice(0, input.events).map((e) => {
          const meaning = explainServiceEvent(e.message);
          return {
            createdAt: e.createdAt,
            message: e.message,
            reason: meaning.reason ?? null,
            explanation: meaning.explanation ?? null,
          };
        }),
        managedBy: managersOf(s.cluster, s.name, td?.family, input.specs),
      };
    });
  return {
    cluster: input.cluster,
    generatedAt: new Date(input.now).toISOString(),
    services,
    specs: input.specDir,
  };
}

const revision = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);
const registryId = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);

export function formatInspectText(report: InspectReport): string {
  const now = Date.parse(report.generatedAt);
  const c = report.cluster;
  const out: string[] = [
    `Cluster ${c.name} (${c.status}): ${report.services.length} service(s), ${c.runningTasks} running and ${c.pendingTasks} pending task(s), ${c.containerInstances} container instance(s)`,
    "",
  ];
  if (report.services.length === 0) return out.join("\n") + "No services.\n";
  out.push(
    formatTable(
      [
        "SERVICE",
        "DESIRED",
        "RUNNING",
        "PENDING",
        "HEALTH",
        "TASK DEFINITION",
        "IMAGES",
        "NETWORK",
        "REGISTRIES",
        "MANAGED BY",
      ],
      report.services.map((s) => [
        s.name,
        String(s.desired),
        String(s.running),
        String(s.pending),
        s.health.reason,
        revision(s.taskDefinition),
        s.containers.length > 0 ? s.containers.map((x) => shortImage(x.image)).join(", ") : "?",
        s.networkMode ?? "?",
        s.serviceRegistries.length > 0 ? s.serviceRegistries.map(registryId).join(", ") : "-",
        s.managedBy.length > 0 ? s.managedBy.join(", ") : report.specs !== null ? "-" : "",
      ]),
    ).trimEnd(),
  );
  const degraded = report.services.filter((s) => s.health.degraded);
  if (degraded.length > 0) {
    out.push("", "Degraded:");
    for (const s of degraded) out.push(`  ${s.name}: ${s.health.reason}: ${s.health.message}`);
  }
  const withEvents = report.services.filter((s) => s.events.length > 0);
  out.push("", "Latest events:");
  if (withEvents.length === 0) out.push("  <none>");
  for (const s of withEvents) {
    out.push(`  ${s.name}:`);
    for (const e of s.events) {
      out.push(`    ${ageOf(e.createdAt, now).padEnd(6)}${e.message}`);
      if (e.explanation !== null) out.push(`          => ${e.explanation}`);
    }
  }
  if (report.specs === null) out.push("", "Pass --specs DIR to see which specs manage each service.");
  return out.join("\n") + "\n";
}
