import { createHash } from "node:crypto";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  TerminalError,
  type Change,
  type ReconcileContext,
  type Reconciler,
  type ResourcePlan,
} from "../../controllers/reconciler.ts";
import { resourceKey, type SpecDocument } from "../../controllers/spec/document.ts";
import { taskWatchKey } from "../ecs-tasks/ecs-task-api.ts";
import { AwsS3ConfigStore } from "./aws-s3-config-store.ts";
import { AwsTaskDefinitionApi } from "./aws-task-definition-api.ts";
import { ConfigBucketNotFoundError, type ConfigObjectStore } from "./config-object-store.ts";
import { planConfigUpload, type DesiredConfigObject } from "./config-upload-plan.ts";
import { formatIssue, patchFamily, type FamilyPatchResult } from "./family-patch.ts";
import type { ObservedTaskDefinition, TaskDefinitionApi } from "./task-definition-api.ts";
import { describeDifference, sameTaskDefinition, type TaskDefinitionJson } from "./task-definition.ts";
import { TaskDefinitionPatches, type TaskDefinitionPatch } from "./task-definition-patch.ts";

/** The family got a new revision between plan and apply: retry, do not report as a spec problem. */
export class FamilyChangedError extends Error {
  override readonly name = "FamilyChangedError";
}

export const GENERATION_TAG = "ecs-log-operator/generation";
export const OWNER_TAG = "ecs-log-operator/owner";

/** What one family should look like, and what it is built from. */
export interface FamilyDesired {
  readonly family: string;
  readonly docs: readonly SpecDocument[];
  readonly base: ObservedTaskDefinition;
  readonly definition: TaskDefinitionJson;
  /** False when the latest revision already matches: nothing would be registered. */
  readonly changed: boolean;
  readonly difference: string;
  readonly warnings: readonly string[];
  /** A file the revision reads, to deliver as it says (a LogRouter's extra Fluent Bit config). */
  readonly configFile?: FamilyPatchResult["configFile"];
}

export interface TaskDefinitionReconcilerOptions {
  readonly api: TaskDefinitionApi;
  /** The operator's region, the default for `awslogs-region` and output regions; undefined when none is set. */
  readonly region: () => Promise<string | undefined>;
  /**
   * Where `configFile.type: s3` configs are kept. Required to plan a family whose router reads one; `render`,
   * which only calls `desired`, has none.
   */
  readonly configStore?: ConfigObjectStore | undefined;
  /** The kinds' patches known from the start (`render`); `forKind` adds the others. */
  readonly patches?: readonly TaskDefinitionPatch[];
}

/**
 * The task-definition engine: reconciles task definition families for the kinds that plug a patch into it
 * (`TaskDefinitionPatch`: LogRouter, SidecarVolume). Every spec of one family is applied together onto the family's
 * latest ACTIVE revision, so the kinds give one new revision and never undo each other: the first spec of a family
 * (by resource key) carries the family's plan and the others note that they are part of it.
 */
export class TaskDefinitionReconciler {
  private readonly api: TaskDefinitionApi;
  private readonly region: () => Promise<string | undefined>;
  private readonly configStore: ConfigObjectStore | undefined;
  readonly patches: TaskDefinitionPatches;

  constructor(options: TaskDefinitionReconcilerOptions) {
    this.api = options.api;
    this.region = options.region;
    this.configStore = options.configStore;
    this.patches = new TaskDefinitionPatches(options.patches);
  }

  /** The `Reconciler` of a kind that patches task definitions, delegating to this engine. */
  forKind(patch: TaskDefinitionPatch, order = 30): Reconciler {
    this.patches.add(patch);
    const familyOf = (doc: SpecDocument) => this.patches.familyOf(doc);
    return {
      kind: patch.kind,
      order,
      plan: (doc, ctx) => this.plan(doc, ctx),
      // A pipeline that registers a revision usually deploys it next: the rolled-out services' changes wake the
      // family, and the periodic pass catches a revision registered without a deploy. `taskdef:FAMILY` groups the
      // specs of one family, so that an edit to any of them wakes the one that carries the family's plan.
      watches: (doc) => [
        ...this.patches.rolloutServices([doc]).map((s) => taskWatchKey(s)),
        ...(familyOf(doc) !== undefined ? [`taskdef:${familyOf(doc)}`] : []),
      ],
    };
  }

