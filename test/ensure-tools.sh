#!/usr/bin/env bash
# Installs the real peers the test suite talks to, where they are missing: Debian's prometheus (promtool and a real
# Prometheus server that scrapes the operator), git (the Git source and `git http-backend`, the tests' Git server)
# and OpenSSH (the client the Git source uses for ssh:// URLs, and sshd as the tests' SSH Git server on loopback).
# The AWS emulator (moto_server) comes from Python's packages and is only checked. Idempotent: does nothing on a
# machine that has everything.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v git >/dev/null 2>&1 || missing+=(git)
[ -x /usr/lib/git-core/git-http-backend ] || missing+=(git)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)

if [ ${#missing[@]} -gt 0 ]; then
  packages="$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: installing ${packages}from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The tests start their own sshd on a loopback port; the package must not start the system's on port 22. A
    # policy-rc.d that says "no" (exit 101) keeps maintainer scripts from starting services; one already there is
    # left as it is.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy"
      chmod 0755 "$policy"
      trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086 # one word a package
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
  else
    echo "ensure-tools: the tests need Debian's ${packages}packages; install them and retry." >&2
    exit 1
  fi
fi

if ! command -v moto_server >/dev/null 2>&1; then
  echo "ensure-tools: the integration tests need moto_server: pip install 'moto[server]'" >&2
  exit 1
fi
