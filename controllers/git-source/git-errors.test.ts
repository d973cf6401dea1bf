import { describe, expect, it } from "vitest";
import { classifyGitStderr, gitStderrSummary } from "./git-errors.ts";

// Stderr as git 2.39 and OpenSSH 9.2 print it (LC_ALL=C), captured from the integration tests' servers.
const SSH_TAIL =
  "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";

describe("classifyGitStderr and gitStderrSummary", () => {
  it.each([
    [
      "fatal: unable to access 'http://127.0.0.1:1/specs.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n",
      "Unreachable",
      "unable to access 'http://127.0.0.1:1/specs.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server",
    ],
    [
      "fatal: unable to access 'https://nosuch.invalid/x.git/': Could not resolve host: nosuch.invalid\n",
      "Unreachable",
      "unable to access 'https://nosuch.invalid/x.git/': Could not resolve host: nosuch.invalid",
    ],
    [
      "ssh: connect to host 127.0.0.1 port 1: Connection refused\n" + SSH_TAIL,
      "Unreachable",
      "ssh: connect to host 127.0.0.1 port 1: Connection refused",
    ],
    [
      "fatal: Authentication failed for 'http://127.0.0.1:5/specs.git/'\n",
      "AuthenticationFailed",
      "Authentication failed for 'http://127.0.0.1:5/specs.git/'",
    ],
    [
      "fatal: could not read Username for 'http://127.0.0.1:5': terminal prompts disabled\n",
      "AuthenticationFailed",
      "could not read Username for 'http://127.0.0.1:5': terminal prompts disabled",
    ],
    [
      "root@127.0.0.1: Permission denied (publickey).\n" + SSH_TAIL,
      "AuthenticationFailed",
      "root@127.0.0.1: Permission denied (publickey).",
    ],
    [
      "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n" +
        SSH_TAIL,
      "HostKeyVerificationFailed",
      "Host key verification failed.",
    ],
    [
      "fatal: repository 'http://127.0.0.1:5/nope.git/' not found\n",
      "RepositoryNotFound",
      "repository 'http://127.0.0.1:5/nope.git/' not found",
    ],
    [
      "fatal: couldn't find remote ref refs/heads/gone\n",
      "RefNotFound",
      "couldn't find remote ref refs/heads/gone",
    ],
    [
      "error: something new\nfatal: the remote end hung up unexpectedly\n",
      "FetchFailed",
      "the remote end hung up unexpectedly",
    ],
  ])("%j", (stderr, reason, summary) => {
    expect(classifyGitStderr(stderr)).toBe(reason);
    expect(gitStderrSummary(stderr)).toBe(summary);
  });
});
