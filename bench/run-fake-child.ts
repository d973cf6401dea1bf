import { benchRunOnFake, type FakeRunOptions } from "./run.ts";

/**
 * The `run` section's scene on the in-process fake, alone in its process so that its memory figures are the
 * controller's (and the fake's state): `node bench/run-fake-child.ts OPTIONS_JSON`. Prints `RunFigures` as one JSON line.
 */
const [json] = process.argv.slice(2);
if (json === undefined) throw new Error("usage: run-fake-child OPTIONS_JSON");
const figures = await benchRunOnFake(JSON.parse(json) as FakeRunOptions);
process.stdout.write(JSON.stringify(figures) + "\n");
