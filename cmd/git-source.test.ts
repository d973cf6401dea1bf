import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Output } from "./cli-support.ts";
import { main } from "./ecs-log-operator.ts";
import {
  gitPolicySettings,
  gitSourceIamStatements,
  gitSourceSettings,
  specRevisionCheck,
} from "./git-source.ts";
import { allKinds } from "./kinds.ts";

function capture(): Output & { text: () => string } {
  let out = "";
  return { out: (t) => (out += t), err: (t) => (out += t), color: false, text: () => out };
}

const URL = "https://github.com/acme/ecs-specs.git";
const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs-specs-token-AbCdEf";

describe("Git flags", () => {
  it("default to the remote's default branch, the repository's top and a 1m interval", () => {
    expect(gitSourceSettings({ "git-url": URL }, [])).toMatchObject({
      url: { text: URL, transport: "https" },
      ref: { kind: "default" },
      path: ".",
      intervalMs: 60_000,
      credentials: { kind: "none" },
      webhookSecret: undefined,
    });
    expect(gitSourceSettings({}, ["specs/"])).toBeUndefined();
  });

  it("read a ref, a path, an interval, a token and a webhook secret", () => {
    expect(
      gitSourceSettings(
        {
          "git-url": URL,
          "git-ref": "v1.2.0",
          "git-path": "./prod//ecs/",
          "git-interval": "30s",
          "git-token-secret-arn": ARN,
          "git-webhook-secret-file": "/run/secrets/hook",
        },
        [],
      ),
    ).toMatchObject({
      ref: { kind: "name", name: "v1.2.0" },
      path: "prod/ecs",
      intervalMs: 30_000,
      credentials: { kind: "token", token: { arn: ARN } },
      webhookSecret: { file: "/run/secrets/hook" },
    });
    expect(
      gitSourceSettings(
        { "git-url": "git@github.com:acme/s.git", "git-ssh-key-file": "/k", "git-known-hosts-file": "/kh" },
        [],
      ),
    ).toMatchObject({ credentials: { kind: "ssh", keyFile: "/k", knownHostsFile: "/kh" } });
  });

  // Each row: the arguments after the command, and the sentence expected. Refused before anything is fetched.
  const ssh = ["--git-url", "git@github.com:acme/s.git"];
  it.each([
    ["validate", ["--git-ref", "main"], "--git-ref needs --git-url"],
    [
      "plan",
      ["specs/", "--git-url", URL],
      'give a spec directory or --git-url, not both (got "specs/" and --git-url)',
    ],
    [
      "apply",
      ["--git-url", "https://bot:ghp_x@github.com/a.git"],
      "--git-url: the Git URL carries a password or token",
    ],
    [
      "validate",
      ["--git-url", "http://git.example.com/a.git"],
      "--git-url: http:// sends the specs unencrypted",
    ],
    [
      "validate",
      ["--git-url", URL, "--git-ref=--upload-pack=x"],
      '--git-ref: "--upload-pack=x" is not a valid Git branch, tag or ref name',
    ],
    [
      "validate",
      ["--git-url", URL, "--git-ref", "a..b"],
      '--git-ref: "a..b" is not a valid Git branch, tag or ref name',
    ],
    ["validate", ["--git-url", URL, "--git-path", "/etc"], "--git-path is relative to the repository's top"],
    [
      "validate",
      ["--git-url", URL, "--git-path", "specs/../../x"],
      "--git-path must stay inside the repository",
    ],
    [
      "apply",
      ["--git-url", URL, "--git-token-file", "/t", "--git-token-secret-arn", ARN],
      "give one of --git-token-file and --git-token-secret-arn",
    ],
    [
      "apply",
      ["--git-url", URL, "--git-token-secret-arn", "my-token"],
      "--git-token-secret-arn takes a Secrets Manager secret ARN",
    ],
    [
      "plan",
      [...ssh, "--git-token-file", "/t"],
      "an ssh:// URL authenticates with --git-ssh-key-file, not a token",
    ],
    [
      "plan",
      [...ssh, "--git-ssh-key-file", "/k"],
      "an SSH URL needs --git-ssh-key-file and --git-known-hosts-file",
    ],
    [
      "plan",
      [...ssh, "--git-known-hosts-file", "/kh"],
      "an SSH URL needs --git-ssh-key-file and --git-known-hosts-file",
    ],
    [
      "plan",
      ["--git-url", URL, "--git-ssh-key-file", "/k"],
      "--git-ssh-key-file and --git-known-hosts-file are for SSH URLs",
    ],
    [
      "plan",
      ["--git-url", "file:///srv/specs.git", "--git-token-file", "/t"],
      "a file:// URL takes no token",
    ],
    ["validate", ["--git-url", URL, "--git-interval", "1m"], "unknown option --git-interval"],
    ["run", ["specs/", "--git-url", URL], "give a spec directory or --git-url, not both"],
    ["run", ["--git-ref", "main"], "--git-ref needs --git-url"],
    ["run", ["--git-url", URL, "--git-interval", "10ms"], "--git-interval must be at least 1s"],
    [
      "run",
      ["--git-url", URL, "--git-webhook-secret-file", "/s", "--git-webhook-secret-arn", ARN],
      "give one of --git-webhook-secret-file and --git-webhook-secret-arn",
    ],
    ["run", [], "run takes one spec directory (or --git-url)"],
    ["iam-policy", ["specs/", "--git-path", "prod"], "--git-path needs --git-url"],
  ])("%s %j is refused: %s", async (command, args, message) => {
    const io = capture();
    expect(await main([command, ...args], io)).toBe(1);
    expect(io.text()).toContain(message);
    expect(io.text()).toContain(`See \`ecs-log-operator ${command} --help\``);
  });

  it("the interval is at least a second", () => {
    expect(() => gitSourceSettings({ "git-url": URL, "git-interval": "500ms" }, [])).toThrow(
      "--git-interval must be at least 1s",
    );
  });

  it.each(["validate", "plan", "apply", "run", "iam-policy"])(
    "%s --help shows the Git flags with an example",
    async (command) => {
      const io = capture();
      expect(await main([command, "--help"], io)).toBe(0);
      expect(io.text()).toContain("--git-url URL");
      expect(io.text()).toContain("--git-known-hosts-file FILE");
      expect(io.text()).toMatch(/Examples:[\s\S]*--git-url/);
    },
  );

  it("grant GetSecretValue on the secrets given by ARN (a partial ARN with the suffix as a wildcard), and nothing for files", () => {
    const partial = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:git/webhook";
    const settings = gitSourceSettings(
      { "git-url": URL, "git-token-secret-arn": ARN, "git-webhook-secret-arn": partial },
      [],
    );
    expect(settings && gitSourceIamStatements(settings)).toEqual([
      {
        Sid: "ReadGitSourceSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [ARN, `${partial}-??????`],
      },
    ]);
    const files = gitSourceSettings({ "git-url": URL, "git-token-file": "/t" }, []);
    expect(files && gitSourceIamStatements(files)).toEqual([]);
  });
});

