import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ListNamespacesCommand } from "@aws-sdk/client-servicediscovery";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Output } from "../../cmd/cli-support.ts";
import { AwsScene } from "../../cmd/demo/scene.ts";
import { main } from "../../cmd/ecs-log-operator.ts";
import type { AwsClients } from "../../controllers/aws/clients.ts";
import type { MotoEmulator } from "../moto-emulator.ts";
import { ManualClock } from "../../controllers/clock.ts";
import { SecretsManagerSecretSource } from "../../controllers/git-source/credentials.ts";
import { GitHttpServer, TestRepository } from "./git-server.ts";
import { startEmulator } from "./harness.ts";

// `validate`, `plan` and `apply` on a Git source, against the AWS emulator: the repository is served by
// `git http-backend` on loopback behind a token check; the token comes from the emulator's Secrets Manager.

const TOKEN = "ghp_cli0123456789abcdefghijklmnopqrstuv";
let moto: MotoEmulator;
let clients: AwsClients;
let server: GitHttpServer;
let repo: TestRepository;
let tokenArn: string;
let vpc: string;
/** A second VPC: the emulator refuses two private namespaces in one VPC (ConflictingDomainExists). */
let vpc2: string;
let scratch: string;
let repos = 0;
let repoName = "";

beforeAll(async () => {
  ({ moto, clients } = await startEmulator({ region: "us-east-1" }));
  Object.assign(process.env, moto.env("us-east-1"));
  server = await GitHttpServer.start({ token: TOKEN });
  scratch = mkdtempSync(join(tmpdir(), "git-cli-"));
});

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  vpc = (await new AwsScene(clients).network()).vpcId;
  vpc2 = (await new AwsScene(clients).network("10.1.0.0/16", "10.1.1.0/24")).vpcId;
  const sm = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.endpoint });
  // The console's key/value form: a JSON object whose `token` field is the token.
  const secret = await sm.send(
    new CreateSecretCommand({ Name: "ecs-specs-token", SecretString: JSON.stringify({ token: TOKEN }) }),
  );
  sm.destroy();
  tokenArn = secret.ARN ?? "";
  repoName = `cli-${++repos}`;
  repo = await TestRepository.create(server.root, repoName);
});

const namespace = (name: string, description: string, inVpc = vpc) =>
  `apiVersion: ecs-log-operator/v1alpha1\nkind: CloudMapNamespace\nmetadata: { name: ${name} }\nspec:\n  name: ${name}.local\n  vpc: ${inVpc}\n  description: ${description}\n`;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t), color: false };
  const code = await main(argv, io);
  return { code, out, err };
}

const git = () => [
  "--git-url",
  server.url(repoName),
  "--git-path",
  "specs",
  "--git-token-secret-arn",
  tokenArn,
];

