import { createHash } from "node:crypto";
import type { RecordSet } from "./route53-api.ts";

/**
 * The ownership registry, after external-dns's TXT registry, with one record per record set instead of one per
 * record: at each name where this operator writes weighted records (the top name, or each shard name), one weighted
 * TXT record per (owner id, spec) at `_elo-<type>.<name>`, written in the same change batch as the records it covers,
 * whose first value says who wrote it and whose further values list the set identifiers it owns there:
 *
 *   _elo-a.s0.fluentd.logs.internal TXT  set identifier _elo-registry-<hash of owner, spec, name>  weight 0
 *     "heritage=ecs-log-operator,owner=prod,resource=WeightedRecordSet/fluentd[,prune=true]"
 *     "i-0a1b... i-0c2d... ..." "..."          (strings of at most 255 characters, values of at most 4,000)
 *
 * Ownership is read back from these records on every pass, so a restarted operator, or one with another owner id,
 * knows what it may touch; once the spec is removed, the prune marker is what says whether its records go with it.
 *
 * Why this shape (issue 16, item 4). Before, every record had a TXT twin of its own (format "twin" below): at 10,000
 * targets that doubled the record sets to list (68 pages of 300 where the records fill 34) and put 2N + shards changes
 * into the cold batches (27 ChangeResourceRecordSets where the records fill 10). One record per name costs one record
 * set per 100 records, so the listing grows by 1%; its values cost about 20 characters per record (an instance id and
 * a space; a task id takes 33), which stays under Route 53's 32,000 characters per batch beside the records
 * themselves. The alternatives were worse:
 * - one record per spec and zone listing every set identifier: 10,000 ids are about 200,000 characters, more than one
 *   batch can carry (32,000) and than one value can hold (4,000), and it would have to be rewritten (an UPSERT, which
 *   counts twice) in every batch that touches any of the spec's records;
 * - one record per owner and name, shared by every spec of that owner: two specs at one name would overwrite each
 *   other's list, and a batch of one spec that fails would leave the other's proof as it was read, not as written.
 * Per (owner, spec, name) the registry record changes only in the batch that changes the records it covers (a name's
 * records and its registry record are one change unit, never split over batches), so a failed batch changes neither,
 * and concurrent specs or owners never write each other's registry record. Its set identifier is a hash of owner,
 * spec and name: two owners, two specs, or two names never share one, and it cannot be mistaken for an instance or
 * task id (those never start with `_`).
 *
 * Migration in place. Records of the twin format are read as proof exactly as before. The first plan of a name that
 * still has twins deletes them in the batch that writes the name's registry record listing the same set identifiers,
 * so at every moment each record is proven by one or the other (a batch is all or nothing).
 *
 * The registry lives at a prefixed name because a TXT record cannot share a name with a CNAME (external-dns #262),
 * and the type is in the prefix so that registries of two record types at one name stay apart.
 */
export const HERITAGE = "ecs-log-operator";
export const REGISTRY_TTL = 300;
/** Registry records carry a weight only because Route 53 needs one beside a set identifier; nobody resolves them. */
export const REGISTRY_WEIGHT = 0;
/** The start of a registry record's set identifier (format "list"); twins carry their record's set identifier. */
export const REGISTRY_SET_ID_PREFIX = "_elo-registry-";
/** A TXT string holds at most 255 characters (RFC 1035 character-string; Route 53 TXT record format). */
const TXT_STRING_MAX = 255;
/** A ResourceRecord Value holds at most 4,000 characters (Route 53 API reference, ResourceRecord). */
const VALUE_MAX = 4000;

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

/** One registry record as read: who wrote it, and the set identifiers at its name it proves theirs. */
export interface RegistryEntry extends Ownership {
  /** "list": one record per owner, spec and name; "twin": the format before, one record per record. */
  readonly format: "list" | "twin";
  /** The name of the records it covers (the registry name without its `_elo-<type>.` label). */
  readonly recordName: string;
  /** The record type it covers, upper case. */
  readonly type: string;
  readonly setIdentifiers: readonly string[];
  readonly record: RecordSet;
}

/** The header value: one quoted string, as Route 53 stores TXT values. No marker when not pruning: older records match. */
export function registryValue(owner: string, resource: string, prune = false): string {
  return `"heritage=${HERITAGE},owner=${owner},resource=${resource}${prune ? ",prune=true" : ""}"`;
}

/** Owner ids end up inside a quoted TXT value of `key=value` pairs: these characters would break it. */
export function invalidOwnerId(owner: string): string | undefined {
  return /^[A-Za-z0-9_.:/@+-]{1,100}$/.test(owner)
    ? undefined
    : `owner id ${JSON.stringify(owner)} must be 1 to 100 letters, digits or _.:/@+-`;
}