describe("gitPolicySettings (iam-policy's Git flags)", () => {
  it("takes the source with --git-url, and with DIR only the secrets' ARNs", () => {
    const withUrl = gitPolicySettings({ "git-url": URL, "git-token-secret-arn": ARN }, []);
    expect(withUrl.source?.url.text).toBe(URL);
    expect(withUrl.statements.flatMap((s) => s.Resource)).toEqual([ARN]);
    const withDir = gitPolicySettings({ "git-token-secret-arn": ARN, "git-webhook-secret-arn": ARN }, [
      "specs",
    ]);
    expect(withDir.source).toBeUndefined();
    expect(withDir.statements.flatMap((s) => s.Resource)).toEqual([ARN]);
    expect(gitPolicySettings({}, ["specs"])).toEqual({ source: undefined, statements: [] });
  });

  it.each([
    [{ "git-ref": "main" }, "--git-ref needs --git-url"],
    [{ "git-token-file": "/t" }, "--git-token-file needs --git-url"],
    [
      { "git-token-secret-arn": "ecs-specs-token" },
      "--git-token-secret-arn takes a Secrets Manager secret ARN",
    ],
    [{ "git-url": URL }, "give a spec directory or --git-url, not both"],
  ])("refuses %j", (values, message) => {
    expect(() => gitPolicySettings(values, ["specs"])).toThrow(message);
  });
});

describe("specRevisionCheck", () => {
  let root = "";
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const check = specRevisionCheck(allKinds(), undefined);
  const revision = (files: Record<string, string>) => {
    root = mkdtempSync(join(tmpdir(), "revision-"));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return {
      root,
      dir: join(root, "specs"),
      revision: "1".repeat(40),
      ref: "refs/heads/main",
      fetchedAt: new Date(0),
    };
  };
  const namespace = (vpc: string) =>
    `apiVersion: ecs-log-operator/v1alpha1\nkind: CloudMapNamespace\nmetadata: { name: logs }\nspec: { name: logs.local, vpc: ${vpc} }\n`;

  it("accepts a revision whose specs all validate", async () => {
    expect(
      await check(revision({ "specs/ns.yaml": namespace("vpc-0abc1234") }), AbortSignal.timeout(10_000)),
    ).toBeUndefined();
  });

  it("refuses one with an invalid spec, naming it as the repository does", async () => {
    const result = await check(
      revision({ "specs/ns.yaml": namespace("not-a-vpc") }),
      AbortSignal.timeout(10_000),
    );
    expect(result?.reason).toBe("InvalidSpecs");
    expect(result?.message).toMatch(/^1 problem\(s\): specs\/ns\.yaml:4:\d+: /);
  });

  it("refuses a revision whose specs do not declare the --environment asked for", async () => {
    const seed = readFileSync("manifests/examples/seeds/003-firelens-datadog/gaze-heatmap.yaml", "utf8");
    // The seed declares one overlay, `development`.
    const overlaid = (env: string) => seed.replace("    development:\n", `    ${env}:\n`);
    const prod = specRevisionCheck(allKinds(), "development");
    expect(
      await prod(revision({ "specs/app.yaml": overlaid("development") }), AbortSignal.timeout(10_000)),
    ).toBeUndefined();
    // The overlay renamed in this revision: applying it would ship the base specs.
    expect(
      await prod(revision({ "specs/app.yaml": overlaid("develop") }), AbortSignal.timeout(10_000)),
    ).toEqual({
      reason: "UndeclaredEnvironment",
      message: '--environment development: no spec under "specs" declares it (they declare: develop)',
    });
  });

  it("refuses an emptied path: it is never read as a deletion", async () => {
    const result = await check(
      revision({ "specs/README.md": "moved to another repository\n" }),
      AbortSignal.timeout(10_000),
    );
    expect(result).toEqual({
      reason: "NoSpecs",
      message: 'no spec documents under "specs" (an emptied path is never read as a deletion)',
    });
  });
});
