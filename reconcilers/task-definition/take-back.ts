import { canonicalJson } from "../../controllers/spec/load.ts";
import type { ContainerJson, TaskDefinitionJson } from "./task-definition.ts";

/**
 * What removing a patch starts from. The operator's revisions are the pipeline's revision `reference` (the one the
 * operator first patched, named by the `base` tag) plus the patches; `ours` is the newest of them, and the family's
 * latest revision is either `ours` itself or one the pipeline registered since (from its own file, or copied from
 * `ours`). A field goes back to `reference`'s value only where the latest revision still holds what `ours` had: what
 * the pipeline has changed since is the pipeline's, and stays.
 */
export interface RevertContext {
  readonly reference: TaskDefinitionJson;
  readonly ours: TaskDefinitionJson;
  /** What the patch recorded about its spec (`TaskDefinitionPatch.footprint`). */
  readonly footprint: Readonly<Record<string, string>>;
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** `reference` (undefined: absent) where `current` still equals `ours`; otherwise `current`. */
export function takeBack<T>(
  current: T | undefined,
  ours: T | undefined,
  reference: T | undefined,
): T | undefined {
  return same(current, ours) ? structuredClone(reference) : current;
}

/**
 * `takeBack` over the entries of a list that `select` picks (the `dependsOn` entries naming the router, say), as one
 * value: when `current`'s picked entries equal `ours`', they are replaced by `reference`'s, where the first of them
 * stood (or where `reference` has them), the other entries kept in their order. Undefined for an emptied list, as
 * ECS omits it.
 */
export function takeBackEntries<T>(
  current: readonly T[] | undefined,
  ours: readonly T[] | undefined,
  reference: readonly T[] | undefined,
  select: (entry: T) => boolean,
): T[] | undefined {
  const list = [...(current ?? [])];
  const picked = list.filter(select);
  if (!same(picked, (ours ?? []).filter(select))) return current === undefined ? undefined : list;
  const wanted = structuredClone((reference ?? []).filter(select));
  const kept = list.filter((e) => !select(e));
  // The first picked entry has only unpicked ones before it, so its index is also its place among `kept`.
  const first = list.findIndex(select);
  const index = first >= 0 ? first : Math.max(0, Math.min((reference ?? []).findIndex(select), kept.length));
  kept.splice(index, 0, ...wanted);
  return kept.length === 0 ? undefined : kept;
}

export function containerOf(td: TaskDefinitionJson, name: string): ContainerJson | undefined {
  return td.containerDefinitions.find((c) => c.name === name);
}

/** Sets a field of a container or task definition, deleting it for undefined. */
export function setField<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/**
 * Takes back a whole container: replaced by `reference`'s where it still equals `ours`' (removed when `reference`
 * has none, put back at `reference`'s place when a patch had removed it). True when `td` changed.
 */
export function takeBackContainer(td: TaskDefinitionJson, name: string, context: RevertContext): boolean {
  const current = containerOf(td, name);
  const next = takeBack(current, containerOf(context.ours, name), containerOf(context.reference, name));
  if (same(current, next)) return false;
  const index = td.containerDefinitions.findIndex((c) => c.name === name);
  if (next === undefined) {
    td.containerDefinitions.splice(index, 1);
  } else if (index >= 0) {
    td.containerDefinitions[index] = next;
  } else {
    const at = context.reference.containerDefinitions.findIndex((c) => c.name === name);
    td.containerDefinitions.splice(Math.min(at, td.containerDefinitions.length), 0, next);
  }
  return true;
}
