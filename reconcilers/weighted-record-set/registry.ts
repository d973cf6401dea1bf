import type { RecordSet } from "./route53-api.ts";

/**
 * The ownership registry, after external-dns's TXT registry: every record this operator writes has a twin TXT record
 * with the same set identifier at `_elo-<type>.<name>`, written in the same change batch, holding
 * `"heritage=ecs-log-operator,owner=<id>,resource=WeightedRecordSet/<name>"`, and `,prune=true` when the spec that
 * wrote it said `prune: true`. Ownership is read back from these records on every pass, so a restarted operator, or
 * one with another owner id, knows what it may touch; and once the spec is removed, the prune marker is what says
 * whether its records go with it (there is no spec left to ask).
 *
 * The registry lives at a prefixed name because a TXT record cannot share a name with a CNAME (external-dns #262),
 * and the type is in the prefix so that registries of two record types at one name stay apart.
 */
export const HERITAGE = "ecs-log-operator";
export const REGISTRY_TTL = 300;
/** Registry records carry a weight only because Route 53 needs one beside a set identifier; nobody resolves them. */
export const REGISTRY_WEIGHT = 0;

export function registryName(recordName: string, type: string): string {
  return `_elo-${type.toLowerCase()}.${recordName}`;
}

export interface Ownership {
  readonly heritage: string;
  readonly owner: string;
  readonly resource: string;
  /** The spec that wrote the record said `prune: true`. Records written before the marker existed have none: false. */
  readonly prune: boolean;
}

/** The TXT value: one quoted string, as Route 53 stores TXT values. No marker when not pruning: older records match. */
export function registryValue(owner: string, resource: string, prune = false): string {
  return `"heritage=${HERITAGE},owner=${owner},resource=${resource}${prune ? ",prune=true" : ""}"`;
}

/** Owner ids end up inside a quoted TXT value of `key=value` pairs: these characters would break it. */
export function invalidOwnerId(owner: string): string | undefined {
  return /^[A-Za-z0-9_.:/@+-]{1,100}$/.test(owner)
    ? undefined
    : `owner id ${JSON.stringify(owner)} must be 1 to 100 letters, digits or _.:/@+-`;
}

/** Reads a registry TXT record; undefined when it is not one of ours (any operator's). */
export function parseOwnership(record: RecordSet): Ownership | undefined {
  if (record.type !== "TXT" || record.values?.length !== 1) return undefined;
  const text = (record.values[0] ?? "").replace(/^"|"$/g, "");
  const fields = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const heritage = fields.get("heritage");
  const owner = fields.get("owner");
  const resource = fields.get("resource");
  if (heritage !== HERITAGE || owner === undefined || resource === undefined) return undefined;
  return { heritage, owner, resource, prune: fields.get("prune") === "true" };
}

export function registryRecord(
  recordName: string,
  type: string,
  setIdentifier: string,
  owner: string,
  resource: string,
  prune = false,
): RecordSet {
  return {
    name: registryName(recordName, type),
    type: "TXT",
    setIdentifier,
    weight: REGISTRY_WEIGHT,
    ttl: REGISTRY_TTL,
    values: [registryValue(owner, resource, prune)],
  };
}
