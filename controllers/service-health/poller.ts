import { normaliseWatchKey, taskListingLine, type Informer, type WatchPoller } from "../informers.ts";
import type { Logger } from "../logger.ts";
import type { EcsServiceApi } from "./ecs-service-api.ts";
import type { Clock } from "../clock.ts";
import { readWatched, StoppedListings, type ReadWatchedOptions } from "./read.ts";
import type { WatchedServices } from "./watched-services.ts";

export interface ServiceHealthPollerOptions {
  /** Lists every watch key and tells which changed; the ECS keys read here are handed to it, not listed again. */
  readonly informer: Pick<Informer, "poll">;
  /** Where each read goes: the watched services' health, which `/status` shows. */
  readonly watched: WatchedServices;
  readonly api: EcsServiceApi;
  readonly logger: Logger;
  readonly read?: ReadWatchedOptions;
  /** Times the refresh of steady keys' stopped-task listings (`StoppedListings`). Default: the system clock. */
  readonly clock?: Clock | undefined;
}

/**
 * The controller's poll once an interval, with the watched services' health read in it: DescribeServices for the
 * watched ECS services (ten a call), and each key's running and recently stopped tasks. The running tasks are also
 * the informer's listing of that key, so a poll lists them once for both. A key whose health read fails is listed by
 * the informer's own lister as before: a health read that cannot be made (DescribeServices denied, say) never stops
 * the specs from being woken.
 */
export class ServiceHealthPoller implements WatchPoller {
  private readonly o: ServiceHealthPollerOptions;
  /** The error each failing key last logged, so that a lasting failure is logged once, not every interval. */
  private readonly failing = new Map<string, string>();
  private readonly stoppedListings: StoppedListings;

  constructor(options: ServiceHealthPollerOptions) {
    this.o = options;
    this.stoppedListings = new StoppedListings({ clock: options.clock });
  }

  async poll(watchKeys: readonly string[], signal: AbortSignal): Promise<string[]> {
    const { watched, logger } = this.o;
    const polled = new Set(watchKeys.map(normaliseWatchKey));
    const keys = watched.watchKeys().filter((k) => polled.has(k));
    this.stoppedListings.retain(watched.watchKeys());
    const { reads, failures } = await readWatched(this.o.api, keys, signal, {
      listStopped: this.stoppedListings.listStopped,
      ...this.o.read,
    });
    const listed = new Map<string, string[]>();
    for (const read of reads) {
      watched.observed(read);
      listed.set(read.key, read.tasks.map(taskListingLine).sort());
      if (this.failing.delete(read.key)) logger.info("watched service read again", { watch: read.key });
    }
    for (const { key, error } of failures) {
      watched.readFailed(key, error);
      const message = error instanceof Error ? error.message : String(error);
      if (this.failing.get(key) !== message) {
        this.failing.set(key, message);
        logger.warn("watched service health read failed; the informer lists it alone", { watch: key, error });
      }
    }
    for (const key of [...this.failing.keys()]) if (!polled.has(key)) this.failing.delete(key);
    return this.o.informer.poll(watchKeys, signal, listed);
  }
}
