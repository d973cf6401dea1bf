import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Registry } from "prom-client";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from "../controllers/aws/timeouts.ts";
import type { Clock } from "../controllers/clock.ts";
import type { Logger } from "../controllers/logger.ts";
import { undeclaredEnvironment } from "../controllers/spec/environments.ts";
import {
  FileSecretSource,
  SecretsManagerSecretSource,
  type GitCredentials,
  type SecretSource,
} from "../controllers/git-source/credentials.ts";
import { GitCli } from "../controllers/git-source/git-cli.ts";
import { GitRefError, parseGitRef, type GitRefSpec } from "../controllers/git-source/git-ref.ts";
import { GitSourceMetrics } from "../controllers/git-source/git-source-metrics.ts";
import {
  GitSpecSource,
  repositoryPath,
  type RevisionCheck,
} from "../controllers/git-source/git-spec-source.ts";
import {
  GitUrlError,
  isLoopbackHost,
  parseGitUrl,
  redactUrl,
  type GitUrl,
} from "../controllers/git-source/git-url.ts";
import { GitWebhook } from "../controllers/git-source/webhook.ts";
import type { KindDefinition } from "../controllers/spec/document.ts";
import { formatDiagnostic, loadSpecDirectory, type SpecDiagnostic } from "../controllers/spec/load.ts";
import { parseDuration, UsageError, type CommandHelp } from "./cli-support.ts";
import type { PolicyStatement } from "../controllers/iam.ts";

/** The Git source's options for `validate`, `plan` and `apply` (one fetch), as `parseArgs` definitions. */
export const GIT_OPTIONS = {
  "git-url": { type: "string" },
  "git-ref": { type: "string" },
  "git-path": { type: "string" },
  "git-token-secret-arn": { type: "string" },
  "git-token-file": { type: "string" },
  "git-ssh-key-file": { type: "string" },
  "git-known-hosts-file": { type: "string" },
} as const;

/** `run`'s: the same, and the pull interval and the webhook's secret. */
export const GIT_RUN_OPTIONS = {
  ...GIT_OPTIONS,
  "git-interval": { type: "string" },
  "git-webhook-secret-file": { type: "string" },
  "git-webhook-secret-arn": { type: "string" },
} as const;

export const GIT_OPTIONS_HELP: CommandHelp["options"] = [
  [
    "--git-url URL",
    "read the specs from this Git repository instead of DIR (https://, ssh://, USER@HOST:PATH, file://)",
  ],
  ["--git-ref REF", "branch, tag or full commit id (default: the remote's default branch)"],
  ["--git-path PATH", "the spec directory inside the repository (default: its top)"],
  [
    "--git-token-secret-arn ARN",
    "HTTPS token from AWS Secrets Manager (the secret string, or its JSON `token` field)",
  ],
  ["--git-token-file FILE", "HTTPS token from a file"],
  ["--git-ssh-key-file FILE", "SSH private key for ssh:// URLs (needs --git-known-hosts-file)"],
  ["--git-known-hosts-file FILE", "the SSH host keys to trust (OpenSSH known_hosts format)"],
];

export const GIT_RUN_OPTIONS_HELP: CommandHelp["options"] = [
  ...GIT_OPTIONS_HELP,
  ["--git-interval DURATION", "how often the ref is asked for (default 1m)"],
  [
    "--git-webhook-secret-file FILE",
    "enables POST /hooks/git on the metrics port: a fetch now, for a request signed with this secret",
  ],
  ["--git-webhook-secret-arn ARN", "the same, with the secret in AWS Secrets Manager"],
];

type GitValues = Partial<Record<keyof typeof GIT_RUN_OPTIONS, string | undefined>>;

export type SecretSetting = { readonly file: string } | { readonly arn: string };

