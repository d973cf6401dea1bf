/**
 * How a LogAlarm's objects are known as this operator's, read back from AWS on every pass.
 *
 * - The alarm carries tags: owner id, `Kind/name` of its spec, the spec's `prune` choice, and `created` when this
 *   operator created it (prune never deletes what it only adopted). The same keys as the Cloud Map kinds.
 * - A metric filter has no tags. It is named like its alarm, `ecs-log-operator/OWNER/NAME`, and is this operator's
 *   only when that alarm is, by its tags. The alarm is the record of ownership: it is created before its filter and
 *   deleted after it, so no filter of ours is left without the alarm that proves it ours.
 * - The name prefix lets one DescribeAlarms call list this owner's alarms, and IAM narrow the policy to them.
 */
export const OWNER_TAG = "ecs-log-operator/owner";
export const RESOURCE_TAG = "ecs-log-operator/resource";
export const PRUNE_TAG = "ecs-log-operator/prune";
export const CREATED_TAG = "ecs-log-operator/created";

export const NAME_PREFIX = "ecs-log-operator/";

/** Owner ids may hold `:`, which metric filter names and metric namespaces do not allow (`[^:*]*`, `[^:*$]*`). */
function encodeOwner(ownerId: string): string {
  return ownerId.replace(/[%:*$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An owner id that cannot mark objects: too long for a 255-character alarm name, or with characters out of the set. */
export function invalidOwnerId(ownerId: string): string | undefined {
  if (!/^[A-Za-z0-9_.:/@+-]{1,100}$/.test(ownerId)) {
    return `owner id ${JSON.stringify(ownerId)} must be 1 to 100 letters, digits or _.:/@+-`;
  }
  // An alarm name has at most 255 characters, and a spec name 63.
  if (ownedName(ownerId, "x".repeat(63)).length > 255) {
    return `owner id ${JSON.stringify(ownerId)} is too long for alarm names (each ':' counts 3)`;
  }
  return undefined;
}

/** `ecs-log-operator/OWNER/`: every alarm and filter name of this owner starts so. */
export function ownerPrefix(ownerId: string): string {
  return `${NAME_PREFIX}${encodeOwner(ownerId)}/`;
}

/** The name of the alarm and of the metric filter of a spec. */
export function ownedName(ownerId: string, specName: string): string {
  return `${ownerPrefix(ownerId)}${specName}`;
}

/** The spec name in an owned name, or undefined when the name is not this owner's (another owner's id may extend ours). */
export function specNameOf(name: string, ownerId: string): string | undefined {
  const prefix = ownerPrefix(ownerId);
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(rest) ? rest : undefined;
}

/** The metric namespace a spec gets by default: one per owner, so two operators never publish to one metric. */
export function defaultNamespace(ownerId: string): string {
  return `${NAME_PREFIX}${encodeOwner(ownerId)}`;
}

export function ownershipTags(ownerId: string, resource: string, prune: boolean): Record<string, string> {
  return { [OWNER_TAG]: ownerId, [RESOURCE_TAG]: resource, [PRUNE_TAG]: String(prune) };
}

export interface Ownership {
  readonly owner: string | undefined;
  readonly resource: string | undefined;
  readonly prune: boolean;
  readonly created: boolean;
}

export function readOwnership(tags: Readonly<Record<string, string>>): Ownership {
  return {
    owner: tags[OWNER_TAG],
    resource: tags[RESOURCE_TAG],
    prune: tags[PRUNE_TAG] === "true",
    created: tags[CREATED_TAG] === "true",
  };
}
