#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to run Longshore from this checkout:
# Node.js >= 20.19 is checked (not installed); redis-server, iptables, and for the Docker tests
# docker.io, busybox-static and docker-registry come from the OS packages when absent (no daemon
# is started); and the npm packages are installed exactly as locked.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'install: %s\n' "$*" >&2; }

if ! command -v node >/dev/null 2>&1; then
  say "Node.js is missing: install Node.js 20.19 or newer (https://nodejs.org), then run this again."
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  say "Node.js $(node --version) is too old: Longshore needs 20.19 or newer."
  exit 1
fi

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "cannot install $* without root: run 'apt-get install -y $*' as root, then run this again."
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: install $* with your package manager, then run this again."
    exit 1
  fi
  local names=() arg
  for arg in "$@"; do [[ $arg == -* ]] || names+=("$arg"); done
  say "installing ${names[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# apt_install, with services kept from starting: invoke-rc.d and deb-systemd-invoke ask
# /usr/sbin/policy-rc.d, and exit status 101 means "do not start". A policy already there is left
# alone; one made here is removed again. Recommends (apparmor, git, needrestart...) are skipped.
apt_install_stopped() {
  local policy=/usr/sbin/policy-rc.d made=""
  if [ ! -e "$policy" ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\n# made by longshore scripts/install.sh for the length of one apt-get install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install --no-install-recommends "$@"
  if [ -n "$made" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
}

if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  apt_install redis-server
fi
# The Redis Cluster tests join their nodes with redis-cli (Debian's redis-server pulls it in;
# Sentinel runs as redis-server --sentinel, so no redis-sentinel binary is needed).
if ! command -v redis-cli >/dev/null 2>&1 && [ ! -x /usr/bin/redis-cli ]; then
  apt_install redis-tools
fi
# Agents running as root install owner-match firewall rules that keep jobs off Redis and the
# API (LONGSHORE_JOB_FIREWALL); it lives in /usr/sbin, which a non-root PATH may lack.
if ! command -v iptables >/dev/null 2>&1 && [ ! -x /usr/sbin/iptables ] && [ ! -x /sbin/iptables ]; then
  apt_install iptables
fi

# The local AWS endpoints (ECS, CloudWatch Logs, Secrets Manager) are checked with AWS's own
# client; the manifests under deploy/ are rendered with kubectl kustomize where it exists.
if ! command -v aws >/dev/null 2>&1 && [ ! -x /usr/bin/aws ]; then
  apt_install --no-install-recommends awscli
fi
# deploy/compose.yaml is checked with Debian's docker-compose (`docker-compose config`).
if ! command -v docker-compose >/dev/null 2>&1 && [ ! -x /usr/bin/docker-compose ]; then
  apt_install --no-install-recommends docker-compose
fi

# The console's browser tests (test/e2e/console.test.ts) drive Debian's chromium headless through
# playwright-core, at /usr/bin/chromium: no browser download from the npm registry.
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  apt_install --no-install-recommends chromium
fi

# The Docker executor's tests run a private dockerd (libs/testing/src/dockerd.ts) on test images
# built from busybox-static, and push and pull through Debian's registry on loopback: no Docker
# Hub needed. These packages would start system daemons (dockerd on /var/run/docker.sock, the
# registry on :5000) as they install; apt_install_stopped keeps them stopped.
docker_packages=()
if ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ] && [ ! -x /usr/bin/dockerd ]; then
  docker_packages+=(docker.io)
fi
# ldd fails on a static binary ("not a dynamic executable"): a dynamic busybox cannot run in a
# scratch image, so Debian's dynamic busybox package does not do.
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
  docker_packages+=(busybox-static)
fi
if ! command -v docker-registry >/dev/null 2>&1 && [ ! -x /usr/bin/docker-registry ]; then
  docker_packages+=(docker-registry)
fi
if [ ${#docker_packages[@]} -gt 0 ]; then
  apt_install_stopped "${docker_packages[@]}"
fi

if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] && [ "${1:-}" != "--force" ]; then
  say "npm packages are up to date"
  exit 0
fi

say "installing npm packages (npm ci)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm ci --no-audit --no-fund --loglevel=error 2>"$log"; then
  if grep -q 'can only install packages when your package.json and package-lock.json' "$log"; then
    # A registry that serves only this platform's packages leaves the lockfile without the
    # optional per-platform binaries of other systems (e.g. @bufbuild/buf-darwin-arm64), and
    # npm ci refuses such a lockfile. npm install keeps every version the lockfile pins.
    say "npm ci refused the lockfile (optional packages for other platforms are missing from it); installing the locked versions with npm install"
    npm install --no-save --no-audit --no-fund --loglevel=error
  else
    cat "$log" >&2
    exit 1
  fi
fi
