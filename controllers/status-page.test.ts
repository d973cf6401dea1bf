import { describe, expect, it } from "vitest";
import { readGolden } from "../test/golden.ts";
import { logClusterStatus } from "../test/fixtures/status/log-cluster-status.ts";
import { readStatusDocument, type StatusDocument } from "./status-model.ts";
import { escapeHtml, renderStatusPage, STATUS_PAGE_CSP } from "./status-page.ts";

describe("renderStatusPage", () => {
  it("renders the log cluster's status the same way twice (golden)", async () => {
    const doc = await logClusterStatus();
    const first = renderStatusPage(doc);
    expect(renderStatusPage(await logClusterStatus())).toBe(first);
    expect(first).toBe(readGolden("status-page.html"));
  });

  it("shows each resource's conditions, the watched services' failures and the decisions", async () => {
    const page = renderStatusPage(await logClusterStatus(), { refreshSeconds: 5 });
    expect(page).toContain('<meta http-equiv="refresh" content="5">');
    expect(page).toMatch(
      /<tr data-resource="CloudMapService\/fluentd">[\s\S]*?data-condition="Ready" data-status="True"[\s\S]*?data-condition="Degraded" data-status="True"[\s\S]*?<td class="reason">NoFreeEni<\/td>/,
    );
    expect(page).toContain("RESOURCE:ENI");
    expect(page).toContain("CannotPullContainerError");
    expect(page).toContain('data-service="ecs:logs/service:fluentd"');
    expect(page).toContain("10.0.1.11");
    expect(page).toContain("<td>SidecarVolume/log-batch</td><td>invalid-spec</td>");
    expect(page).toContain("leader ecs-log-operator-7f9c, epoch 12");
  });

  it("shows the orphan sweeps on a line of their own, not as resources", async () => {
    const page = renderStatusPage(await logClusterStatus());
    expect(page).not.toContain('data-resource="CloudMapService/*"');
    expect(page).toMatch(/<p class="explain" id="sweeps">[^\n]*data-sweep="CloudMapService"/);
    expect(page).toContain("6 resources, ");
    expect(page).toContain("<td>CloudMapService/*</td><td>orphan-removed</td>");
  });

  it("is read-only: no script, form, link or external resource", async () => {
    const page = renderStatusPage(await logClusterStatus());
    for (const tag of ["<script", "<form", "<a ", "<link", "<iframe", "<img", "<input", "<button"]) {
      expect(page).not.toContain(tag);
    }
    expect(STATUS_PAGE_CSP).toContain("default-src 'none'");
    expect(STATUS_PAGE_CSP).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
  });

  it("escapes every string from specs, AWS and errors", async () => {
    const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const attr = `"' onmouseover=alert(1) x='`;
    const base = await logClusterStatus();
    const doc: StatusDocument = {
      ...base,
      phase: evil,
      resources: base.resources.map((r) => ({
        ...r,
        key: `${r.key}${attr}`,
        name: evil,
        lastError: evil,
        conditions: r.conditions.map((c) => ({ ...c, reason: attr, message: evil })),
        changes: r.changes.map((c) => ({ ...c, target: evil })),
      })),
      services: base.services.map((svc) => ({
        ...svc,
        key: attr,
        resources: [evil],
        tasks: svc.tasks.map((t) => ({ ...t, address: attr, taskId: evil })),
        stoppedTasks: svc.stoppedTasks.map((t) => ({ ...t, explanation: evil, stopCode: evil })),
        events: svc.events.map((e) => ({ ...e, message: evil, explanation: evil })),
        error: evil,
      })),
      decisions: base.decisions.map((d) => ({ ...d, message: evil, resource: evil })),
    };
    const page = renderStatusPage(doc);
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<img");
    expect(page).not.toContain("' onmouseover");
    expect(page).not.toContain('" onmouseover');
    expect(page).toContain(escapeHtml(evil));
    expect(page).toContain("&quot;&#39; onmouseover=alert(1) x=&#39;");
  });

  it("shows the Git source's section as run --git-url serves it: the applied commit, and a refused one", async () => {
    const base = await logClusterStatus();
    // JSON as the controller serves it: GitSpecWatcher.status() whole, its undefined fields dropped.
    const served = JSON.parse(
      JSON.stringify({
        ...base,
        source: {
          type: "git",
          location: "https://git.example/acme/specs.git (ref main, path prod)",
          url: "https://git.example/acme/specs.git",
          ref: "main",
          path: "prod",
          intervalSeconds: 60,
          revision: "0123456789abcdef0123456789abcdef01234567",
          fetchedAt: "2026-12-01T09:00:00.000Z",
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "RevisionInvalidSpecs",
              message: "the newest commit has invalid specs; 0123456789ab stays applied",
              lastTransitionTime: "2026-12-01T09:05:00.000Z",
            },
          ],
          rejected: {
            revision: "fedcba9876543210fedcba9876543210fedcba98",
            reason: "InvalidSpecs",
            message: "1 problem(s): prod/app.yaml:6:3: <bad>",
            time: "2026-12-01T09:05:00.000Z",
          },
        },
      }),
    ) as unknown;
    const doc = readStatusDocument(served);
    expect(doc.source).toMatchObject({
      revision: "0123456789abcdef0123456789abcdef01234567",
      rejected: { reason: "InvalidSpecs" },
    });
    const page = renderStatusPage(doc);
    expect(page).toMatch(
      /<span class="meta" id="source">specs https:\/\/git\.example\/acme\/specs\.git \(ref main, path prod\) @ <code>0123456789ab<\/code> · <b title="the newest commit has invalid specs; 0123456789ab stays applied">RevisionInvalidSpecs<\/b> · refused <code>fedcba987654<\/code>: 1 problem\(s\): prod\/app\.yaml:6:3: &lt;bad&gt;<\/span>/,
    );

    // Before the first good fetch the section has no revision (undefined, so absent from the JSON).
    const first = readStatusDocument({ ...base, source: { type: "git", location: "x", conditions: [] } });
    expect(first.source).toMatchObject({ revision: null, rejected: null });
    expect(renderStatusPage(first)).toContain("specs x (no revision applied yet)</span>");
  });

  it("renders a document from a controller that serves only phase and resources", () => {
    const page = renderStatusPage(readStatusDocument({ phase: "syncing", resources: [] }), { now: 0 });
    expect(page).toContain('data-phase="syncing"');
    expect(page).toContain("No specs loaded.");
    expect(page).toContain("No spec watches an ECS service or family.");
  });
});
