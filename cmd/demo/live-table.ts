import { paint } from "../cli-support.ts";

/** One step of the demo: a change made to AWS, and the state the operator must bring AWS to. */
export interface StepRow {
  readonly step: string;
  readonly change: string;
  expected: string;
  observed: string;
  state: "waiting" | "converging" | "converged" | "timed out";
  seconds?: number | undefined;
}

/** Renders the rows as a table; on a terminal it redraws in place. */
export function renderTable(rows: readonly StepRow[], color: boolean): string {
  const header = ["step", "change", "expected in AWS", "AWS now", "result"];
  const cells = rows.map((r) => [
    r.step,
    r.change,
    r.expected,
    r.observed,
    r.state === "converged"
      ? `converged in ${(r.seconds ?? 0).toFixed(1)} s`
      : r.state === "timed out"
        ? "NOT converged"
        : r.state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join("  ");
  const colourOf = (r: StepRow) =>
    r.state === "converged" ? 32 : r.state === "timed out" ? 31 : r.state === "converging" ? 33 : 2;
  return [
    paint(color, 1, line(header)),
    ...cells.map((c, i) => paint(color, colourOf(rows[i] as StepRow), line(c))),
  ].join("\n");
}
