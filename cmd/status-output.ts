import { stringify as toYaml } from "yaml";
import type { ResourceView, StatusDocument, WatchedServiceStatus } from "../controllers/status-model.ts";
import {
  ageOf,
  conditionOf,
  formatTable,
  headlineCondition,
  lastTransition,
  statusOf,
  targetsText,
} from "../controllers/status-text.ts";
import { UsageError } from "./cli-support.ts";

/** `get`'s and `describe`'s `-o`. */
export type StatusOutputFormat = "text" | "json" | "yaml";

export function outputFormat(value: string): StatusOutputFormat {
  if (value === "table") return "text";
  if (value === "text" || value === "json" || value === "yaml") return value;
  throw new UsageError(`--output is text, json or yaml (not "${value}")`);
}

export function serialise(value: unknown, format: "json" | "yaml"): string {
  return format === "json" ? JSON.stringify(value, null, 2) + "\n" : toYaml(value, { lineWidth: 0 });
}

/** What `get` and `describe` name: `KIND`, `KIND/NAME`, or everything. Kinds match case-insensitively, plural too. */
export interface Selection {
  readonly kind: string | undefined;
  readonly name: string | undefined;
}

export function parseSelection(arg: string | undefined, knownKinds: readonly string[]): Selection {
  if (arg === undefined || arg === "all") return { kind: undefined, name: undefined };
  const slash = arg.indexOf("/");
  const kindText = slash === -1 ? arg : arg.slice(0, slash);
  const name = slash === -1 ? undefined : arg.slice(slash + 1);
  if (name === "") throw new UsageError(`"${arg}" names no resource: use KIND/NAME`);
  const lower = kindText.toLowerCase();
  const kind = knownKinds.find((k) => {
    const l = k.toLowerCase();
    return l === lower || `${l}s` === lower;
  });
  if (kind === undefined) {
    throw new UsageError(`unknown kind "${kindText}" (kinds: ${knownKinds.join(", ")})`);
  }
  return { kind, name };
}

/** The kinds `get` and `describe` recognise: every kind this version knows, and any the document names. */
export function kindsOf(doc: StatusDocument, known: readonly string[]): string[] {
  return [...new Set([...known, ...doc.resources.map((r) => r.kind)])];
}

/** The sentence for a KIND/NAME the document does not hold, naming the ones of that kind it does. */
export function notFound(command: string, doc: StatusDocument, s: Selection): string {
  const others = doc.resources.filter((r) => r.kind === s.kind).map((r) => r.name);
  return (
    `ecs-log-operator ${command}: ${s.kind ?? ""}/${s.name ?? ""} not found` +
    (others.length > 0 ? ` (${s.kind ?? ""}: ${others.join(", ")})` : ` (no ${s.kind ?? ""} is managed)`) +
    "\n"
  );
}

export function select(doc: StatusDocument, s: Selection): ResourceView[] {
  return doc.resources.filter(
    (r) => (s.kind === undefined || r.kind === s.kind) && (s.name === undefined || r.name === s.name),
  );
}

/** `get`'s table, kubectl style; NAME is `Kind/name` unless one kind was asked for. */
export function formatGetTable(resources: readonly ResourceView[], now: number, oneKind: boolean): string {
  if (resources.length === 0) return "No resources found.\n";
  return formatTable(
    ["NAME", "READY", "DEGRADED", "REASON", "AGE", "TARGETS"],
    resources.map((r) => [
      oneKind ? r.name : r.key,
      statusOf(r, "Ready"),
      statusOf(r, "Degraded"),
      headlineCondition(r)?.reason ?? "",
      ageOf(lastTransition(r), now),
      targetsText(r),
    ]),
  );
}

/** The services a resource watches, as the document lists them. */
export function servicesOf(doc: StatusDocument, r: ResourceView): WatchedServiceStatus[] {
  return r.watches.flatMap((w) => doc.services.filter((s) => s.key === w));
}

const indent = (text: string, by: string): string =>
  text
    .split("\n")
    .map((l) => (l === "" ? l : by + l))
    .join("\n");