  /** The revision `apply` would register for the family of `docs` (all of one family), read from AWS. */
  async desired(family: string, docs: readonly SpecDocument[], signal?: AbortSignal): Promise<FamilyDesired> {
    const first = docs[0];
    if (first === undefined) throw new Error(`no spec patches family ${family}`);
    const base = await this.api.describeLatest(family, signal);
    if (base === undefined) {
      const p = first.positionOf(["spec", "family"]);
      throw new TerminalError(
        `${p.file}:${p.line}:${p.col}: ${resourceKey(first)}: family ${family} has no ACTIVE task definition ` +
          "revision. The operator patches a family and does not create one: register it first (e.g. from your " +
          "deploy pipeline).",
      );
    }
    const result = patchFamily(base.definition, docs, { region: await this.region() }, this.patches);
    if (result.errors.length > 0) throw new TerminalError(result.errors.map(formatIssue).join("\n"));
    const changed = !sameTaskDefinition(base.definition, result.definition);
    return {
      family,
      docs,
      base,
      definition: result.definition,
      changed,
      difference: changed ? describeDifference(base.definition, result.definition) : "",
      warnings: result.warnings.map(formatIssue),
      configFile: result.configFile,
    };
  }

  async plan(doc: SpecDocument, ctx: ReconcileContext): Promise<ResourcePlan> {
    const family = this.patches.familyOf(doc);
    if (family === undefined) throw new Error(`${resourceKey(doc)} does not patch a task definition`);
    const docs = this.patches.specsOfFamily([...ctx.documents.filter((d) => d !== doc), doc], family);
    const owner = docs[0]!;
    if (resourceKey(owner) !== resourceKey(doc)) {
      return {
        key: resourceKey(doc),
        kind: doc.kind,
        changes: [],
        notes: [`patched together with ${resourceKey(owner)}: one revision of family ${family}`],
        apply: async () => {},
      };
    }
    const desired = await this.desired(family, docs, ctx.signal);
    const { base } = desired;
    const changes: Change[] = [];
    const notes: string[] = [
      `family ${family}: latest ACTIVE revision ${base.revision}`,
      ...desired.warnings,
    ];
    if (docs.length > 1) notes.push(`applies ${docs.map(resourceKey).join(" and ")} together`);
    if (desired.configFile !== undefined) {
      notes.push(`extra ${desired.configFile.label} (see \`render\`): ${desired.configFile.delivery}`);
    }
    const upload = await this.planConfigObject(desired, ctx.signal);
    if (upload !== undefined) changes.push(upload.change);
    if (desired.changed) {
      changes.push({
        action: "create",
        target: `task definition ${family}, new revision`,
        detail: `patched from ${family}:${base.revision}: ${desired.difference}`,
      });
    }
    const rollouts = await this.planRollouts(desired, ctx.signal);
    changes.push(...rollouts.map((r) => r.change));
    const tags = revisionTags(base, docs, ctx.ownerId);
    return {
      key: resourceKey(doc),
      kind: doc.kind,
      changes,
      notes,
      apply: async (signal) => {
        let arn = base.arn;
        // Written before any revision that reads it is registered or rolled out, so a task never starts with a
        // missing or stale config: FireLens reads the object once, when the task starts.
        if (upload !== undefined) {
          const { bucket, key } = upload.desired.object;
          await upload.store.write(bucket, key, upload.desired.text, signal);
          ctx.logger.info(`uploaded ${upload.desired.label}`, { family, bucket, key });
        }
        if (desired.changed) {
          // A pipeline may have registered a revision since the plan was read; patching the older one would undo
          // its image, so the family is planned again instead.
          const now = await this.api.describeLatest(family, signal);
          if (now !== undefined && now.arn !== base.arn) {
            throw new FamilyChangedError(
              `family ${family} changed since it was planned (now at revision ${now.revision}); the next ` +
                "reconcile patches that revision",
            );
          }
          const registered = await this.api.register(desired.definition, tags, signal);
          arn = registered.arn;
          ctx.logger.info("registered task definition", { family, revision: registered.revision });
        }
        for (const r of rollouts) {
          await this.api.updateServiceTaskDefinition(r.cluster, r.service, arn, signal);
          ctx.logger.info("rolled service to revision", { cluster: r.cluster, service: r.service, arn });
        }
      },
    };
  }

