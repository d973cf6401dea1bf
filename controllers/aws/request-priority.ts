import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestPriority } from "./rate-limiter.ts";

const priority = new AsyncLocalStorage<RequestPriority>();

/**
 * Runs `work` with its AWS requests at background priority on their services' rate limiters (`TokenBucket`): they
 * wait while a request that converges AWS waits. For reads no reconcile needs, such as the watched services' health.
 */
export function inBackground<T>(work: () => Promise<T>): Promise<T> {
  return priority.run("background", work);
}

/** The priority of the request being made now: foreground unless inside `inBackground`. */
export function currentPriority(): RequestPriority {
  return priority.getStore() ?? "foreground";
}
