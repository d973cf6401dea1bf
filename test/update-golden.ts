/**
 * `npm run golden`: writes every golden file from what the code renders now. Review the diff before committing it:
 * the tests compare against these files and fail when one is missing.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GOLDEN_DIR } from "./golden.ts";
import { FLUENT_BIT_GOLDENS, render, RENDER_GOLDENS, renderedFluentBitConfig } from "./render-goldens.ts";

let failed = 0;
for (const [name, args] of RENDER_GOLDENS) {
  const r = await render(args);
  if (r.code !== 0) {
    process.stderr.write(`${name}: render failed (exit ${r.code}):\n${r.err}`);
    failed++;
    continue;
  }
  writeFileSync(join(GOLDEN_DIR, name), r.out);
  process.stdout.write(`wrote ${join(GOLDEN_DIR, name)}\n`);
}
for (const [name, args] of FLUENT_BIT_GOLDENS) {
  writeFileSync(join(GOLDEN_DIR, name), await renderedFluentBitConfig(args));
  process.stdout.write(`wrote ${join(GOLDEN_DIR, name)}\n`);
}
process.exitCode = failed > 0 ? 1 : 0;
