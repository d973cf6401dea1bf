import { readFile, writeFile } from "node:fs/promises";
import { allKinds } from "./kinds.ts";
import { documentJsonSchema } from "./schema.ts";
import { specReferenceMarkdown, withReference } from "./reference.ts";

/** Regenerates the README's spec reference and the published JSON Schema from the kinds' schemas. */
const readme = await readFile("README.md", "utf8");
await writeFile("README.md", withReference(readme, specReferenceMarkdown(allKinds())));
await writeFile(
  "manifests/schema/ecs-log-operator.schema.json",
  JSON.stringify(documentJsonSchema(allKinds()), null, 2) + "\n",
);
console.log("README.md and manifests/schema/ecs-log-operator.schema.json regenerated");
