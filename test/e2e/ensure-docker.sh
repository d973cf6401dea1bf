#!/usr/bin/env bash
# Makes a Docker engine and the e2e base image available, for test/e2e/ (called by docker-harness.ts).
#
#   ensure-docker.sh BASE_IMAGE_TAG
#
# 1. Engine: where `docker info` fails, installs Debian's docker.io (apt-get, as root) if dockerd is missing and starts
#    `dockerd --iptables=false` in the background (its log in a temp file, printed on failure). Without iptables the
#    engine adds no NAT or firewall rules to the machine; containers reach the host with network mode "host".
# 2. Base image: no image registry is reachable, so node:24-bookworm-slim cannot be pulled. Where BASE_IMAGE_TAG is
#    missing, builds a stand-in with the same layout: `debootstrap --variant=minbase bookworm` (from Debian's
#    packages), the Node 24 binary the project already runs on (the `node` npm package) as /usr/local/bin/node, and
#    the machine's npm CLI under /usr/local/lib/node_modules/npm, and git and OpenSSH's client (the Git source runs
#    them; the Dockerfile installs them from Debian on a base without them, which this build cannot: it has no
#    Debian mirror to reach). The tag is kept as a cache: a second run skips this (remove it with `docker rmi
#    BASE_IMAGE_TAG` to rebuild); a cached base from before git was in it is rebuilt. The machine's CA bundle goes
#    in too, with NODE_EXTRA_CA_CERTS pointing at it, because `npm ci` in the image build must trust what the host's
#    npm trusts.
#
# Idempotent; exit 0 when both are ready, non-zero with a sentence on stderr when not.
set -euo pipefail

base_tag="${1:?usage: ensure-docker.sh BASE_IMAGE_TAG}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"

say() { echo "ensure-docker: $*" >&2; }

# Test files calling this at once must not start two engines or bootstrap twice: one at a time, the others then find
# everything ready.
exec 9>"${TMPDIR:-/tmp}/ecs-log-operator-ensure-docker.$(id -u).lock"
flock 9

as_root_apt() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "need Debian's $* but cannot install it (not root, or no apt-get); install it and retry."
    exit 1
  fi
  say "installing $* from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- 1. the engine ---------------------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null 2>&1 || as_root_apt docker.io
  command -v docker >/dev/null 2>&1 || as_root_apt docker.io
  if [ "$(id -u)" != 0 ]; then
    say "no Docker engine answers and starting one needs root."
    exit 1
  fi
  start_engine() {
    # An engine killed without a shutdown (a session's or a CI job's processes are killed when it ends) leaves its
    # pid files behind. dockerd trusts them when their pid is alive, and pids are reused: with a stale containerd.pid
    # whose number now belongs to some other process, dockerd waits for a containerd that is not there ("containerd
    # is still running", then "timeout waiting for containerd to start"). A pid file stays only while its own
    # program runs.
    "$(dirname "$0")/stale-pid-file.sh" /var/run/docker.pid dockerd
    "$(dirname "$0")/stale-pid-file.sh" /var/run/docker/containerd/containerd.pid containerd
    log="$(mktemp -t ecs-log-operator-dockerd.XXXXXX.log)"
    say "starting dockerd --iptables=false (log: $log)"
    # setsid: the engine outlives this script and the test run, like a system service would; later runs reuse it.
    # 9>&-: the engine must not inherit the lock, or it would hold it for as long as it runs.
    setsid dockerd --iptables=false >"$log" 2>&1 </dev/null 9>&- &
    dockerd_pid=$!
    for _ in $(seq 1 60); do
      docker info >/dev/null 2>&1 && return 0
      kill -0 "$dockerd_pid" 2>/dev/null || break # it exited: its log says why
      sleep 1
    done
    docker info >/dev/null 2>&1 && return 0
    # The engine's own words, without the gRPC reconnect chatter that fills the log while it waits.
    say "dockerd did not start or does not answer (DOCKER_HOST=${DOCKER_HOST:-unset}); its log ($log) says:"
    grep -v 'module=grpc' "$log" | tail -n 30 >&2
    # Stop what is left of it (and the containerd it started) before anything else tries.
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$dockerd_pid" 2>/dev/null || true
    pkill -f '^containerd --config /var/run/docker/containerd/containerd.toml' 2>/dev/null || true
    return 1
  }
  # Twice: a start that fails for a passing reason (a pid taken, a slow disk) should not fail the suite.
  if ! start_engine; then
    say "trying once more"
    start_engine || exit 1
  fi
fi

# ---- 2. the base image -----------------------------------------------------------------------------------------
stale_base=""
if docker image inspect "$base_tag" >/dev/null 2>&1; then
  if docker run --rm --network none --entrypoint /bin/sh "$base_tag" -c 'command -v git && command -v ssh' >/dev/null 2>&1; then
    exit 0
  fi
  say "$base_tag has no git or ssh (built before the Git source needed them); rebuilding it"
  stale_base="$(docker image inspect --format '{{.Id}}' "$base_tag")"
fi

command -v debootstrap >/dev/null 2>&1 || as_root_apt debootstrap

# The real Node 24 binary: node_modules/.bin/node may be a shim that starts it, so ask the runtime itself.
node_bin="$("$repo/node_modules/.bin/node" -p process.execPath)"
case "$("$node_bin" --version)" in
  v24.*) ;;
  *)
    say "$node_bin is not Node 24; run npm ci first."
    exit 1
    ;;
esac
npm_cli="$(readlink -f "$(command -v npm)")" # .../npm/bin/npm-cli.js
npm_dir="$(dirname "$(dirname "$npm_cli")")"
if [ ! -f "$npm_dir/package.json" ]; then
  say "cannot find the npm CLI's package (looked in $npm_dir)."
  exit 1
fi

root="$(mktemp -d -t ecs-log-operator-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
say "building $base_tag: debootstrap --variant=minbase bookworm (about a minute, once per machine)"
debootstrap --variant=minbase --include=git,openssh-client,ca-certificates bookworm "$root" \
  >"$root.debootstrap.log" 2>&1 || {
  tail -n 30 "$root.debootstrap.log" >&2
  say "debootstrap failed"
  exit 1
}
rm -f "$root.debootstrap.log"

install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
mkdir -p "$root/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# Slim images carry no apt lists or caches.
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb

# Every library Node needs (libstdc++, libgcc_s) is in minbase, because apt itself is C++; prove it.
if chroot "$root" /usr/local/bin/node -e 'process.exit(0)' 2>/dev/null; then :; else
  say "Node 24 does not start in the minbase root; missing libraries:"
  chroot "$root" /usr/bin/ldd /usr/local/bin/node | grep 'not found' >&2 || true
  exit 1
fi

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$base_tag" >/dev/null
# The replaced base, now untagged; images built on it keep their layers.
[ -z "$stale_base" ] || docker rmi "$stale_base" >/dev/null 2>&1 || true
say "built $base_tag ($(docker image inspect --format '{{.Size}}' "$base_tag" | awk '{printf "%d MB", $1/1e6}'))"