  /** The upload that makes the router's S3 config object match the rendered config, or undefined when it does. */
  private async planConfigObject(
    desired: FamilyDesired,
    signal: AbortSignal,
  ): Promise<{ desired: DesiredConfigObject; change: Change; store: ConfigObjectStore } | undefined> {
    const file = desired.configFile;
    const object = file?.s3;
    if (file === undefined || object === undefined) return undefined;
    const owner = file.doc;
    const p = owner.positionOf(["spec", ...file.path]);
    const at = `${p.file}:${p.line}:${p.col}: ${resourceKey(owner)}`;
    if (this.configStore === undefined) {
      throw new TerminalError(`${at}: this command cannot deliver a config file to S3`);
    }
    let observed: string | undefined;
    try {
      observed = await this.configStore.read(object.bucket, object.key, signal);
    } catch (error) {
      if (error instanceof ConfigBucketNotFoundError) {
        throw new TerminalError(
          `${at}: S3 bucket ${object.bucket} does not exist; the operator keeps the config object in it but ` +
            "does not create buckets",
          { cause: error },
        );
      }
      throw error;
    }
    const want: DesiredConfigObject = { family: desired.family, label: file.label, object, text: file.text };
    const change = planConfigUpload(want, observed);
    return change === undefined ? undefined : { desired: want, change, store: this.configStore };
  }

  /**
   * The services to move. A service is left alone when the revision it runs already equals the desired one,
   * whichever revision number that is.
   */
  private async planRollouts(
    desired: FamilyDesired,
    signal: AbortSignal,
  ): Promise<{ cluster: string; service: string; change: Change }[]> {
    const out: { cluster: string; service: string; change: Change }[] = [];
    for (const s of this.patches.rolloutServices(desired.docs)) {
      const observed = await this.api.describeService(s.cluster, s.service, signal);
      const p = s.doc.positionOf(["spec", "rollout", "services", s.index]);
      const at = `${p.file}:${p.line}:${p.col}: ${resourceKey(s.doc)}`;
      if (observed === undefined) {
        throw new TerminalError(`${at}: ECS service ${s.service} does not exist in cluster ${s.cluster}`);
      }
      const runsFamily = /task-definition\/([^:]+):\d+$/.exec(observed.taskDefinitionArn)?.[1];
      if (runsFamily !== undefined && runsFamily !== desired.family) {
        throw new TerminalError(
          `${at}: ECS service ${s.cluster}/${s.service} runs family ${runsFamily}, not ${desired.family}; ` +
            "rolling it to another family is not done automatically",
        );
      }
      if (!desired.changed && observed.taskDefinitionArn === desired.base.arn) continue;
      const running =
        observed.taskDefinitionArn === desired.base.arn
          ? desired.base
          : await this.api.describe(observed.taskDefinitionArn, signal);
      if (running !== undefined && sameTaskDefinition(running.definition, desired.definition)) continue;
      const to = desired.changed ? "the new revision" : `${desired.family}:${desired.base.revision}`;
      const from =
        running !== undefined ? `${desired.family}:${running.revision}` : observed.taskDefinitionArn;
      const beyond =
        running !== undefined && running !== desired.base
          ? `; also changes ${describeDifference(running.definition, desired.definition)}`
          : "";
      out.push({
        cluster: s.cluster,
        service: s.service,
        change: {
          action: "update",
          target: `service ${s.cluster}/${s.service}`,
          detail: `${from} -> ${to}${beyond}`,
        },
      });
    }
    return out;
  }
}

/**
 * The new revision's tags: the base revision's own tags (a deploy pipeline's, say) are carried over, and ours say
 * which specs, at which generation, produced it. Tag values allow letters, digits, spaces and `+ - = . _ : / @`.
 */
export function revisionTags(
  base: ObservedTaskDefinition,
  docs: readonly SpecDocument[],
  ownerId: string,
): { key: string; value: string }[] {
  let generation = docs.map((d) => `${resourceKey(d)}:${d.generation}`).join(" ");
  if (generation.length > 256) {
    generation = `sha256:${createHash("sha256").update(generation).digest("hex").slice(0, 32)}`;
  }
  const owner = ownerId.replace(/[^A-Za-z0-9 +\-=._:/@]/g, "_").slice(0, 256);
  return [
    ...base.tags.filter((t) => t.key !== GENERATION_TAG && t.key !== OWNER_TAG && !t.key.startsWith("aws:")),
    { key: GENERATION_TAG, value: generation },
    { key: OWNER_TAG, value: owner },
  ];
}

/**
 * The process's engine over ECS and S3, which every patching kind's entry asks for through `KindParts.shared`, so
 * that all of them plug into one engine.
 */
export function taskDefinitionEngine(clients: { ecs: ECSClient; s3: S3Client }): TaskDefinitionReconciler {
  return new TaskDefinitionReconciler({
    api: new AwsTaskDefinitionApi(clients),
    region: () => sdkRegion(clients.ecs),
    configStore: new AwsS3ConfigStore(clients),
  });
}

/** The SDK's region (AWS_REGION, the shared config), or undefined when none is configured. */
export async function sdkRegion(ecs: ECSClient): Promise<string | undefined> {
  try {
    return await ecs.config.region();
  } catch {
    return undefined;
  }
}