async function namespaces(): Promise<{ name: string; description: string | undefined }[]> {
  const out = await clients.serviceDiscovery.send(new ListNamespacesCommand({}));
  return (out.Namespaces ?? [])
    .map((n) => ({ name: n.Name ?? "", description: n.Description }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe("plan and apply --git-url against the emulator", () => {
  it("converge AWS to the repository's specs, print the commit, and follow a push", async () => {
    const first = await repo.commit(
      { "specs/logs.yaml": namespace("logs", "log aggregation") },
      "logs namespace",
    );
    const planned = await cli("plan", ...git());
    expect(planned.code).toBe(2);
    expect(planned.err).toContain(`Fetched ${server.url(repoName)} commit ${first} (refs/heads/main).`);
    expect(planned.out).toContain("logs.local");
    expect(planned.out).toContain(`Planned commit ${first} (refs/heads/main).`);

    const applied = await cli("apply", ...git());
    expect(applied.err).toContain(`commit ${first}`);
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(`Applied commit ${first} (refs/heads/main).`);
    expect(await namespaces()).toEqual([{ name: "logs.local", description: "log aggregation" }]);
    expect((await cli("plan", ...git())).code).toBe(0);

    const second = await repo.commit(
      { "specs/audit.yaml": namespace("audit", "audit trail", vpc2) },
      "audit namespace",
    );
    const json = await cli("plan", ...git(), "--output", "json");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toMatchObject({
      source: { commit: second, ref: "refs/heads/main", url: server.url(repoName) },
    });
    expect((await cli("apply", ...git())).code).toBe(0);
    expect(await namespaces()).toEqual([
      { name: "audit.local", description: "audit trail" },
      { name: "logs.local", description: "log aggregation" },
    ]);
    // The token reached the server from Secrets Manager.
    expect(server.authorizations.at(-1)).toBe(
      `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`,
    );
  });

  it("leaves nothing of the checkout behind", async () => {
    await repo.commit({ "specs/logs.yaml": namespace("logs", "log aggregation") }, "logs namespace");
    const tmp = mkdtempSync(join(scratch, "tmp-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      expect((await cli("validate", ...git())).code).toBe(0);
      expect((await cli("apply", "--git-url", "http://127.0.0.1:9/specs.git")).code).toBe(1);
    } finally {
      // Assigning undefined would set the string "undefined".
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("validate --git-url names an invalid spec as the repository does, and apply skips it, deleting nothing", async () => {
    await repo.commit({ "specs/logs.yaml": namespace("logs", "log aggregation") }, "logs namespace");
    expect((await cli("apply", ...git())).code).toBe(0);
    await repo.commit(
      { "specs/logs.yaml": null, "specs/audit.yaml": namespace("audit", "audit").replace(vpc, "not-a-vpc") },
      "a broken spec, and the old one removed",
    );
    const validated = await cli("validate", ...git());
    expect(validated.code).toBe(1);
    expect(validated.err).toMatch(/^specs\/audit\.yaml:6:\d+: /m);
    expect(validated.err).not.toContain(tmpdir());
    const applied = await cli("apply", ...git());
    expect(applied.code).toBe(1);
    expect(applied.err).toMatch(/^specs\/audit\.yaml:6:\d+: /m);
    expect(applied.err).toContain("nothing is deleted this run");
    expect(await namespaces()).toEqual([{ name: "logs.local", description: "log aggregation" }]);
  });

  // Each row: the flags that change, the sentence expected on stderr. Exit 1, nothing in AWS changes.
  it.each([
    [
      "an unreachable URL",
      ["--git-url", "http://127.0.0.1:9/specs.git"],
      /^ecs-log-operator apply: cannot reach http:\/\/127\.0\.0\.1:9\/specs\.git: /,
    ],
    [
      "a ref that does not exist",
      ["--git-ref", "release-9"],
      /no branch or tag "release-9" in the repository/,
    ],
    [
      "a path missing in the repository",
      ["--git-path", "prod"],
      /at [0-9a-f]{40}: the path "prod" does not exist in this commit/,
    ],
    [
      "a token file that cannot be read",
      ["--git-token-file", "/nonexistent/token"],
      /^ecs-log-operator apply: cannot read the token file \/nonexistent\/token: no such file$/m,
    ],
    [
      "a token secret that does not exist",
      ["--git-token-secret-arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"],
      /cannot read the token secret arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf: .*ResourceNotFoundException/,
    ],
  ])("apply with %s fails with one sentence and changes nothing", async (_label, change, message) => {
    await repo.commit({ "specs/logs.yaml": namespace("logs", "log aggregation") }, "logs namespace");
    const args = git();
    for (let i = 0; i < change.length; i += 2) {
      const flag = change[i] ?? "";
      const at = args.indexOf(flag);
      if (flag === "--git-token-file") args.splice(args.indexOf("--git-token-secret-arn"), 2);
      if (at >= 0) args.splice(at, 2);
      args.push(flag, change[i + 1] ?? "");
    }
    const result = await cli("apply", ...args);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(message);
    expect(result.err.trim().split("\n")).toHaveLength(1);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(result.err + result.out).not.toContain(TOKEN);
    expect(await namespaces()).toEqual([]);
  });
});

describe("the token file", () => {
  it("works as the Secrets Manager secret does", async () => {
    const file = join(scratch, "token");
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    await repo.commit({ "specs/logs.yaml": namespace("logs", "log aggregation") }, "logs namespace");
    const result = await cli(
      "validate",
      "--git-url",
      server.url(repoName),
      "--git-path",
      "specs",
      "--git-token-file",
      file,
    );
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^1 spec\(s\) in 1 file\(s\) are valid at http:\/\/127\.0\.0\.1:\d+\/cli-\d+\.git commit [0-9a-f]{40} \(refs\/heads\/main\)\.$/m,
    );
  });
});

describe("a token in Secrets Manager", () => {
  it("is read once per five minutes, again after the remote refused it, and a plain secret string works", async () => {
    const sm = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.endpoint });
    try {
      const created = await sm.send(
        new CreateSecretCommand({ Name: "plain-token", SecretString: "ghp_one\n" }),
      );
      const clock = new ManualClock(0);
      const source = new SecretsManagerSecretSource({ client: sm, arn: created.ARN ?? "", clock });
      expect(await source.read()).toBe("ghp_one");
      await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "ghp_two" }));
      expect(await source.read()).toBe("ghp_one");
      await clock.advance(5 * 60_000);
      expect(await source.read()).toBe("ghp_two");
      await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "ghp_three" }));
      source.invalidate();
      expect(await source.read()).toBe("ghp_three");
      const json = await sm.send(
        new CreateSecretCommand({ Name: "json-no-token", SecretString: '{"password":"x"}' }),
      );
      await expect(
        new SecretsManagerSecretSource({ client: sm, arn: json.ARN ?? "" }).read(),
      ).rejects.toThrow(/holds a JSON object without a string "token" field/);
    } finally {
      sm.destroy();
    }
  });
});
