import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { TestRepository } from "../integration/git-server.ts";
import {
  BASE_IMAGE,
  buildOperatorImage,
  docker,
  E2E_LABEL,
  E2E_OWNER,
  ensureDocker,
  imageSizeMb,
  removeLeftovers,
  setupOrFailEveryTest,
  specDirectory,
  type BuiltImage,
} from "./docker-harness.ts";

// The project's Dockerfile, built and run: the image's mechanics (user, entrypoint, health check, what it contains).
// The controller running in it against the AWS emulator is controller.test.ts.

let image: BuiltImage;

setupOrFailEveryTest(async () => {
  await ensureDocker();
  await removeLeftovers();
  image = await buildOperatorImage();
  console.log(
    `e2e: built ${image.tag} on ${BASE_IMAGE} in ${image.buildSeconds.toFixed(1)} s, ${await imageSizeMb(image.tag)} MB`,
  );
});

afterAll(async () => {
  await image?.remove();
});

/** `docker run --rm` of the image under test, on the host network (the engine runs without NAT). */
async function runOnce(args: string[], options: { entrypoint?: string; specs?: string } = {}) {
  return docker([
    "run",
    "--rm",
    "--label",
    `${E2E_LABEL}=${E2E_OWNER}`,
    "--network",
    "host",
    ...(options.entrypoint === undefined ? [] : ["--entrypoint", options.entrypoint]),
    ...(options.specs === undefined ? [] : ["--volume", `${options.specs}:/specs:ro`]),
    image.tag,
    ...args,
  ]);
}

describe("the image", () => {
  it("runs the CLI as an unprivileged numeric user, `run /specs` by default, with a health check on /healthz", async () => {
    const inspect = await docker(["image", "inspect", "--format", "{{json .Config}}", image.tag]);
    const config = JSON.parse(inspect.stdout) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[];
      ExposedPorts: Record<string, unknown>;
      Healthcheck: { Test: string[] };
    };
    expect(config.User).toBe("10001:10001");
    expect(config.Entrypoint).toEqual(["node", "cmd/ecs-log-operator.ts"]);
    expect(config.Cmd).toEqual(["run", "/specs"]);
    expect(Object.keys(config.ExposedPorts)).toEqual(["9464/tcp"]);
    expect(config.Healthcheck.Test.join(" ")).toContain("/healthz");

    const id = await runOnce(["-c", "id -u; id -g"], { entrypoint: "sh" });
    expect(id.stdout.trim().split("\n")).toEqual(["10001", "10001"]);
  });

  it("answers --help with every command, exit 0", async () => {
    const help = await runOnce(["--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: ecs-log-operator COMMAND");
    for (const command of ["validate", "plan", "apply"]) expect(help.stdout).toContain(`  ${command}`);
  });

  it("holds production dependencies and sources only, and runs on the base image's Node 24", async () => {
    const listing = await runOnce(
      [
        "-c",
        [
          "command -v node",
          "node --version",
          "ls node_modules/.bin 2>/dev/null | wc -l",
          "test -e node_modules/node && echo node-package || echo no-node-package",
          "for p in vitest typescript eslint testcontainers prettier; do test -e node_modules/$p && echo dev:$p; done",
          "find . -path ./node_modules -prune -o -name '*.test.ts' -print | wc -l",
          "ls -A",
          "test -w cmd && echo writable || echo read-only",
        ].join("; "),
      ],
      { entrypoint: "sh" },
    );
    const lines = listing.stdout.trim().split("\n");
    expect(lines[0]).toBe("/usr/local/bin/node");
    expect(lines[1]).toMatch(/^v24\./);
    expect(lines).toContain("no-node-package");
    expect(lines.filter((l) => l.startsWith("dev:"))).toEqual([]);
    expect(lines).toContain("0"); // no test files
    expect(lines).toContain("read-only");
    expect(lines.join(" ")).not.toMatch(/\b(\.git|test|manifests|\.env)\b/);
  });

  it("validates a mounted spec directory as the unprivileged user", async () => {
    const specs = await specDirectory({
      "namespace.yaml": [
        "apiVersion: ecs-log-operator/v1alpha1",
        "kind: CloudMapNamespace",
        "metadata: { name: logs-namespace }",
        "spec: { name: fluentd.local, vpc: vpc-0abc1234 }",
        "",
      ].join("\n"),
      "broken.yaml": [
        "apiVersion: ecs-log-operator/v1alpha1",
        "kind: CloudMapNamespace",
        "metadata: { name: broken }",
        "spec: { name: fluentd.local }",
        "",
      ].join("\n"),
    });
    try {
      const result = await runOnce(["validate", "/specs"], { specs: specs.path });
      // One valid document, one without its vpc: exit 1, the broken one named by file.
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/broken\.yaml:\d+:\d+/);
      expect(result.stdout + result.stderr).not.toMatch(/EACCES|permission denied/i);
    } finally {
      await specs.remove();
    }
  });

  it("fetches its specs from a Git repository with the image's git, unprivileged, on a read-only root filesystem", async () => {
    const tools = await runOnce(["-c", "git --version && ssh -V 2>&1"], { entrypoint: "sh" });
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toMatch(/^git version 2\.\d+/);
    expect(tools.stdout).toMatch(/OpenSSH_\d/);

    const root = await mkdtemp(join(tmpdir(), "e2e-git-"));
    try {
      const repo = await TestRepository.create(root, "specs");
      const commit = await repo.commit(
        {
          "specs/namespace.yaml": [
            "apiVersion: ecs-log-operator/v1alpha1",
            "kind: CloudMapNamespace",
            "metadata: { name: logs-namespace }",
            "spec: { name: fluentd.local, vpc: vpc-0abc1234 }",
            "",
          ].join("\n"),
        },
        "a namespace",
      );
      // git refuses a local repository another user owns ("dubious ownership"): it is the operator's.
      await promisify(execFile)("chown", ["-R", "10001:10001", root]);
      const result = await docker([
        "run",
        "--rm",
        "--label",
        `${E2E_LABEL}=${E2E_OWNER}`,
        "--network",
        "none",
        "--read-only",
        "--tmpfs",
        "/tmp:rw,mode=1777",
        "--volume",
        `${root}:/repo:ro`,
        image.tag,
        "validate",
        "--git-url",
        "file:///repo/specs.git",
        "--git-path",
        "specs",
      ]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        `1 spec(s) in 1 file(s) are valid at file:///repo/specs.git commit ${commit} (refs/heads/main).`,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
