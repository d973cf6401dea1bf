import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { systemClock, type Clock } from "../clock.ts";

const PREFIX = "ecs_log_operator_git_";

/** The result of one fetch, as counted. */
export type GitFetchResult = "applied" | "unchanged" | "rejected" | "failed";

/**
 * The Git source's metrics, registered on the process's one `Registry`. The applied commit is an info metric's label
 * (one series at a time: the old one is removed), so that a dashboard can join it and an alert can quote it.
 */
export class GitSourceMetrics {
  private readonly info: Gauge<"url" | "ref" | "revision">;
  private readonly failures: Counter<"reason">;
  private readonly fetches: Counter<"result">;
  private readonly duration: Histogram;
  private readonly rejectedGauge: Gauge;
  private readonly intervalGauge: Gauge;
  private readonly webhooks: Counter<"result">;
  private readonly clock: Clock;
  private lastSuccess: number;
  private labels: { url: string; ref: string; revision: string } | undefined;

  constructor(registry: Registry, options: { clock?: Clock } = {}) {
    const registers = [registry];
    this.clock = options.clock ?? systemClock;
    // Until the first successful fetch, the age counts from the start: a source that never fetched ages too.
    this.lastSuccess = this.clock.now();
    this.info = new Gauge({
      name: `${PREFIX}source_info`,
      help: "The Git revision applied: 1, labelled with the repository URL, the ref and the commit.",
      labelNames: ["url", "ref", "revision"],
      registers,
    });
    const since = (): number => (this.clock.now() - this.lastSuccess) / 1000;
    new Gauge({
      name: `${PREFIX}seconds_since_last_fetch`,
      help:
        "Seconds since the Git source last fetched its ref successfully (the remote answered and its commit was " +
        "read, whether or not that commit was applied); counted from the start before the first fetch.",
      registers,
      collect() {
        this.set(since());
      },
    });
    this.intervalGauge = new Gauge({
      name: `${PREFIX}interval_seconds`,
      help: "The Git source's pull interval (--git-interval): alerts compare the fetch age with it.",
      registers,
    });
    this.failures = new Counter({
      name: `${PREFIX}fetch_failures_total`,
      help:
        "Fetches that failed, by reason (Unreachable, AuthenticationFailed, HostKeyVerificationFailed, " +
        "RepositoryNotFound, RefNotFound, CredentialsUnreadable, Timeout, FetchFailed); the last good revision stays.",
      labelNames: ["reason"],
      registers,
    });
    this.fetches = new Counter({
      name: `${PREFIX}fetches_total`,
      help: "Fetches by result: applied (a new revision), unchanged, rejected (its specs are refused), failed.",
      labelNames: ["result"],
      registers,
    });
    this.duration = new Histogram({
      name: `${PREFIX}fetch_duration_seconds`,
      help: "Time one fetch took: asking the remote, and for a new commit the shallow fetch, checkout and checks.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.rejectedGauge = new Gauge({
      name: `${PREFIX}revision_rejected`,
      help:
        "1 while the ref's newest commit is refused (a missing path, no specs or invalid specs) and an older " +
        "revision stays applied; 0 otherwise.",
      registers,
    });
    this.webhooks = new Counter({
      name: `${PREFIX}webhook_requests_total`,
      help:
        "Webhook requests by result: accepted (a fetch was started or queued), ignored (a ping), unauthorized, " +
        "rate_limited, invalid (wrong method or too large).",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["applied", "unchanged", "rejected", "failed"] as const)
      this.fetches.inc({ result }, 0);
  }

  interval(seconds: number): void {
    this.intervalGauge.set(seconds);
  }

  fetched(result: GitFetchResult, seconds: number): void {
    this.fetches.inc({ result });
    this.duration.observe(seconds);
    if (result !== "failed") this.lastSuccess = this.clock.now();
    if (result === "applied") this.rejectedGauge.set(0);
    if (result === "rejected") this.rejectedGauge.set(1);
  }

  failed(reason: string): void {
    this.failures.inc({ reason });
  }

  /** A rejection was lifted without a new revision (the ref went back to the applied commit). */
  notRejected(): void {
    this.rejectedGauge.set(0);
  }

  applied(labels: { url: string; ref: string; revision: string }): void {
    if (this.labels !== undefined) this.info.remove(this.labels);
    this.labels = labels;
    this.info.set(labels, 1);
  }

  webhook(result: "accepted" | "ignored" | "unauthorized" | "rate_limited" | "invalid"): void {
    this.webhooks.inc({ result });
  }
}