/** `describe`'s text: kubectl describe's layout, every section always present so a reader finds it. */
export function formatDescribe(doc: StatusDocument, r: ResourceView, now: number): string {
  const out: string[] = [];
  const field = (label: string, value: string): void => {
    out.push(`${`${label}:`.padEnd(17)}${value}`);
  };
  field("Name", r.name);
  field("Kind", r.kind);
  field("Generation", `${r.generation ?? "<none>"} (applied: ${r.observedGeneration ?? "<none>"})`);
  field(
    "Last reconcile",
    r.lastReconcileTime !== undefined
      ? `${r.lastReconcileTime} (${ageOf(r.lastReconcileTime, now)} ago)`
      : "<never>",
  );
  field("Last error", r.lastError ?? "<none>");
  field("Watches", r.watches.length > 0 ? r.watches.join(", ") : "<none>");
  out.push("Conditions:");
  out.push(
    r.conditions.length === 0
      ? "  <none>"
      : indent(
          formatTable(
            ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
            r.conditions.map((c) => [
              c.type,
              c.status,
              c.reason,
              ageOf(c.lastTransitionTime, now),
              c.message,
            ]),
          ).trimEnd(),
          "  ",
        ),
  );
  out.push("Last changes:");
  out.push(
    r.changes.length === 0
      ? `  <none>${r.lastChanges > 0 ? ` recorded (the last reconcile made ${r.lastChanges})` : ""}`
      : indent(
          formatTable(
            ["AGE", "ACTION", "TARGET", "DETAIL"],
            r.changes.map((c) => [ageOf(c.time, now), c.action, c.target, c.detail ?? ""]),
          ).trimEnd(),
          "  ",
        ),
  );
  out.push(`Targets:${r.targets === null ? " <none>" : ` ${r.targets.count}`}`);
  if (r.targets !== null && r.targets.items.length > 0) {
    out.push(
      indent(
        formatTable(
          ["ID", "ADDRESS"],
          r.targets.items.map((t) => [t.id, t.address ?? "<none>"]),
        ).trimEnd(),
        "  ",
      ),
    );
    if (r.targets.count > r.targets.items.length)
      out.push(`  ... and ${r.targets.count - r.targets.items.length} more`);
  }
  const services = servicesOf(doc, r);
  if (r.watches.some((w) => w.startsWith("ecs:")) && services.length === 0) {
    out.push("Watched services: <not read yet>");
  }
  for (const s of services) out.push(formatService(s, now));
  const decisions = doc.decisions.filter((d) => d.resource === r.key);
  out.push("Recent decisions:");
  out.push(
    decisions.length === 0
      ? "  <none>"
      : indent(
          formatTable(
            ["AGE", "DECISION", "MESSAGE"],
            decisions.map((d) => [ageOf(d.time, now), d.decision, d.message]),
          ).trimEnd(),
          "  ",
        ),
  );
  return out.join("\n") + "\n";
}

function formatService(s: WatchedServiceStatus, now: number): string {
  const out: string[] = [];
  const name =
    s.service !== null ? `service ${s.cluster}/${s.service}` : `family ${s.family ?? ""} in ${s.cluster}`;
  out.push(`Watched ${name}:`);
  const counts =
    s.running === null
      ? "not read yet"
      : `${s.desired !== null ? `desired ${s.desired}, ` : ""}running ${s.running}, pending ${s.pending ?? 0}`;
  out.push(
    `  Tasks:         ${counts}${s.observedAt !== null ? ` (read ${ageOf(s.observedAt, now)} ago)` : ""}`,
  );
  if (s.taskDefinition !== null) out.push(`  Task def:      ${s.taskDefinition}`);
  const degraded = conditionOf(s, "Degraded");
  if (degraded !== undefined)
    out.push(`  Degraded:      ${degraded.status} ${degraded.reason}: ${degraded.message}`);
  if (s.error !== null) out.push(`  Last read:     failed: ${s.error}`);
  out.push("  Running tasks:");
  out.push(
    s.tasks.length === 0
      ? "    <none>"
      : indent(
          formatTable(
            ["TASK", "STATUS", "HEALTH", "ADDRESS", "STARTED"],
            s.tasks.map((t) => [
              t.taskId,
              t.lastStatus,
              t.health ?? "-",
              t.address ?? "<none>",
              t.startedAt !== null ? `${ageOf(t.startedAt, now)} ago` : "-",
            ]),
          ).trimEnd(),
          "    ",
        ),
  );
  out.push("  Stopped tasks:");
  out.push(
    s.stoppedTasks.length === 0
      ? "    <none>"
      : indent(
          formatTable(
            ["TASK", "STOPPED", "STOP CODE", "REASON", "STOPPED REASON"],
            s.stoppedTasks.map((t) => [
              t.taskId,
              t.stoppedAt !== null ? `${ageOf(t.stoppedAt, now)} ago` : "-",
              t.stopCode ?? "-",
              t.reason,
              [
                t.stoppedReason ?? "",
                ...t.containers
                  .filter((c) => c.exitCode !== null || c.reason !== null)
                  .map((c) => `[${c.name}: ${c.reason ?? `exit ${c.exitCode ?? "?"}`}]`),
              ]
                .filter((x) => x !== "")
                .join(" "),
            ]),
          ).trimEnd(),
          "    ",
        ),
  );
  out.push("  Events:");
  out.push(
    s.events.length === 0
      ? "    <none>"
      : indent(
          formatTable(
            ["AGE", "MESSAGE"],
            s.events.flatMap((e) => [
              [ageOf(e.createdAt, now), e.message],
              ...(e.explanation !== null ? [["", `=> ${e.explanation}`]] : []),
            ]),
          ).trimEnd(),
          "    ",
        ),
  );
  return out.join("\n");
}
