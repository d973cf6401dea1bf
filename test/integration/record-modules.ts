// Preloaded with `node --import` by offline-commands.test.ts: records every module the process resolves (ESM
// imports and CommonJS requires alike, through Node's synchronous module hooks) and writes the list on exit.
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const out = process.env.RECORD_MODULES_TO;
if (out === undefined) throw new Error("record-modules.ts needs RECORD_MODULES_TO");
const resolved = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
process.on("exit", () => writeFileSync(out, [...resolved].join("\n") + "\n"));
