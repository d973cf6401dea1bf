#!/usr/bin/env bash
# Installs the real peers the test suite talks to, where they are missing: Debian's prometheus (promtool and a real
# Prometheus server that scrapes the operator). The AWS emulator (moto_server) comes from Python's packages and is
# only checked. Idempotent: does nothing on a machine that has everything.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: installing ${missing[*]} from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "ensure-tools: the tests need Debian's 'prometheus' package (promtool, prometheus); install it and retry." >&2
    exit 1
  fi
fi

if ! command -v moto_server >/dev/null 2>&1; then
  echo "ensure-tools: the integration tests need moto_server: pip install 'moto[server]'" >&2
  exit 1
fi

# Terraform with the hashicorp/aws provider in an offline plugin mirror: test/integration/terraform-module.test.ts
# applies manifests/deploy/terraform/ with it (and the benchmark compares against it).
if ! command -v terraform >/dev/null 2>&1 || [ ! -d "${TF_PLUGIN_MIRROR:-/opt/tf-plugins}/registry.terraform.io/hashicorp/aws" ]; then
  echo "ensure-tools: the integration tests need terraform and the hashicorp/aws provider in a filesystem mirror at" \
    "${TF_PLUGIN_MIRROR:-/opt/tf-plugins} (set TF_PLUGIN_MIRROR to another path)" >&2
  exit 1
fi
