/**
 * What this operator owns in Cloud Map is written in AWS, not kept in memory, so a restarted operator (or a second
 * one with another owner id) reads it back. Namespaces and services carry tags; instances carry an attribute.
 */
export const OWNER_TAG = "ecs-log-operator/owner";
/** `Kind/name` of the spec that manages the object. */
export const RESOURCE_TAG = "ecs-log-operator/resource";
/**
 * `true` when the spec asked for pruning. Kept in AWS because once the spec is deleted nothing else remembers it.
 */
export const PRUNE_TAG = "ecs-log-operator/prune";
/** `true` on what this operator created itself; prune never deletes what it only adopted. */
export const CREATED_TAG = "ecs-log-operator/created";
/** Instance attribute naming the owner id that registered it. Custom attributes are returned to DNS clients only
 * through DiscoverInstances, never in DNS answers. */
export const OWNER_ATTRIBUTE = "ECS_LOG_OPERATOR_OWNER";

export function ownershipTags(ownerId: string, resource: string, prune: boolean): Record<string, string> {
  return { [OWNER_TAG]: ownerId, [RESOURCE_TAG]: resource, [PRUNE_TAG]: String(prune) };
}

/** Who owns a tagged object, as read back. */
export interface Ownership {
  readonly owner: string | undefined;
  readonly resource: string | undefined;
  readonly prune: boolean;
}

export function readOwnership(tags: Readonly<Record<string, string>>): Ownership {
  return { owner: tags[OWNER_TAG], resource: tags[RESOURCE_TAG], prune: tags[PRUNE_TAG] === "true" };
}

/** The ownership tags that differ from what is there, or undefined when none do. */
export function tagsToWrite(
  current: Readonly<Record<string, string>>,
  wanted: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const diff = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
  return Object.keys(diff).length > 0 ? diff : undefined;
}
