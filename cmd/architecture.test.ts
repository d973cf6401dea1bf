import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";

// Facts about the source tree that a reviewer would otherwise check by hand: which folder may import which, what
// unit tests may not do, and what the production image holds.

const ROOT = join(import.meta.dirname, "..");

/** Every .ts file below `dir` (relative to the repository, `/`-separated), node_modules left out. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
      const p = d === "" ? e.name : `${d}/${e.name}`;
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

const isTest = (file: string): boolean => file.endsWith(".test.ts");

/** The repository files a file imports: static imports and re-exports, and `import("...")` of relative paths. */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms),
    ...text.matchAll(/^\s*import\s+"([^"]+)"/gm),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((m) => m[1] ?? "");
  return specifiers
    .filter((s) => s.startsWith("."))
    .map((s) =>
      normalize(join(dirname(file), s))
        .split(sep)
        .join("/"),
    );
}

/** `reconcilers/<folder>/...` -> `<folder>`; a file directly under reconcilers/ is its own node. */
function reconcilerFolder(file: string): string | undefined {
  const m = /^reconcilers\/([^/]+)(\/|$)/.exec(file);
  if (m === null) return undefined;
  return m[2] === "/" ? (m[1] ?? "") : file;
}

/** A cycle in the graph, as a path `a -> b -> a`, or undefined. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found !== undefined) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

describe("the source tree", () => {
  it("has no import cycle between the folders under reconcilers/, tests included", () => {
    const edges = new Map<string, Set<string>>();
    for (const file of tsFiles("reconcilers")) {
      const from = reconcilerFolder(file)!;
      for (const target of relativeImports(file)) {
        const to = reconcilerFolder(target);
        if (to === undefined || to === from) continue;
        let set = edges.get(from);
        if (set === undefined) edges.set(from, (set = new Set()));
        set.add(to);
      }
    }
    expect(edges.size).toBeGreaterThan(3);
    expect(findCycle(edges), "folders that import each other").toBeUndefined();
  });

  it("finds a cycle where there is one (the check above can fail)", () => {
    const edges = new Map([
      ["log-router", new Set(["task-definition"])],
      ["task-definition", new Set(["ecs-tasks", "log-router"])],
    ]);
    expect(findCycle(edges)).toEqual(["log-router", "task-definition", "log-router"]);
  });

  it("keeps cmd/ the composition root: controllers/ and reconcilers/ never import cmd/, test/ or bench/", () => {
    const wrong: string[] = [];
    for (const file of [...tsFiles("controllers"), ...tsFiles("reconcilers")]) {
      for (const target of relativeImports(file)) {
        const top = target.split("/")[0];
        // Tests may use the shared test helpers (test/...), never the composition root.
        if (top === "cmd" || top === "bench" || (top === "test" && !isTest(file)))
          wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("keeps controllers/ free of any kind: it never imports reconcilers/", () => {
    const wrong = tsFiles("controllers").flatMap((file) =>
      relativeImports(file)
        .filter((t) => t.startsWith("reconcilers/"))
        .map((t) => `${file} -> ${t}`),
    );
    expect(wrong).toEqual([]);
  });

  it("has no unit test under controllers/ or reconcilers/ that sleeps or reads the wall clock", () => {
    // Time is injected (controllers/clock.ts); a unit test moves the ManualClock and waits for conditions by letting
    // the event loop turn (setImmediate). Tests that need real time talk to real processes in test/integration/.
    const forbidden: [RegExp, string][] = [
      [/\bsetTimeout\s*\(/, "setTimeout"],
      [/\bsetInterval\s*\(/, "setInterval"],
      [/node:timers/, "node:timers"],
      [/\bDate\.now\s*\(/, "Date.now()"],
      [/\bnew Date\(\s*\)/, "new Date()"],
      [/\bperformance\.now\s*\(/, "performance.now()"],
      [/\bAbortSignal\.timeout\s*\(/, "AbortSignal.timeout()"],
      [/\bsystemClock\b/, "systemClock"],
      [/\bAtomics\.wait\s*\(/, "Atomics.wait"],
    ];
    const found: string[] = [];
    for (const file of [...tsFiles("controllers"), ...tsFiles("reconcilers")].filter(isTest)) {
      const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        for (const [re, what] of forbidden) if (re.test(line)) found.push(`${file}:${i + 1}: ${what}`);
      });
    }
    expect(found).toEqual([]);
  });
});

/** Docker's `.dockerignore` rules as (negated, regex) pairs; the last rule matching a path or a parent decides. */
function dockerignore(): { negated: boolean; re: RegExp }[] {
  return readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const negated = l.startsWith("!");
      const pattern = (negated ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      const re = pattern
        .split("/")
        .map((part) =>
          part === "**"
            ? ".*"
            : part
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/")
        .replace(/\.\*\//g, "(?:.*/)?");
      return { negated, re: new RegExp(`^${re}$`) };
    });
}

function ignored(path: string, rules: { negated: boolean; re: RegExp }[]): boolean {
  const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let out = false;
  for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) out = !rule.negated;
  return out;
}

/** The files of the build context that the Dockerfile copies into the runtime image. */
function imageFiles(): string[] {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  const sources = [...runtime.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)].flatMap((m) =>
    (m[1] ?? "").trim().split(/\s+/),
  );
  const rules = dockerignore();
  const files: string[] = [];
  for (const source of sources) {
    const path = source.replace(/\/$/, "");
    if (!existsSync(join(ROOT, path))) continue;
    const all = statSync(join(ROOT, path)).isDirectory() ? walkAll(path) : [path];
    files.push(...all.filter((f) => !ignored(f, rules)));
  }
  return files.sort();
}

function walkAll(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...walkAll(p));
    else out.push(p);
  }
  return out;
}

describe("the production image", () => {
  it("copies only the sources the CLI runs: no test, test helper, demo or bench file", () => {
    const files = imageFiles();
    expect(files).toContain("cmd/ecs-log-operator.ts");
    expect(files.filter((f) => /^(test|bench)\//.test(f) || isTest(f) || f.startsWith("cmd/demo/"))).toEqual(
      [],
    );
    // Every shipped source is reachable from the entry point: nothing only tests, the demo or the bench use.
    const reachable = new Set<string>();
    const queue = ["cmd/ecs-log-operator.ts"];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (reachable.has(file)) continue;
      reachable.add(file);
      queue.push(...relativeImports(file).filter((f) => f.endsWith(".ts")));
    }
    const unreachable = files.filter((f) => f.endsWith(".ts") && !reachable.has(f));
    expect(unreachable, "shipped but never run (move it out, or add it to .dockerignore)").toEqual([]);
    const imported = [...reachable].filter((f) => !files.includes(f));
    expect(imported, "run by the CLI but left out of the image").toEqual([]);
    for (const file of files.filter((f) => f.endsWith(".ts"))) {
      expect(readFileSync(join(ROOT, file), "utf8"), file).not.toMatch(/from "(vitest|testcontainers)"/);
    }
  });

  it("reads .dockerignore as Docker does: the last matching rule wins, a directory rule covers what is in it", () => {
    const rules = dockerignore();
    expect(ignored("test/moto-emulator.ts", rules)).toBe(true);
    expect(ignored("controllers/controller.ts", rules)).toBe(false);
    expect(ignored("controllers/controller.test.ts", rules)).toBe(true);
    expect(ignored("cmd/demo/demo.ts", rules)).toBe(true);
    expect(relative(ROOT, join(ROOT, "cmd"))).toBe("cmd");
  });
});
