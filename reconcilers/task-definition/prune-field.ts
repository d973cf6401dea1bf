import { Type } from "@sinclair/typebox";

/** The `prune` field of a kind that patches task definitions. */
export function prunePatchField(what: string) {
  return Type.Optional(
    Type.Boolean({
      default: false,
      description:
        `When true, deleting this spec removes ${what} from the family: a new revision holds the pipeline's own ` +
        "values again (those of the revision the operator first patched, wherever the latest revision still holds " +
        "the operator's), and `rollout`'s services move to it. Otherwise the patch stays, no longer managed. The " +
        "choice is the one last applied, read back from the tags of the operator's revision.",
    }),
  );
}
