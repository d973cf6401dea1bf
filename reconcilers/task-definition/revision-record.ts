import { createHash } from "node:crypto";
import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import type { TaskDefinitionPatches } from "./task-definition-patch.ts";

/**
 * What the engine records in the tags of every revision it registers, and reads back from AWS: the operator keeps no
 * state of its own, so that a spec removed while the operator was down, or on another replica, is still known.
 * - `owner`: this operator's id; the revision is the operator's ("ours").
 * - `generation`: `Kind/name:generation` of the specs that produced it.
 * - `base`: the revision number of the pipeline's revision the operator's patches started from: its values are what
 *   removing a patch restores.
 * - `parent`: the revision number that was the family's latest when this one was planned: ECS registers without a
 *   condition, so a revision registered in between (a gap after `parent`) may be a deploy this one was not built on.
 * - `patch/Kind/name`: one per spec whose patch the revision carries: `prune` or `keep` (the spec's `prune` as last
 *   applied), then the patch's footprint words (`router=log_router`).
 * - `rollout/Kind/name`: the services that spec's `rollout` named, `cluster/service` words.
 *
 * Tag values allow letters, digits, spaces and `+ - = . _ : / @`, up to 256 characters; a resource takes 50 tags.
 */
export const TAG_PREFIX = "ecs-log-operator/";
export const GENERATION_TAG = `${TAG_PREFIX}generation`;
export const OWNER_TAG = `${TAG_PREFIX}owner`;
export const BASE_TAG = `${TAG_PREFIX}base`;
export const PARENT_TAG = `${TAG_PREFIX}parent`;
const PATCH_PREFIX = `${TAG_PREFIX}patch/`;
const ROLLOUT_PREFIX = `${TAG_PREFIX}rollout/`;
export const MAX_TAGS = 50;
const MAX_VALUE = 256;

export type Tag = { readonly key: string; readonly value: string };

/** A spec whose patch a revision carries, as its tags tell. */
export interface PatchRecord {
  /** `Kind/name`. */
  readonly key: string;
  readonly kind: string;
  readonly prune: boolean;
  readonly footprint: Readonly<Record<string, string>>;
  readonly rollouts: readonly { readonly cluster: string; readonly service: string }[];
}

export function ownerTagValue(ownerId: string): string {
  return ownerId.replace(/[^A-Za-z0-9 +\-=._:/@]/g, "_").slice(0, MAX_VALUE);
}

/** True for a revision this operator registered. */
export function isOurs(tags: readonly Tag[], ownerId: string): boolean {
  return tags.some((t) => t.key === OWNER_TAG && t.value === ownerTagValue(ownerId));
}

/** The `base` revision number a revision of ours names; undefined on one registered before the operator kept it. */
export function baseOf(tags: readonly Tag[]): number | undefined {
  return revisionTag(tags, BASE_TAG);
}

/** The `parent` revision number a revision of ours names; undefined on one registered before the operator kept it. */
export function parentOf(tags: readonly Tag[]): number | undefined {
  return revisionTag(tags, PARENT_TAG);
}

function revisionTag(tags: readonly Tag[], key: string): number | undefined {
  const value = tags.find((t) => t.key === key)?.value;
  return value !== undefined && /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
}

/** What the specs' patches record, as their patches give it. */
export function recordsOf(docs: readonly SpecDocument[], patches: TaskDefinitionPatches): PatchRecord[] {
  return docs.flatMap((doc) => {
    const patch = patches.of(doc);
    if (patch === undefined) return [];
    return [
      {
        key: resourceKey(doc),
        kind: doc.kind,
        prune: patch.prune(doc.spec),
        footprint: patch.footprint(doc.spec),
        rollouts: patch.rolloutServices(doc.spec),
      },
    ];
  });
}

/** The records a revision's tags hold, by key. */
export function readRecords(tags: readonly Tag[]): PatchRecord[] {
  const rollouts = new Map(
    tags
      .filter((t) => t.key.startsWith(ROLLOUT_PREFIX))
      .map((t) => [t.key.slice(ROLLOUT_PREFIX.length), t.value]),
  );
  const out: PatchRecord[] = [];
  for (const t of tags) {
    if (!t.key.startsWith(PATCH_PREFIX)) continue;
    const key = t.key.slice(PATCH_PREFIX.length);
    const [choice, ...words] = t.value.split(" ").filter((w) => w !== "");
    if (choice !== "prune" && choice !== "keep") continue;
    const footprint: Record<string, string> = {};
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq > 0) footprint[w.slice(0, eq)] = w.slice(eq + 1);
    }
    out.push({
      key,
      kind: key.slice(0, key.indexOf("/")),
      prune: choice === "prune",
      footprint,
      rollouts: (rollouts.get(key) ?? "")
        .split(" ")
        .filter((w) => w.includes("/"))
        .map((w) => ({ cluster: w.slice(0, w.indexOf("/")), service: w.slice(w.indexOf("/") + 1) })),
    });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The problems of recording these specs: a record cut short cannot be removed, or rolled out, in full later. */
export interface RecordProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * The new revision's tags: the base revision's own tags (a deploy pipeline's, say) are carried over, ours replaced
 * by what this revision is: its owner, its specs' generations, its base and its records.
 */
export function revisionTags(options: {
  readonly carried: readonly Tag[];
  readonly docs: readonly SpecDocument[];
  readonly ownerId: string;
  readonly base: number;
  /** The family's latest revision number when this one was planned; 0 or absent when not known (`render --from`). */
  readonly parent?: number | undefined;
  readonly records: readonly PatchRecord[];
}): { tags: Tag[]; problems: RecordProblem[] } {
  let generation = options.docs.map((d) => `${resourceKey(d)}:${d.generation}`).join(" ");
  if (generation.length > MAX_VALUE) {
    generation = `sha256:${createHash("sha256").update(generation).digest("hex").slice(0, 32)}`;
  }
  const problems: RecordProblem[] = [];
  const recordTags: Tag[] = [];
  for (const r of options.records) {
    const words = Object.entries(r.footprint).map(([k, v]) => `${k}=${v}`);
    let value = r.prune ? "prune" : "keep";
    if ([value, ...words].join(" ").length <= MAX_VALUE) value = [value, ...words].join(" ");
    else
      problems.push({
        key: r.key,
        message: "its footprint is too long to record: its patch cannot be removed",
      });
    recordTags.push({ key: `${PATCH_PREFIX}${r.key}`, value });
    const services = r.rollouts.map((s) => `${s.cluster}/${s.service}`);
    let rollout = "";
    for (const s of services) {
      if (`${rollout} ${s}`.trim().length > MAX_VALUE) {
        problems.push({
          key: r.key,
          message: `rollout service ${s} and those after it do not fit in its record`,
        });
        break;
      }
      rollout = `${rollout} ${s}`.trim();
    }
    if (rollout !== "") recordTags.push({ key: `${ROLLOUT_PREFIX}${r.key}`, value: rollout });
  }
  const tags = [
    ...options.carried.filter((t) => !t.key.startsWith(TAG_PREFIX) && !t.key.startsWith("aws:")),
    { key: GENERATION_TAG, value: generation },
    { key: OWNER_TAG, value: ownerTagValue(options.ownerId) },
    // A revision read from a file (`render --from`) has no number: its base is not known yet.
    ...(options.base > 0 ? [{ key: BASE_TAG, value: String(options.base) }] : []),
    ...((options.parent ?? 0) > 0 ? [{ key: PARENT_TAG, value: String(options.parent) }] : []),
    ...recordTags,
  ];
  return { tags, problems };
}
