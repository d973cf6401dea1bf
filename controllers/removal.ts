import type { ResourcePlan } from "./reconciler.ts";

/**
 * What removing a spec means, for every kind: the objects the operator made for it are deleted only when the last
 * version of the spec it applied said `prune: true`. Since nothing is left to read once the spec is gone, that choice
 * is written into AWS beside the objects when they are applied (Cloud Map's `ecs-log-operator/prune` tag, Route 53's
 * `prune=true` in the registry record) and read back by the kind's orphan sweep. Without the marker (the default, and
 * every object written before the marker existed), the objects are left as they are, no longer managed, and `plan`
 * says so. Only objects the operator itself created (or, for Route 53 records, wrote) are ever deleted, and the prune
 * guard (prune-guard.ts) can hold even those.
 */
export function keptOrphan(kind: string, resource: string, what: string, key = resource): ResourcePlan {
  return { key, kind, changes: [], notes: [keptReason(resource, what)], apply: async () => {} };
}

/** The note of an orphan left in place: `what` was made for `resource`, which did not ask for prune. */
export function keptReason(resource: string, what: string): string {
  return `${what} is left as it is, no longer managed: ${resource} was removed and did not say prune: true`;
}
