import { Type, type Static } from "@sinclair/typebox";
import { defineKind, type SpecIssue } from "../../controllers/spec/document.ts";
import { prunePatchField } from "../task-definition/prune-field.ts";
import { EcsName, plaintextSecretIssues } from "../task-definition/spec-safety.ts";

export const DEPENDS_ON = ["START", "HEALTHY", "none"] as const;

const sidecarFields = {
  family: EcsName("Task definition family to patch; its latest ACTIVE revision is the starting point."),
  source: Type.Object(
    {
      container: EcsName("The sidecar (e.g. fluentd) that writes the files."),
      volume: Type.Optional(
        EcsName(
          "Task volume to create and mount in the source. Omit when the source image declares a VOLUME: " +
            "volumesFrom shares it as it is.",
        ),
      ),
      path: Type.Optional(
        Type.String({
          pattern: "^/[A-Za-z0-9/_.-]*$",
          description: "Where the volume is mounted in the source container (required with volume).",
          errorHint: "an absolute path",
        }),
      ),
    },
    { additionalProperties: false, description: "The container whose volumes are shared." },
  ),
  consumers: Type.Array(
    Type.Object(
      {
        container: EcsName("A container that reads (or writes) the source's volumes."),
        readOnly: Type.Optional(Type.Boolean({ description: "Mount read-only (default false, as in ECS)." })),
        dependsOn: Type.Optional(
          Type.Union(
            DEPENDS_ON.map((d) => Type.Literal(d)),
            {
              description:
                "Start order: START waits for the source to start, HEALTHY for its health check (the source needs " +
                "one), none adds no dependency. Default START.",
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    { minItems: 1, description: "Containers given `volumesFrom` the source." },
  ),
  rollout: Type.Optional(
    Type.Object(
      {
        services: Type.Array(
          Type.Object(
            { cluster: EcsName("Cluster name."), service: EcsName("Service name.") },
            { additionalProperties: false },
          ),
          { minItems: 1, description: "Services moved (UpdateService taskDefinition) to the new revision." },
        ),
      },
      { additionalProperties: false, description: "Optional: move these ECS services to the new revision." },
    ),
  ),
  prune: prunePatchField("the shared volume, the consumers' volumesFrom and their dependsOn"),
};

const SidecarVolumeBase = Type.Object(sidecarFields, { additionalProperties: false });

export const SidecarVolumeSpecSchema = Type.Object(
  {
    ...sidecarFields,
    environments: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z0-9-]+$" }), Type.Partial(SidecarVolumeBase), {
        description: "Overlays chosen with --environment; each replaces whole top-level fields.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type SidecarVolumeSpec = Static<typeof SidecarVolumeBase>;

function checkSidecarVolume(spec: SidecarVolumeSpec): SpecIssue[] {
  const issues = plaintextSecretIssues(spec);
  const { volume, path } = spec.source;
  if ((volume === undefined) !== (path === undefined)) {
    issues.push({
      path: ["source", volume === undefined ? "path" : "volume"],
      message:
        "source.volume and source.path go together: give both, or neither to share the image's VOLUMEs",
    });
  }
  const seen = new Set<string>();
  spec.consumers.forEach((c, i) => {
    if (c.container === spec.source.container) {
      issues.push({
        path: ["consumers", i, "container"],
        message: `"${c.container}" is the source; a container cannot take volumes from itself`,
      });
    }
    if (seen.has(c.container)) {
      issues.push({
        path: ["consumers", i, "container"],
        message: `consumer "${c.container}" is listed twice`,
      });
    }
    seen.add(c.container);
  });
  return issues;
}

export const SidecarVolumeKind = defineKind({
  kind: "SidecarVolume",
  description:
    "A log sidecar sharing its volume with consumer containers (volumesFrom and dependsOn), patched onto the " +
    "family's latest revision.",
  specSchema: SidecarVolumeSpecSchema,
  check: (spec) => checkSidecarVolume(spec as SidecarVolumeSpec),
  claims: (spec) =>
    spec.consumers.map((c, i) => ({
      key: `ecs:task-definition/${spec.family}/${c.container}/volumes-from/${spec.source.container}`,
      path: ["consumers", i, "container"],
    })),
});
