/**
 * Why a fetch failed (the remote, the credentials or the transfer), as `/status`, logs and the failures counter name
 * it. The last good revision stays applied whatever the reason.
 */
export type GitFailureReason =
  | "Unreachable"
  | "AuthenticationFailed"
  | "HostKeyVerificationFailed"
  | "RepositoryNotFound"
  | "RefNotFound"
  | "CredentialsUnreadable"
  | "Timeout"
  | "FetchFailed";

/** Why a fetched revision was not applied: the remote answered, its content is refused. */
export type RevisionRejectionReason =
  "PathNotFound" | "NoSpecs" | "InvalidSpecs" | "UnsafeSymlink" | "UndeclaredEnvironment";

/** A failure of the Git source: one sentence, never a secret, never a stack trace. */
export class GitSourceError extends Error {
  override readonly name = "GitSourceError";
  readonly reason: GitFailureReason | RevisionRejectionReason;

  constructor(
    reason: GitFailureReason | RevisionRejectionReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = reason;
  }
}

// Messages as git 2.39 and OpenSSH 9 print them with LC_ALL=C; the first match wins.
const PATTERNS: readonly [RegExp, GitFailureReason][] = [
  [
    /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i,
    "HostKeyVerificationFailed",
  ],
  [
    /Authentication failed|Permission denied \(|could not read (Username|Password)|The requested URL returned error: (401|403)|Invalid username or password|HTTP Basic: Access denied/i,
    "AuthenticationFailed",
  ],
  [
    /repository '.*' not found|does not appear to be a git repository|The requested URL returned error: 404|Repository not found|not a git repository|No such file or directory/i,
    "RepositoryNotFound",
  ],
  [/couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i, "RefNotFound"],
  [
    /Could not resolve host|Connection refused|Failed to connect|Connection timed out|Network is unreachable|No route to host|Connection reset|Could not resolve hostname|Empty reply from server|connect to host|SSL|certificate|early EOF|unexpected disconnect|Operation timed out/i,
    "Unreachable",
  ],
];

/** The reason a failed git command names in its stderr. */
export function classifyGitStderr(stderr: string): GitFailureReason {
  for (const [pattern, reason] of PATTERNS) if (pattern.test(stderr)) return reason;
  return "FetchFailed";
}

/**
 * The one line of git's stderr worth showing: the last `fatal:` or `error:` line that says more than "Could not read
 * from remote repository" (SSH's own line above it is the cause), else the last line.
 */
export function gitStderrSummary(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(
      (l) =>
        l !== "" &&
        !/^(hint:|@@@|Please make sure|and the repository exists|remote: Counting|remote: Compressing)/.test(
          l,
        ),
    );
  const specific = (l: string): boolean =>
    /Host key verification failed|Permission denied|Could not resolve hostname|connect to host|Connection refused/i.test(
      l,
    );
  const sshLine = lines.find(specific);
  const fatal = [...lines]
    .reverse()
    .find((l) => /^(fatal|error):/.test(l) && !/Could not read from remote repository/.test(l));
  const line = fatal ?? sshLine ?? lines.at(-1) ?? "no output";
  return line.replace(/^(fatal|error): /, "").slice(0, 300);
}
