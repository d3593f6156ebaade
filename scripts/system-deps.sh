#!/usr/bin/env bash
# Installs the Debian packages the services and tests use, only those missing: redis-server and redis-cli (shared
# state), redis-sentinel (the failover topology's monitors), kcat (a Kafka client independent of kafkajs),
# docker-compose 1.29 (static check of docker-compose.yml), chromium (the console's browser test, driven by
# playwright-core, which never downloads a browser of its own) and a Java 17 + Maven for the Kafka broker.
# Recommends are skipped: docker-compose would pull in a Docker engine.
# Idempotent and fast when everything is there (no apt call at all).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
command -v kcat >/dev/null || missing+=(kcat)
command -v chromium >/dev/null || missing+=(chromium)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; then missing+=(openjdk-17-jre-headless); fi
command -v mvn >/dev/null || missing+=(maven)
[ "${#missing[@]}" -eq 0 ] && exit 0

log "installing Debian packages: ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${missing[*]}"
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2 || die "apt-get update failed"
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
  || die "apt-get install ${missing[*]} failed"