/** The set identifier of the registry record of (owner, resource) at `recordName`. */
export function registrySetIdentifier(owner: string, resource: string, recordName: string): string {
  const hash = createHash("sha256").update(`${owner}\n${resource}\n${recordName}`).digest("hex");
  return `${REGISTRY_SET_ID_PREFIX}${hash.slice(0, 16)}`;
}

function parseHeader(value: string | undefined): Ownership | undefined {
  const text = (value ?? "").replace(/^"|"$/g, "");
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

/** Who wrote a registry record of either format; undefined when it is not one of ours (any operator's). */
export function parseOwnership(record: RecordSet): Ownership | undefined {
  const entry = parseRegistry(record);
  return entry === undefined
    ? undefined
    : { heritage: entry.heritage, owner: entry.owner, resource: entry.resource, prune: entry.prune };
}

/** Reads a registry record of either format; undefined when it is not one of ours (any operator's). */
export function parseRegistry(record: RecordSet): RegistryEntry | undefined {
  if (record.type !== "TXT" || record.setIdentifier === undefined || !record.name.startsWith("_elo-")) {
    return undefined;
  }
  const label = record.name.slice(0, record.name.indexOf("."));
  const recordName = record.name.slice(label.length + 1);
  const type = label.slice("_elo-".length).toUpperCase();
  const values = record.values ?? [];
  const header = parseHeader(values[0]);
  if (header === undefined || type === "" || recordName === "") return undefined;
  if (record.setIdentifier.startsWith(REGISTRY_SET_ID_PREFIX)) {
    const setIdentifiers = values.slice(1).flatMap(parseIdsValue);
    return { ...header, format: "list", recordName, type, setIdentifiers, record };
  }
  if (values.length !== 1) return undefined;
  return { ...header, format: "twin", recordName, type, setIdentifiers: [record.setIdentifier], record };
}

/** Set identifiers are written as they are when made of these characters (instance, task and shard ids are). */
const PLAIN_ID = /^[A-Za-z0-9_.:/@+-]+$/;

function encodeId(id: string): string {
  return PLAIN_ID.test(id) ? id : encodeURIComponent(id);
}

function decodeId(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseIdsValue(value: string): string[] {
  const ids: string[] = [];
  for (const m of value.matchAll(/"([^"]*)"/g)) {
    for (const word of (m[1] ?? "").split(" ")) if (word !== "") ids.push(decodeId(word));
  }
  return ids;
}

/**
 * The values listing `setIdentifiers`: each a run of quoted strings of at most 255 characters, space-separated ids
 * never split between strings, each value at most 4,000 characters.
 */
export function idsValues(setIdentifiers: readonly string[]): string[] {
  const ids = setIdentifiers.map(encodeId);
  const long = ids.find((id) => id.length > TXT_STRING_MAX);
  if (long !== undefined) throw new Error(`set identifier ${long} is longer than a TXT string`);
  const strings = joinedUpTo(ids, TXT_STRING_MAX).map((x) => `"${x}"`);
  return joinedUpTo(strings, VALUE_MAX);
}

/** Joins items with single spaces into as few runs as fit `max` characters each, in order, never splitting one. */
function joinedUpTo(items: readonly string[], max: number): string[] {
  const runs: string[] = [];
  let current = "";
  for (const item of items) {
    if (current === "") current = item;
    else if (current.length + 1 + item.length <= max) current += ` ${item}`;
    else {
      runs.push(current);
      current = item;
    }
  }
  if (current !== "") runs.push(current);
  return runs;
}

/** The registry record of (owner, resource) at `recordName`, listing `setIdentifiers` (sorted, so it is stable). */
export function registryRecord(
  recordName: string,
  type: string,
  owner: string,
  resource: string,
  setIdentifiers: readonly string[],
  prune = false,
): RecordSet {
  return {
    name: registryName(recordName, type),
    type: "TXT",
    setIdentifier: registrySetIdentifier(owner, resource, recordName),
    weight: REGISTRY_WEIGHT,
    ttl: REGISTRY_TTL,
    values: [registryValue(owner, resource, prune), ...idsValues([...new Set(setIdentifiers)].sort())],
  };
}

/**
 * A registry twin of the format before (one TXT per record, with its record's set identifier). The operator no longer
 * writes these; it reads them as proof and replaces them. Kept for the tests that build zones of that format.
 */
export function legacyTwinRecord(
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
