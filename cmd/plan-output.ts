import type { ResourcePlan } from "../controllers/reconciler.ts";
import type { ResourceFailure } from "../controllers/pass.ts";
import type { HeldDeletions } from "../controllers/prune-guard.ts";
import { paint } from "./cli-support.ts";

const SYMBOL = { create: "+", update: "~", delete: "-" } as const;
const COLOR = { create: 32, update: 33, delete: 31 } as const;

/** The plan as a person reads it: grouped by resource, one line a change, a summary last. */
export function formatPlanText(
  plans: readonly ResourcePlan[],
  failures: readonly ResourceFailure[],
  color: boolean,
  held: readonly HeldDeletions[] = [],
): string {
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
        `  ${paint(color, COLOR[c.action], `${SYMBOL[c.action]} ${c.action} ${c.target}`)}${detail}`,
      );
    }
  }
  for (const f of failures) lines.push(paint(color, 31, failureLine(f)));
  const total = counts.create + counts.update + counts.delete;
  lines.push("");
  for (const h of held) lines.push(paint(color, 35, `Held: ${h.message}.`));
  if (heldChanges > 0) {
    lines.push(
      `${heldChanges} change(s) held: neither this plan nor apply makes them while the guard holds.`,
    );
  }
  if (failures.length > 0) {
    lines.push(
      `${failures.length} resource(s) could not be planned (see the errors above); ` +
        (total === 0
          ? "no changes for the others."
          : `for the others: ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete.`),
    );
  } else {
    lines.push(
      total === 0
        ? heldChanges > 0
          ? "No other changes."
          : "No changes: AWS matches the specs."
        : `Plan: ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete.`,
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

/** `FILE:LINE:COL: Kind/name: error: ...`; a message that already starts with a position keeps only its own. */
export function failureLine(f: ResourceFailure): string {
  if (/^[^\s:]+:\d+:\d+: /.test(f.error.message)) return f.error.message;
  const at = f.source !== undefined ? `${f.source.file}:${f.source.line}:${f.source.col}: ` : "";
  return `${at}${f.key}: ${f.error.message}`;
}