/** The Git source as the flags ask for it, checked. */
export interface GitSourceSettings {
  readonly url: GitUrl;
  readonly ref: GitRefSpec;
  /** Normalised, relative, "." for the top. */
  readonly path: string;
  readonly intervalMs: number;
  readonly credentials:
    | { readonly kind: "none" }
    | { readonly kind: "token"; readonly token: SecretSetting }
    | { readonly kind: "ssh"; readonly keyFile: string; readonly knownHostsFile: string };
  readonly webhookSecret: SecretSetting | undefined;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

/**
 * Reads and checks the Git flags: undefined without `--git-url`. Bad combinations are refused before anything starts:
 * a Git flag without --git-url, both DIR and --git-url, two token sources, a token for an SSH URL or a key for an HTTPS
 * one, an SSH key without known hosts, a token sent in the clear.
 */
export function gitSourceSettings(
  values: GitValues,
  positionals: readonly string[],
): GitSourceSettings | undefined {
  const given = (Object.keys(GIT_RUN_OPTIONS) as (keyof GitValues)[]).filter((k) => values[k] !== undefined);
  const urlText = values["git-url"];
  if (urlText === undefined) {
    const stray = given[0];
    if (stray !== undefined) throw new UsageError(`--${stray} needs --git-url`);
    return undefined;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `give a spec directory or --git-url, not both (got "${positionals[0]}" and --git-url)`,
    );
  }
  let url: GitUrl;
  let ref: GitRefSpec;
  try {
    url = parseGitUrl(urlText);
    ref = parseGitRef(values["git-ref"]);
  } catch (error) {
    if (error instanceof GitUrlError || error instanceof GitRefError) {
      throw new UsageError(`${error instanceof GitUrlError ? "--git-url" : "--git-ref"}: ${error.message}`);
    }
    throw error;
  }
  const path = specPath(values["git-path"]);
  const intervalMs = parseDuration(values["git-interval"] ?? "1m");
  if (intervalMs < 1000) throw new UsageError("--git-interval must be at least 1s");

  const tokenFile = values["git-token-file"];
  const tokenArn = values["git-token-secret-arn"];
  const keyFile = values["git-ssh-key-file"];
  const knownHosts = values["git-known-hosts-file"];
  if (tokenFile !== undefined && tokenArn !== undefined) {
    throw new UsageError("give one of --git-token-file and --git-token-secret-arn");
  }
  const token: SecretSetting | undefined =
    tokenFile !== undefined
      ? { file: tokenFile }
      : tokenArn !== undefined
        ? { arn: secretArn("--git-token-secret-arn", tokenArn) }
        : undefined;
  let credentials: GitSourceSettings["credentials"] = { kind: "none" };
  if (url.transport === "ssh") {
    if (token !== undefined)
      throw new UsageError("an ssh:// URL authenticates with --git-ssh-key-file, not a token");
    if (keyFile === undefined || knownHosts === undefined) {
      throw new UsageError(
        "an SSH URL needs --git-ssh-key-file and --git-known-hosts-file (host keys are never accepted unseen)",
      );
    }
    credentials = { kind: "ssh", keyFile, knownHostsFile: knownHosts };
  } else {
    if (keyFile !== undefined || knownHosts !== undefined) {
      throw new UsageError(
        `--git-ssh-key-file and --git-known-hosts-file are for SSH URLs, not ${url.transport}://`,
      );
    }
    if (token !== undefined) {
      if (url.transport === "file" || url.transport === "git") {
        throw new UsageError(`a ${url.transport}:// URL takes no token`);
      }
      if (url.transport === "http" && !isLoopbackHost(url.host))
        throw new UsageError("a token is never sent over plain http");
      credentials = { kind: "token", token };
    }
  }
  const webhookFile = values["git-webhook-secret-file"];
  const webhookArn = values["git-webhook-secret-arn"];
  if (webhookFile !== undefined && webhookArn !== undefined) {
    throw new UsageError("give one of --git-webhook-secret-file and --git-webhook-secret-arn");
  }
  const webhookSecret: SecretSetting | undefined =
    webhookFile !== undefined
      ? { file: webhookFile }
      : webhookArn !== undefined
        ? { arn: secretArn("--git-webhook-secret-arn", webhookArn) }
        : undefined;
  return { url, ref, path, intervalMs, credentials, webhookSecret };
}

