/** Route 53 allows at most 100 weighted record sets with one name and type. */
export const MAX_WEIGHTED_PER_NAME = 100;

/** `s<k>.<name>`: where the k-th shard's weighted records live when one name cannot hold every target. */
export function shardName(recordName: string, k: number): string {
  return `s${k}.${recordName}`;
}

/** The set identifier of the alias record at the top name that points at shard k. */
export function shardSetIdentifier(k: number): string {
  return `shard-s${k}`;
}

/** The shard index of a name `s<k>.<recordName>`, or undefined. */
export function shardIndexOf(name: string, recordName: string): number | undefined {
  if (!name.endsWith(`.${recordName}`)) return undefined;
  const m = /^s(0|[1-9]\d{0,3})$/.exec(name.slice(0, -recordName.length - 1));
  return m === null ? undefined : Number(m[1]);
}

/** The fewest shards whose room (`capacityOf(k)`) holds `targets`. */
export function shardsNeeded(targets: number, capacityOf: (k: number) => number): number {
  let count = 0;
  let room = 0;
  while (room < targets) {
    room += Math.max(0, capacityOf(count));
    count++;
    if (count > 10_000) throw new Error(`cannot place ${targets} targets in shards`);
  }
  return Math.max(count, 1);
}

/**
 * Sizes as equal as possible (differing by at most one where capacities allow), each within its shard's capacity.
 * The larger sizes go to the shards that hold more already, so fewer targets move.
 */
export function balancedSizes(
  total: number,
  capacities: readonly number[],
  currentCounts: readonly number[],
): number[] {
  const order = capacities
    .map((cap, k) => ({ cap, k, now: currentCounts[k] ?? 0 }))
    .sort((a, b) => a.cap - b.cap || b.now - a.now || a.k - b.k);
  const sizes = new Array<number>(capacities.length).fill(0);
  let remaining = total;
  order.forEach((s, j) => {
    const size = Math.min(s.cap, Math.ceil(remaining / (order.length - j)));
    sizes[s.k] = size;
    remaining -= size;
  });
  if (remaining > 0) throw new Error(`${total} targets do not fit in ${capacities.length} shards`);
  return sizes;
}

/**
 * Places targets in `capacities.length` shards, balanced, moving as few as possible: a target stays in its current
 * shard unless that shard is over its balanced size; new and displaced targets fill the shards with room, in order.
 * Deterministic: the same input gives the same layout.
 */
export function assignShards(
  targetIds: readonly string[],
  current: ReadonlyMap<string, number>,
  capacities: readonly number[],
): string[][] {
  const count = capacities.length;
  const ids = [...new Set(targetIds)].sort();
  const members: string[][] = Array.from({ length: count }, () => []);
  const unplaced: string[] = [];
  for (const id of ids) {
    const k = current.get(id);
    if (k !== undefined && k < count) members[k]!.push(id);
    else unplaced.push(id);
  }
  const sizes = balancedSizes(
    ids.length,
    capacities,
    members.map((m) => m.length),
  );
  for (let k = 0; k < count; k++) {
    const m = members[k]!;
    const size = sizes[k]!;
    if (m.length > size) unplaced.push(...m.splice(size));
  }
  unplaced.sort();
  let k = 0;
  for (const id of unplaced) {
    while (members[k]!.length >= sizes[k]!) k++;
    members[k]!.push(id);
  }
  return members.map((m) => m.sort());
}
