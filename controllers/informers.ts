import type { Logger } from "./logger.ts";
import { pool } from "./pool.ts";

/**
 * A watch key names a piece of AWS state whose change should wake the specs that read it:
 * `ecs:<cluster>/service:<name>`, `ecs:<cluster>/family:<family>` or `asg:<group>`.
 */
export type WatchTarget =
  | { readonly type: "ecs-service"; readonly cluster: string; readonly service: string }
  | { readonly type: "ecs-family"; readonly cluster: string; readonly family: string }
  | { readonly type: "asg"; readonly group: string };

/** A cluster named by ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`) is the same cluster as NAME. */
export function clusterName(cluster: string): string {
  const m = /^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\/(.+)$/.exec(cluster);
  return m?.[1] ?? cluster;
}

export function parseWatchKey(key: string): WatchTarget | undefined {
  if (key.startsWith("asg:")) {
    const group = key.slice(4);
    return group === "" ? undefined : { type: "asg", group };
  }
  if (!key.startsWith("ecs:")) return undefined;
  const rest = key.slice(4);
  const m = /^(.+)\/(service|family):([^/]+)$/.exec(rest);
  if (m === null) {
    // `ecs:<cluster>/<service>` is read as a service, the common case.
    const bare = /^(.+)\/([^/:]+)$/.exec(rest);
    if (bare === null) return undefined;
    return { type: "ecs-service", cluster: clusterName(bare[1] ?? ""), service: bare[2] ?? "" };
  }
  const cluster = clusterName(m[1] ?? "");
  return m[2] === "service"
    ? { type: "ecs-service", cluster, service: m[3] ?? "" }
    : { type: "ecs-family", cluster, family: m[3] ?? "" };
}

export function formatWatchKey(t: WatchTarget): string {
  switch (t.type) {
    case "asg":
      return `asg:${t.group}`;
    case "ecs-service":
      return `ecs:${t.cluster}/service:${t.service}`;
    case "ecs-family":
      return `ecs:${t.cluster}/family:${t.family}`;
  }
}

/** The canonical form of a watch key (cluster ARNs become names), or the key itself when it is not one we know. */
export function normaliseWatchKey(key: string): string {
  const t = parseWatchKey(key);
  return t === undefined ? key : formatWatchKey(t);
}

/** Which resource keys each watch key wakes. Rebuilt whenever the specs change. */
export class WatchIndex {
  private readonly byWatch = new Map<string, Set<string>>();

  constructor(entries: Iterable<{ readonly resource: string; readonly watches: readonly string[] }> = []) {
    for (const e of entries) {
      for (const w of e.watches) {
        const key = normaliseWatchKey(w);
        let set = this.byWatch.get(key);
        if (set === undefined) this.byWatch.set(key, (set = new Set()));
        set.add(e.resource);
      }
    }
  }

  watchKeys(): string[] {
    return [...this.byWatch.keys()].sort();
  }

  /** The resource keys the given watch keys wake, each once. */
  resourcesOf(watchKeys: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const w of watchKeys) for (const r of this.byWatch.get(normaliseWatchKey(w)) ?? []) out.add(r);
    return [...out].sort();
  }
}

/** Lists what a watch key covers: tasks or instances, each with its state. */
export interface WatchLister {
  /** Undefined for a watch key this lister does not know. */
  list(watchKey: string, signal: AbortSignal): Promise<string[] | undefined>;
}

/** Lists the watched AWS state once a poll; the controller runs one each interval. */
export interface WatchPoller {
  /** Lists every key and returns those whose listing changed since the previous poll (the first one is a baseline). */
  poll(watchKeys: readonly string[], signal: AbortSignal): Promise<string[]>;
}

export interface InformerOptions {
  readonly lister: WatchLister;
  readonly logger: Logger;
  /** Also told the watch keys whose listing changed since the previous poll. */
  readonly onChange?: (watchKeys: readonly string[]) => void;
  /** Watch keys listed at once. */
  readonly concurrency?: number;
}

/**
 * Lists every watched key once a poll and reports the keys whose listing changed. The first listing of a key is
 * only remembered: the resync that runs with it already reconciles everything.
 */
export class Informer implements WatchPoller {
  private readonly lister: WatchLister;
  private readonly logger: Logger;
  private readonly onChange: ((watchKeys: readonly string[]) => void) | undefined;
  private readonly concurrency: number;
  private readonly last = new Map<string, string>();

  constructor(options: InformerOptions) {
    this.lister = options.lister;
    this.logger = options.logger;
    this.onChange = options.onChange;
    this.concurrency = options.concurrency ?? 4;
  }

  async poll(watchKeys: readonly string[], signal: AbortSignal): Promise<string[]> {
    const changed: string[] = [];
    const wanted = new Set(watchKeys);
    for (const k of [...this.last.keys()]) if (!wanted.has(k)) this.last.delete(k);
    await pool(watchKeys, this.concurrency, async (key) => {
      signal.throwIfAborted();
      let listing: string[] | undefined;
      try {
        listing = await this.lister.list(key, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        // The previous listing stays: a failed list is not a change.
        this.logger.warn("informer list failed", { watch: key, error });
        return;
      }
      if (listing === undefined) return;
      const fingerprint = listing.join("\n");
      const before = this.last.get(key);
      this.last.set(key, fingerprint);
      if (before !== undefined && before !== fingerprint) changed.push(key);
    });
    changed.sort();
    if (changed.length > 0) {
      this.logger.debug("informer saw changes", { watches: changed });
      this.onChange?.(changed);
    }
    return changed;
  }
}

/**
 * Several listers as one: a watch key is listed by the first that knows it (each kind's entry brings the listers of
 * the AWS state its watch keys name); a key none knows lists as undefined.
 */
export class WatchListers implements WatchLister {
  private readonly listers: readonly WatchLister[];

  constructor(listers: Iterable<WatchLister>) {
    this.listers = [...new Set(listers)];
  }

  async list(watchKey: string, signal: AbortSignal): Promise<string[] | undefined> {
    for (const lister of this.listers) {
      const listing = await lister.list(watchKey, signal);
      if (listing !== undefined) return listing;
    }
    return undefined;
  }
}
