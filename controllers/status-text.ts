import type { ConditionType, ResourceView, StatusCondition, StatusDocument } from "./status-model.ts";

/**
 * How a status document reads to a person, shared by the status page and the `get` / `describe` tables so that
 * both say the same thing.
 */

/** kubectl's style of age: `45s`, `3m20s`, `42m`, `5h10m`, `20h`, `3d`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "<unknown>";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** The age of an ISO time at `now`; `<unknown>` for a missing or unreadable time. */
export function ageOf(iso: string | null | undefined, now: number): string {
  return iso ? formatAge(now - Date.parse(iso)) : "<unknown>";
}

/** The document's own time, else the reader's: ages are counted from when the controller made the document. */
export function documentNow(doc: StatusDocument, fallback: () => number): number {
  const t = Date.parse(doc.generatedAt ?? "");
  return Number.isFinite(t) ? t : fallback();
}

export function conditionOf(
  r: { conditions: readonly StatusCondition[] },
  type: ConditionType,
): StatusCondition | undefined {
  return r.conditions.find((c) => c.type === type);
}

/**
 * The condition that says most about a resource: Degraded while it is True, else Stalled while True, else Ready.
 */
export function headlineCondition(r: ResourceView): StatusCondition | undefined {
  const degraded = conditionOf(r, "Degraded");
  if (degraded?.status === "True") return degraded;
  const stalled = conditionOf(r, "Stalled");
  if (stalled?.status === "True") return stalled;
  return conditionOf(r, "Ready") ?? r.conditions[0];
}

/** The latest transition among a resource's conditions. */
export function lastTransition(r: { conditions: readonly StatusCondition[] }): string | undefined {
  return r.conditions
    .map((c) => c.lastTransitionTime)
    .filter((t) => t !== "")
    .sort()
    .at(-1);
}

/** `3`, or `<none>` when the kind reports no targets. */
export function targetsText(r: ResourceView): string {
  return r.targets === null ? "<none>" : String(r.targets.count);
}

export function statusOf(r: ResourceView, type: ConditionType): string {
  return conditionOf(r, type)?.status ?? "-";
}

/** Pads columns to their widest cell, kubectl style: upper-case headers, three spaces between columns. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}
