import type { ResourcePlan } from "../controllers/reconciler.ts";
import type { ResourceFailure } from "../controllers/pass.ts";
import { accessProblem, type ConfiguredEndpoint } from "./aws-preflight.ts";
import type { HeldDeletions } from "../controllers/prune-guard.ts";
import { paint } from "./cli-support.ts";

const SYMBOL = { create: "+", update: "~", delete: "-" } as const;
const COLOR = { create: 32, update: 33, delete: 31 } as const;

const PAST = { create: "created", update: "updated", delete: "deleted" } as const;

/**
 * The plan as a person reads it: grouped by resource, one line a change, a summary last. After `apply` the same list
 * is what was done, in the past tense (a resource whose apply failed is not in it: its error is).
 */
export function formatPlanText(
  plans: readonly ResourcePlan[],
  failures: readonly ResourceFailure[],
  color: boolean,
  endpoints: readonly ConfiguredEndpoint[] = [],
  mode: "plan" | "apply" = "plan",
  held: readonly HeldDeletions[] = [],
): string {
  const done = mode === "apply";
  const lines: string[] = [];
  let counts = { create: 0, update: 0, delete: 0 };
  let heldChanges = 0;
  for (const plan of plans) {
    const header =
      plan.changes.length === 0
        ? paint(color, 2, `${plan.key}: up to date`)
        : plan.held !== undefined
          ? paint(color, 1, `${plan.key}: deletions held by the prune guard`)
          : paint(color, 1, plan.key);
    lines.push(header);
    for (const note of plan.notes ?? []) lines.push(`    ${paint(color, 2, note)}`);
    for (const c of plan.changes) {
      if (plan.held !== undefined) {
        heldChanges++;
        const detail = c.detail !== undefined ? ` (${c.detail})` : "";
        lines.push(`  ${paint(color, 35, `! held ${c.action} ${c.target}`)}${paint(color, 2, detail)}`);
        continue;
      }
      counts = { ...counts, [c.action]: counts[c.action] + 1 };
      const detail = c.detail !== undefined ? ` ${paint(color, 2, `(${c.detail})`)}` : "";
      lines.push(
        `  ${paint(color, COLOR[c.action], `${SYMBOL[c.action]} ${done ? PAST[c.action] : c.action} ${c.target}`)}${detail}`,
      );
    }
  }
  for (const line of failureLines(failures, endpoints)) lines.push(paint(color, 31, line));
  const total = counts.create + counts.update + counts.delete;
  lines.push("");
  const tally = done
    ? `${counts.create} created, ${counts.update} updated, ${counts.delete} deleted.`
    : `${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete.`;
  for (const h of held) lines.push(paint(color, 35, `Held: ${h.message}.`));
  if (heldChanges > 0) {
    lines.push(
      `${heldChanges} change(s) held: neither this plan nor apply makes them while the guard holds.`,
    );
  }
  if (failures.length > 0) {
    lines.push(
      `${failures.length} resource(s) ${done ? "failed" : "could not be planned"} (see the errors above); ` +
        (total === 0
          ? done
            ? "nothing changed for the others."
            : "no changes for the others."
          : `for the others: ${tally}`),
    );
  } else if (done) {
    lines.push(
      total === 0
        ? heldChanges > 0
          ? "No other changes."
          : "No changes: AWS already matched the specs."
        : `Applied: ${tally}`,
    );
  } else {
    lines.push(
      total === 0
        ? heldChanges > 0
          ? "No other changes."
          : "No changes: AWS matches the specs."
        : `Plan: ${tally}`,
    );
  }
  return lines.join("\n") + "\n";
}

export function planJson(
  plans: readonly ResourcePlan[],
  failures: readonly ResourceFailure[],
  held: readonly HeldDeletions[] = [],
): unknown {
  const made = plans.filter((p) => p.held === undefined);
  return {
    resources: plans.map((p) => ({
      key: p.key,
      kind: p.kind,
      notes: p.notes ?? [],
      changes: p.changes,
      ...(p.held !== undefined ? { held: p.held } : {}),
    })),
    held: held.map((h) => ({ kind: h.kind, reason: h.reason, resources: h.resources, message: h.message })),
    errors: failures.map((f) => ({
      key: f.key,
      message: f.error.message,
      ...(f.source !== undefined ? { file: f.source.file, line: f.source.line, col: f.source.col } : {}),
    })),
    summary: {
      create: made.flatMap((p) => p.changes).filter((c) => c.action === "create").length,
      update: made.flatMap((p) => p.changes).filter((c) => c.action === "update").length,
      delete: made.flatMap((p) => p.changes).filter((c) => c.action === "delete").length,
      held: plans.filter((p) => p.held !== undefined).flatMap((p) => p.changes).length,
    },
  };
}

/**
 * One line per failure, except that failures sharing one cause outside any resource (AWS cannot be reached, the
 * credentials are refused) are one line for all of them, sweeps (`Kind/*`) included, naming what to check.
 */
export function failureLines(
  failures: readonly ResourceFailure[],
  endpoints: readonly ConfiguredEndpoint[] = [],
): string[] {
  const own: string[] = [];
  const shared = new Map<string, number>();
  for (const f of failures) {
    const problem = accessProblem(f.error, endpoints);
    if (problem === undefined) own.push(failureLine(f));
    else shared.set(problem.summary, (shared.get(problem.summary) ?? 0) + 1);
  }
  return [...own, ...[...shared].map(([summary, n]) => `${summary} (${n} resource(s) failed on this)`)];
}

/** `FILE:LINE:COL: Kind/name: error: ...`; a message that already starts with a position keeps only its own. */
export function failureLine(f: ResourceFailure): string {
  if (/^[^\s:]+:\d+:\d+: /.test(f.error.message)) return f.error.message;
  const at = f.source !== undefined ? `${f.source.file}:${f.source.line}:${f.source.col}: ` : "";
  // A reconciler may already have named its resource.
  const message = f.error.message.startsWith(`${f.key}: `)
    ? f.error.message.slice(f.key.length + 2)
    : f.error.message;
  return `${at}${f.key}: ${message}`;
}