function secretArn(flag: string, arn: string): string {
  if (!SECRET_ARN.test(arn)) {
    throw new UsageError(
      `${flag} takes a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)`,
    );
  }
  return arn;
}

function specPath(text: string | undefined): string {
  if (text === undefined || text === "" || text === "." || text === "/") return ".";
  if (text.startsWith("/"))
    throw new UsageError("--git-path is relative to the repository's top (no leading /)");
  if (/\p{Cc}/u.test(text)) throw new UsageError("--git-path must not contain control characters");
  const normalised = posix.normalize(text).replace(/\/+$/, "");
  if (normalised === ".." || normalised.startsWith("../"))
    throw new UsageError("--git-path must stay inside the repository");
  return normalised === "" ? "." : normalised;
}

/** What the Git source needs from the composition root. */
export interface GitSourceDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The process's registry: the source's metrics are registered on it. */
  readonly registry?: Registry;
  /** For Secrets Manager ARNs; built from `endpoint` (or the SDK's standard configuration) when not given. */
  readonly secretsManager?: SecretsManagerClient;
  readonly endpoint?: string | undefined;
  /** `--aws-connect-timeout` and `--aws-request-timeout`, for Secrets Manager as for every AWS client. */
  readonly connectTimeoutMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  /** Validates each revision before it replaces the applied one (see `specRevisionCheck`). */
  readonly check?: RevisionCheck;
  /** Where revisions are checked out; a fresh temp directory when not given. Removed by `close`. */
  readonly workDir?: string;
  /** Deadline of one git command. */
  readonly gitTimeoutMs?: number;
  /** The git binary (default `git` on PATH). */
  readonly git?: string;
}

/** The built source, its webhook when a secret was given, and one `close` for all of it. */
export interface BuiltGitSource {
  readonly source: GitSpecSource;
  readonly webhook: GitWebhook | undefined;
  readonly metrics: GitSourceMetrics | undefined;
  close(): Promise<void>;
}

/**
 * Builds the Git source from the parsed flags: what `run` calls (and, for one fetch, `validate`, `plan`, `apply`).
 * Nothing is fetched yet: `source.start()` does the first fetch.
 */
