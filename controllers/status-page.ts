import { createHash } from "node:crypto";
import type { ResourceView, StatusCondition, StatusDocument, WatchedServiceStatus } from "./status-model.ts";
import {
  ageOf,
  conditionOf,
  documentNow,
  headlineCondition,
  lastTransition,
  targetsText,
} from "./status-text.ts";

/**
 * The status page served at `/`: one server-rendered HTML document, a pure function of the status document. Every
 * string from a spec, AWS or an error is escaped; the page has no script, no form and no link that changes
 * anything, and reloads itself (a meta refresh) while it is open.
 */

const CSS = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header .meta { color: #d1d9e0; }
main { padding: 16px 24px 40px; max-width: 1400px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
h3 { font-size: 14px; margin: 0 0 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; white-space: nowrap; }
td.msg { max-width: 640px; }
.pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.True.Ready, .False.Degraded, .False.Stalled { background: #dafbe1; color: var(--ok); }
.False.Ready, .True.Degraded, .True.Stalled { background: #ffebe9; color: var(--bad); }
.Unknown { background: #fff8c5; color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
.card table { border: none; }
.counts { font-size: 13px; color: var(--muted); margin-bottom: 6px; }
.counts b { color: #1f2328; }
.explain { color: var(--muted); }
.failure { color: var(--bad); }
.empty { color: var(--muted); font-style: italic; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

/** The Content-Security-Policy the page is served with: its own style and nothing else. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(CSS).digest("base64")}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface StatusPageOptions {
  /** How often the page reloads itself. Default 10 s. */
  readonly refreshSeconds?: number;
  /** Epoch ms, for ages when the document has no `generatedAt`. */
  readonly now?: number;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Tagged template: every interpolated value is escaped unless it is already `Html`. */
class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | null | undefined | readonly Part[];

function h(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

function render(v: Part): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join("");
  return escapeHtml(String(v));
}

export function renderStatusPage(doc: StatusDocument, options: StatusPageOptions = {}): string {
  const now = documentNow(doc, () => options.now ?? 0);
  const refresh = Math.max(1, Math.round(options.refreshSeconds ?? 10));
  const ready = doc.resources.filter((r) => conditionOf(r, "Ready")?.status === "True").length;
  const degraded = doc.resources.filter((r) => conditionOf(r, "Degraded")?.status === "True").length;
  const services =
    doc.services.length === 0
      ? h`<p class="empty">No spec watches an ECS service or family.</p>`
      : h`<div class="cards">
${doc.services.map((s) => serviceCard(s, now))}</div>`;
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<meta name="referrer" content="no-referrer">
<title>ecs-log-operator: ${doc.phase}</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<header>
<h1>ecs-log-operator</h1>
<span class="meta" id="phase" data-phase="${doc.phase}">phase <b>${doc.phase}</b></span>
<span class="meta">${doc.resources.length} resources, ${ready} ready, ${degraded} degraded</span>
${leadership(doc)}${source(doc)}<span class="meta" title="this page reloads every ${refresh}s">as of ${doc.generatedAt ?? new Date(now).toISOString()}</span>
</header>
<main>
<h2>Resources</h2>
${resourcesTable(doc.resources, now)}
${sweeps(doc, now)}<h2>Watched services</h2>
${services}
<h2>Recent decisions</h2>
${decisions(doc, now)}
</main>
</body>
</html>
`.text;
}

function leadership(doc: StatusDocument): Html {
  const l = doc.leadership;
  if (l === null) return h``;
  const epoch = l.epoch !== null ? h`, epoch ${l.epoch}` : "";
  const holder = !l.leader && l.holder !== null ? h`, leader ${l.holder}` : "";
  return h`<span class="meta">${l.leader ? "leader" : "standby"} ${l.identity}${epoch}${holder}</span>
`;
}

function source(doc: StatusDocument): Html {
  const s = doc.source;
  if (s === null) return h``;
  // A Git source has no revision before its first good fetch; a directory never has one.
  const revision =
    s.revision !== null
      ? h` @ <code>${s.revision.slice(0, 12)}</code>`
      : s.type === "git"
        ? " (no revision applied yet)"
        : "";
  const ready = s.conditions.find((c) => c.type === "Ready");
  const behind =
    ready !== undefined && ready.status !== "True"
      ? h` · <b title="${ready.message}">${ready.reason}</b>`
      : "";
  const refused =
    s.rejected !== null
      ? h` · refused <code>${s.rejected.revision.slice(0, 12)}</code>: ${s.rejected.message}`
      : "";
  return h`<span class="meta" id="source">specs ${s.location}${revision}${behind}${refused}</span>
`;
}

function pill(c: StatusCondition | undefined, type: string): Html {
  if (c === undefined) return h`<span class="pill">-</span>`;
  return h`<span class="pill ${c.status} ${type}" data-condition="${type}" data-status="${c.status}" title="${c.reason}">${type} ${c.status}</span>`;
}

function changeMark(action: string): string {
  return action === "create" ? "+" : action === "delete" ? "-" : "~";
}

function resourcesTable(resources: readonly ResourceView[], now: number): Html {
  if (resources.length === 0) return h`<p class="empty">No specs loaded.</p>`;
  const rows = resources.map((r) => {
    const head = headlineCondition(r);
    const degraded = conditionOf(r, "Degraded");
    const error =
      r.lastError !== undefined && r.lastError !== head?.message
        ? h`<div class="failure">${r.lastError}</div>`
        : "";
    const changes = r.changes.slice(0, 3);
    const changed =
      changes.length === 0
        ? h`<span class="explain">${r.lastChanges > 0 ? `${r.lastChanges} at the last reconcile` : "none"}</span>`
        : changes.map(
            (c) =>
              h`<div><code>${changeMark(c.action)}</code> ${c.target} <span class="explain">${ageOf(c.time, now)} ago</span></div>`,
          );
    return h`<tr data-resource="${r.key}">
<td><b>${r.kind}</b>/${r.name}</td>
<td>${pill(conditionOf(r, "Ready"), "Ready")}</td>
<td>${degraded !== undefined ? pill(degraded, "Degraded") : h`<span class="explain">-</span>`}</td>
<td class="reason">${head?.reason ?? ""}</td>
<td class="msg">${head?.message ?? ""}${error}</td>
<td>${ageOf(lastTransition(r), now)}</td>
<td>${targetsText(r)}</td>
<td>${changed}</td>
</tr>
`;
  });
  return h`<table id="resources">
<thead><tr><th>Resource</th><th>Ready</th><th>Degraded</th><th>Reason</th><th>Message</th><th>Since</th><th>Targets</th><th>Last changes</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
}

function serviceCard(s: WatchedServiceStatus, now: number): Html {
  const degraded = s.conditions.find((c) => c.type === "Degraded");
  const name = s.service !== null ? `${s.cluster}/${s.service}` : `${s.cluster} family ${s.family ?? ""}`;
  const desired = s.desired !== null ? h`desired <b>${s.desired}</b> · ` : "";
  const read = s.observedAt !== null ? h` · read ${ageOf(s.observedAt, now)} ago` : "";
  const message =
    degraded !== undefined
      ? h`<p class="${degraded.status === "True" ? "failure" : "explain"}">${degraded.message}</p>
`
      : "";
  const error =
    s.error !== null
      ? h`<p class="failure">last read failed: ${s.error}</p>
`
      : "";
  const stopped =
    s.stoppedTasks.length === 0
      ? ""
      : h`<table class="stopped"><thead><tr><th>Stopped task</th><th>When</th><th>Stop code</th><th>Why</th></tr></thead><tbody>
${s.stoppedTasks.map(
  (
    t,
  ) => h`<tr><td><code>${t.taskId}</code></td><td>${ageOf(t.stoppedAt, now)} ago</td><td>${t.stopCode ?? "-"}</td><td class="${t.failure ? "failure" : ""}" title="${t.explanation}"><b>${t.reason}</b> ${t.stoppedReason ?? ""}${exitCodes(t)}</td></tr>
`,
)}</tbody></table>
`;
  const tasks =
    s.tasks.length === 0
      ? ""
      : h`<table class="tasks"><thead><tr><th>Task</th><th>Status</th><th>Address</th></tr></thead><tbody>
${s.tasks.map(
  (
    t,
  ) => h`<tr><td><code>${t.taskId}</code></td><td>${t.lastStatus}${t.health !== null && t.health !== "UNKNOWN" ? ` (${t.health})` : ""}</td><td>${t.address ?? "-"}</td></tr>
`,
)}</tbody></table>
`;
  const events =
    s.events.length === 0
      ? ""
      : h`<table class="events"><thead><tr><th>Event</th><th>Message</th></tr></thead><tbody>
${s.events.map(
  (
    e,
  ) => h`<tr><td>${ageOf(e.createdAt, now)} ago</td><td class="msg">${e.message}${e.explanation !== null ? h`<div class="explain">${e.explanation}</div>` : ""}</td></tr>
`,
)}</tbody></table>
`;
  return h`<section class="card" data-service="${s.key}">
<h3>${name} ${pill(degraded, "Degraded")}</h3>
<div class="counts">${desired}running <b>${s.running ?? "?"}</b> · pending <b>${s.pending ?? "?"}</b>${read} · watched by ${s.resources.join(", ")}</div>
${message}${error}${stopped}${tasks}${events}</section>
`;
}

function exitCodes(t: WatchedServiceStatus["stoppedTasks"][number]): Html | string {
  const exited = t.containers.filter((c) => c.exitCode !== null || c.reason !== null);
  if (exited.length === 0) return "";
  return h`<div class="explain">${exited.map((c) => `${c.name}: ${c.reason ?? `exit ${c.exitCode ?? "?"}`}`).join("; ")}</div>`;
}

/** One line: each kind's orphan sweep, when it last ran and what it removed (they are no resources of their own). */
function sweeps(doc: StatusDocument, now: number): Html {
  if (doc.sweeps.length === 0) return h``;
  const parts = doc.sweeps.map((w) => {
    const when = w.lastRunTime !== null ? ` ${ageOf(w.lastRunTime, now)} ago` : " not run yet";
    const outcome =
      !w.ok && w.lastError !== null ? h`, <span class="failure">failed: ${w.lastError}</span>` : "";
    const removed = w.lastChanges > 0 ? `, ${w.lastChanges} change(s)` : "";
    return h`<span data-sweep="${w.kind}">${w.kind}${when}${removed}${outcome}</span>`;
  });
  return h`<p class="explain" id="sweeps">Orphan sweeps (what this owner made for specs that are gone): ${parts.map((p, i) => (i === 0 ? p : h` · ${p}`))}</p>
`;
}

function decisions(doc: StatusDocument, now: number): Html {
  if (doc.decisions.length === 0) return h`<p class="empty">No decisions yet.</p>`;
  const rows = doc.decisions.map(
    (d) =>
      h`<tr><td>${ageOf(d.time, now)} ago</td><td>${d.resource}</td><td>${d.decision}</td><td class="msg">${d.message}</td></tr>
`,
  );
  return h`<table id="decisions"><thead><tr><th>When</th><th>Resource</th><th>Decision</th><th>Message</th></tr></thead><tbody>
${rows}</tbody></table>`;
}
