import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { allKinds } from "./kinds.ts";
import { specReferenceMarkdown, withReference } from "./reference.ts";
import { documentJsonSchema } from "./schema.ts";

describe("generated documentation", () => {
  it("the README's spec reference is generated from the current schemas (run `npm run docs`)", async () => {
    const readme = await readFile("README.md", "utf8");
    expect(readme).toBe(withReference(readme, specReferenceMarkdown(allKinds())));
  });

  it("the published JSON Schema is generated from the current schemas (run `npm run docs`)", async () => {
    const published = JSON.parse(await readFile("manifests/schema/ecs-log-operator.schema.json", "utf8"));
    expect(published).toEqual(documentJsonSchema(allKinds()));
  });
});
