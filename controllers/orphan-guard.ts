import type { ResourcePlan } from "./reconciler.ts";

/** The owner id of a spec set that was given none (no `--owner-id`, no `$ECS_LOG_OPERATOR_OWNER_ID`). */
export const DEFAULT_OWNER_ID = "default";

/**
 * Whether this owner's sweeps may remove what it made for specs that are gone. Not under the default owner id:
 * every spec set shares it unless told otherwise, so a scratch directory applied with it would take everything the
 * real directory made for its own orphans. A chosen owner id says which spec set owns what.
 */
export function sweepsRemove(ownerId: string): boolean {
  return ownerId !== DEFAULT_OWNER_ID;
}

/**
 * A sweep's plans as this owner may apply them: unchanged with a chosen owner id; under the default one, each plan
 * that would change AWS becomes a note saying what was left and how to let it go, and changes nothing, in `plan` as
 * in `apply` and `run`.
 */
export function guardOrphanPlans(plans: readonly ResourcePlan[], ownerId: string): ResourcePlan[] {
  if (sweepsRemove(ownerId)) return [...plans];
  return plans.map((p) =>
    p.changes.length === 0
      ? p
      : {
          ...p,
          changes: [],
          notes: [
            ...(p.notes ?? []),
            `left as it is: ${p.changes.map((c) => `${c.action} ${c.target}`).join("; ")}. No spec here manages ` +
              `it, but the owner id is "${DEFAULT_OWNER_ID}", which every spec set shares unless told otherwise: ` +
              `give this spec set its own --owner-id (or $ECS_LOG_OPERATOR_OWNER_ID) for its orphans to be removed`,
          ],
          apply: async () => undefined,
        },
  );
}
