import { API_VERSION, MetadataSchema, type KindDefinition } from "../controllers/spec/document.ts";

/**
 * The JSON Schema of a spec document, for editors (yaml-language-server's `# yaml-language-server: $schema=`).
 * Built from the same TypeBox schemas the validator uses, so the two cannot drift.
 */
export function documentJsonSchema(kinds: readonly KindDefinition[]): Record<string, unknown> {
  const strip = (s: unknown): unknown => JSON.parse(JSON.stringify(s));
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://ecs-log-operator.dev/schema/v1alpha1.json",
    title: "ecs-log-operator spec document",
    type: "object",
    required: ["apiVersion", "kind", "metadata", "spec"],
    properties: {
      apiVersion: { const: API_VERSION },
      kind: { enum: kinds.map((k) => k.kind) },
      metadata: strip(MetadataSchema),
    },
    allOf: kinds.map((k) => ({
      if: { properties: { kind: { const: k.kind } } },
      then: { properties: { spec: { description: k.description, ...(strip(k.specSchema) as object) } } },
    })),
  };
}