export async function buildGitSource(
  settings: GitSourceSettings,
  deps: GitSourceDeps,
): Promise<BuiltGitSource> {
  const workDir = deps.workDir ?? (await mkdtemp(join(tmpdir(), "ecs-log-operator-git-")));
  // Loaded only when a Git source is built: `validate DIR` and the other offline commands import this module's
  // flags, and must not load the SDK.
  const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  const clients = new Map<string, SecretsManagerClient>();
  const secretsManagerFor = (arn: string): SecretsManagerClient => {
    if (deps.secretsManager !== undefined) return deps.secretsManager;
    // A secret is read in its own region, whatever the operator's.
    const region = arn.split(":")[3] ?? "";
    let client = clients.get(region);
    if (client === undefined) {
      client = new SecretsManagerClient({
        region,
        ...(deps.endpoint !== undefined ? { endpoint: deps.endpoint } : {}),
        maxAttempts: 4,
        // Without these the SDK waits for a hung endpoint for ever, and the fetch that needs the token with it.
        requestHandler: {
          connectionTimeout: deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          requestTimeout: deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
          throwOnRequestTimeout: true,
        },
      });
      clients.set(region, client);
    }
    return client;
  };
  const secretOf = (s: SecretSetting, what: string): SecretSource =>
    "file" in s
      ? new FileSecretSource(s.file, `${what} file`)
      : new SecretsManagerSecretSource({
          client: secretsManagerFor(s.arn),
          arn: s.arn,
          clock: deps.clock,
          what,
        });
  const c = settings.credentials;
  const credentials: GitCredentials =
    c.kind === "token"
      ? { kind: "token", token: secretOf(c.token, "token") }
      : c.kind === "ssh"
        ? c
        : { kind: "none" };
  const metrics =
    deps.registry !== undefined ? new GitSourceMetrics(deps.registry, { clock: deps.clock }) : undefined;
  const logger = deps.logger.child({ component: "git-source" });
  const source = new GitSpecSource({
    url: settings.url,
    ref: settings.ref,
    path: settings.path,
    intervalMs: settings.intervalMs,
    remote: new GitCli({
      url: settings.url,
      ref: settings.ref,
      credentials,
      stateDir: join(workDir, "git"),
      timeoutMs: deps.gitTimeoutMs,
      git: deps.git,
    }),
    workDir,
    check: deps.check,
    clock: deps.clock,
    logger,
    metrics,
  });
  const webhook =
    settings.webhookSecret === undefined
      ? undefined
      : new GitWebhook({
          secret: secretOf(settings.webhookSecret, "webhook secret"),
          fetch: () => void source.refresh("webhook"),
          clock: deps.clock,
          logger,
          metrics,
        });
  return {
    source,
    webhook,
    metrics,
    async close() {
      webhook?.close();
      await source.close();
      for (const client of clients.values()) client.destroy();
      if (deps.workDir === undefined) await rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * The check `run` gives the source: a revision is applied only when its path holds at least one spec, every spec
 * validates, and `--environment` (when given) is one its specs declare. Otherwise the last good revision stays, and the reason names each problem as `FILE:LINE:COL` relative to
 * the repository. An emptied path is refused too: never read as "delete everything".
 */
export function specRevisionCheck(
  kinds: readonly KindDefinition[],
  environment: string | undefined,
): RevisionCheck {
  return async (snapshot) => {
    const loaded = await loadSpecDirectory(snapshot.dir, kinds, { environment });
    const shown = (d: SpecDiagnostic): string =>
      formatDiagnostic({ ...d, file: repositoryPath(snapshot, d.file) });
    if (loaded.diagnostics.length > 0) {
      const first = loaded.diagnostics.slice(0, 5).map(shown);
      const more = loaded.diagnostics.length > 5 ? `; and ${loaded.diagnostics.length - 5} more` : "";
      return {
        reason: "InvalidSpecs",
        message: `${loaded.diagnostics.length} problem(s): ${first.join("; ")}${more}`,
      };
    }
    // An --environment no spec of the revision declares (an overlay renamed, say) would ship the base specs where
    // that environment's were meant: refused here, where the source's status names the revision kept and why.
    const undeclared = undeclaredEnvironment(
      environment,
      loaded.environments,
      `"${relative(snapshot.root, snapshot.dir) || "."}"`,
    );
    if (undeclared !== undefined) return { reason: "UndeclaredEnvironment", message: undeclared };
    if (loaded.documents.length === 0) {
      return {
        reason: "NoSpecs",
        message: `no spec documents under "${relative(snapshot.root, snapshot.dir) || "."}" (an emptied path is never read as a deletion)`,
      };
    }
    return undefined;
  };
}

/** The statements the task role needs for the Git source's Secrets Manager secrets (none for files and SSH). */
export function gitSourceIamStatements(settings: GitSourceSettings): PolicyStatement[] {
  const token = settings.credentials.kind === "token" ? settings.credentials.token : undefined;
  return gitSecretStatements(
    [token, settings.webhookSecret].flatMap((s) => (s !== undefined && "arn" in s ? [s.arn] : [])),
  );
}

/**
 * `iam-policy`'s reading of the Git flags: the source, when --git-url is given (its specs are then fetched once), and
 * the statements `run` with these flags needs. Without --git-url only the secrets' ARNs may be given, beside DIR (a
 * checkout of the spec repository): the policy is then the one for the `run --git-url` that will read them.
 */
export function gitPolicySettings(
  values: GitValues,
  positionals: readonly string[],
): { readonly source: GitSourceSettings | undefined; readonly statements: PolicyStatement[] } {
  if (values["git-url"] !== undefined) {
    const source = gitSourceSettings(values, positionals);
    return { source, statements: source === undefined ? [] : gitSourceIamStatements(source) };
  }
  const tokenArn = values["git-token-secret-arn"];
  const webhookArn = values["git-webhook-secret-arn"];
  // Any other Git flag without --git-url is refused, as everywhere.
  gitSourceSettings(
    { ...values, "git-token-secret-arn": undefined, "git-webhook-secret-arn": undefined },
    [],
  );
  const arns = [
    tokenArn !== undefined ? secretArn("--git-token-secret-arn", tokenArn) : undefined,
    webhookArn !== undefined ? secretArn("--git-webhook-secret-arn", webhookArn) : undefined,
  ].filter((a): a is string => a !== undefined);
  return { source: undefined, statements: gitSecretStatements(arns) };
}

function gitSecretStatements(arns: readonly string[]): PolicyStatement[] {
  if (arns.length === 0) return [];
  return [
    {
      Sid: "ReadGitSourceSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: [...new Set(arns.map(secretResource))].sort(),
    },
  ];
}

/**
 * The policy resource of a secret given by ARN. Secrets Manager reads a name that ends in a hyphen and six characters
 * as a complete ARN (the suffix it adds at creation); any other ARN is partial, and matches the secret's real ARN only
 * with the suffix as a wildcard.
 */
function secretResource(arn: string): string {
  const name = arn.slice(arn.indexOf(":secret:") + ":secret:".length);
  return /-[A-Za-z0-9]{6}$/.test(name) ? arn : `${arn}-??????`;
}

/** One checked-out revision for a one-shot command, and the lines to tell the user which. */
export interface FetchedSpecs {
  readonly dir: string;
  /** Maps a spec file's path to what the user should read (repository-relative for Git). */
  readonly display: (file: string) => string;
  /** `commit SHA (REF) of URL`, or undefined for a directory. */
  readonly revision: { readonly commit: string; readonly ref: string; readonly url: string } | undefined;
}

/**
 * The spec directory of a one-shot command: DIR as given, or one fetch of the Git source into a temp directory that
 * is removed after `use` settles. A fetch that fails is a one-sentence error (thrown as `GitSourceError`).
 */
export async function withSpecs<T>(
  dir: string | undefined,
  settings: GitSourceSettings | undefined,
  deps: GitSourceDeps,
  use: (specs: FetchedSpecs) => Promise<T>,
): Promise<T> {
  if (settings === undefined) {
    if (dir === undefined) throw new UsageError("give a spec directory, or --git-url");
    return use({ dir, display: (f) => f, revision: undefined });
  }
  const built = await buildGitSource(settings, { ...deps, check: undefined });
  try {
    await built.source.start();
    return await built.source.read((s) =>
      use({
        dir: s.dir,
        display: (f) => repositoryPath(s, f),
        revision: { commit: s.revision, ref: s.ref, url: redactUrl(settings.url.text) },
      }),
    );
  } finally {
    await built.close();
  }
}

/** How a one-shot command names its specs: DIR, or `URL at COMMIT (REF)`. */
export function specsLabel(specs: FetchedSpecs, dir: string | undefined): string {
  const r = specs.revision;
  return r === undefined ? (dir ?? specs.dir) : `${r.url} commit ${r.commit} (${r.ref})`;
}

/**
 * A command's Git example that runs as printed from a clone of this repository (the clone is the Git remote, read
 * through `file://`), for `--help`; `remote` is the same command against a real remote, shown in the note.
 */
export function gitExamples(command: string, remote: string): { example: string; note: string } {
  return {
    example: `npx ecs-log-operator ${command} --git-url "file://$PWD" --git-path manifests/examples/kinds`,
    note: `From a Git remote (the example above reads this clone's own repository):\n  ${remote}`,
  };
}
