import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { resourceKey } from "./spec/document.ts";
import { formatDiagnostic } from "./spec/load.ts";
import type { SpecChanges, SpecSnapshot } from "./spec-source.ts";
import type { ResourceActivity } from "./status-activity.ts";
import type { StatusStore } from "./status.ts";

export interface SpecReportOptions {
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly status: StatusStore;
  /** Where an invalid file is recorded as a decision, once per change of the problems found. */
  readonly activity: ResourceActivity;
  /** Every kind, so that a kind with no spec shows 0 managed objects. */
  readonly kinds: readonly string[];
}

/**
 * Tells the operator what a read of the specs found: each resource's status (tracked, gone, stalled on an invalid
 * file), the problems (logged and counted once however often the same invalid file is read), the managed objects.
 */
export class SpecReport {
  private readonly metrics: ControllerMetrics;
  private readonly logger: Logger;
  private readonly status: StatusStore;
  private readonly activity: ResourceActivity;
  private readonly kinds: readonly string[];
  private lastDiagnostics = "";

  constructor(options: SpecReportOptions) {
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.status = options.status;
    this.activity = options.activity;
    this.kinds = options.kinds;
  }

  report(snapshot: SpecSnapshot, changes: SpecChanges): void {
    for (const doc of snapshot.documents) this.status.track(resourceKey(doc), doc.generation);
    for (const key of changes.removed) this.status.forget(key);
    for (const key of changes.removed) this.activity.forget(key);
    this.diagnostics(snapshot);
    const kept = new Set(snapshot.kept);
    for (const doc of snapshot.documents) {
      const key = resourceKey(doc);
      if (kept.has(key) && snapshot.unusable !== undefined) {
        this.status.invalid(key, `${snapshot.unusable.message}; keeping the last spec read`);
      } else if (kept.has(key)) {
        const problems = snapshot.diagnostics.filter((d) => d.file === doc.source.file).map(formatDiagnostic);
        this.status.invalid(key, `file is invalid; keeping the last valid spec: ${problems.join("; ")}`);
      } else {
        this.status.valid(key);
      }
    }
    const counts = new Map<string, number>();
    for (const doc of snapshot.documents) counts.set(doc.kind, (counts.get(doc.kind) ?? 0) + 1);
    this.metrics.setManagedObjects(counts, this.kinds);
  }

  private diagnostics(snapshot: SpecSnapshot): void {
    const text = [snapshot.unusable?.message ?? "", ...snapshot.diagnostics.map(formatDiagnostic)].join("\n");
    const changed = text !== this.lastDiagnostics;
    // An environment no spec declares is a problem of the specs too, though of no file.
    const environment = snapshot.unusable?.reason === "environment" ? 1 : 0;
    this.metrics.specsRead(snapshot.diagnostics.length + environment, changed);
    if (!changed) return;
    this.lastDiagnostics = text;
    if (snapshot.unusable !== undefined) {
      this.logger.warn("specs unusable; every spec is kept as last read", {
        reason: snapshot.unusable.message,
      });
      return;
    }
    for (const d of snapshot.diagnostics) {
      this.logger.warn("invalid spec; what it managed is left as it is", { diagnostic: formatDiagnostic(d) });
    }
    // One decision per invalid file, under the specs it keeps at their last valid version (or the file itself).
    const keptByFile = new Map<string, string[]>();
    for (const doc of snapshot.documents) {
      if (!snapshot.kept.includes(resourceKey(doc))) continue;
      keptByFile.set(doc.source.file, [...(keptByFile.get(doc.source.file) ?? []), resourceKey(doc)]);
    }
    for (const file of [...new Set(snapshot.diagnostics.map((d) => d.file))]) {
      const problems = snapshot.diagnostics.filter((d) => d.file === file).map(formatDiagnostic);
      const kept = keptByFile.get(file) ?? [];
      this.activity.decided(
        kept.length > 0 ? kept.join(", ") : file,
        "invalid-spec",
        `${problems.join("; ")}${kept.length > 0 ? "; keeping the last valid spec" : ""}`,
      );
    }
    if (snapshot.diagnostics.length === 0) this.logger.info("every spec file is valid");
  }
}
