#!/usr/bin/env bash
# Redis with failover on 127.0.0.1: one primary, two replicas and three Sentinels (quorum 2), plain processes.
#
#   scripts/redis-ha.sh up       start all six (a no-op for what already runs), wait until the sentinels agree
#   scripts/redis-ha.sh down     stop them (SIGTERM, then SIGKILL); safe when nothing runs
#   scripts/redis-ha.sh status   one line per process with its role; exit 1 if any is down or no primary is known
#   scripts/redis-ha.sh env      the TOOLGATE_REDIS_URL line for toolgate (redis+sentinel://...)
#   scripts/redis-ha.sh url      that URL alone
#
# Everything is configurable by environment, so tests run their own topology on free ports in a temp dir:
#   TOOLGATE_REDIS_HA_DIR             state, configs, pidfiles, logs     (default $TOOLGATE_RUN/redis-ha)
#   TOOLGATE_REDIS_HA_PORTS           primary,replica,replica           (default 16390,16391,16392)
#   TOOLGATE_REDIS_HA_SENTINEL_PORTS  three sentinels                   (default 26390,26391,26392)
#   TOOLGATE_REDIS_HA_NAME            the master group's name           (default toolgate)
#   TOOLGATE_REDIS_HA_DOWN_AFTER_MS   unanswered this long = down       (default 2000)
#   TOOLGATE_REDIS_HA_FAILOVER_MS     sentinel failover-timeout         (default 10000)
# The node that starts as primary is the first port; after a failover any of the three may be. No persistence: a
# restarted topology starts empty, like scripts/services.sh's single Redis.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

DIR="${TOOLGATE_REDIS_HA_DIR:-$TOOLGATE_RUN/redis-ha}"
IFS=, read -r -a NODES <<<"${TOOLGATE_REDIS_HA_PORTS:-16390,16391,16392}"
IFS=, read -r -a SENTINELS <<<"${TOOLGATE_REDIS_HA_SENTINEL_PORTS:-26390,26391,26392}"
NAME="${TOOLGATE_REDIS_HA_NAME:-toolgate}"
DOWN_AFTER_MS="${TOOLGATE_REDIS_HA_DOWN_AFTER_MS:-2000}"
FAILOVER_MS="${TOOLGATE_REDIS_HA_FAILOVER_MS:-10000}"
READY_S="${TOOLGATE_REDIS_READY_S:-20}"
[ "${#NODES[@]}" -eq 3 ] && [ "${#SENTINELS[@]}" -eq 3 ] \
  || die "redis-ha: TOOLGATE_REDIS_HA_PORTS and TOOLGATE_REDIS_HA_SENTINEL_PORTS need three ports each"

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>/dev/null; }
# Prints the pid behind a pidfile if it is a live redis process (never signal a stranger through a stale file).
pid_of() {
  local f="$DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q redis || return 1
  echo "$pid"
}
names() { echo node-"${NODES[0]}" node-"${NODES[1]}" node-"${NODES[2]}" sentinel-"${SENTINELS[0]}" sentinel-"${SENTINELS[1]}" sentinel-"${SENTINELS[2]}"; }

# start NAME BINARY CONFIG: daemonized by redis itself, which writes the pidfile.
start() {
  "$2" "$3" >/dev/null || die "redis-ha: $1 failed to start (log: $DIR/$1.log)"
}

up() {
  command -v redis-server >/dev/null || die "redis-ha: redis-server is not on PATH (scripts/system-deps.sh installs it)"
  command -v redis-sentinel >/dev/null || die "redis-ha: redis-sentinel is not on PATH (Debian package redis-sentinel)"
  local running=0 n
  for n in $(names); do pid_of "$n" >/dev/null && running=$((running + 1)); done
  if [ "$running" -eq 0 ]; then
    # A fresh topology: sentinels rewrite their config files with what they learned, which must not outlive a run.
    rm -rf "$DIR" && mkdir -p "$DIR"
    local i p
    for i in 0 1 2; do
      p="${NODES[$i]}"
      mkdir -p "$DIR/node-$p"
      {
        echo "bind 127.0.0.1"; echo "port $p"; echo "protected-mode yes"; echo "daemonize yes"
        echo "pidfile $DIR/node-$p.pid"; echo "logfile $DIR/node-$p.log"; echo "dir $DIR/node-$p"
        # Persistence on: a primary restarted by a supervisor before the sentinels notice would otherwise come back
        # empty and its replicas would copy the empty set (the gateways then fence the replay store, nonce-script.ts,
        # but limits and approvals would be gone). noeviction: an evicted key could be a nonce index or a limit.
        echo "save \"\""; echo "appendonly yes"; echo "appendfsync everysec"; echo "maxmemory-policy noeviction"
        # An isolated primary (cut off from both replicas) refuses writes after 10 s instead of accepting ones a
        # failover would drop; toolgate's WAIT (TOOLGATE_REDIS_URL waitReplicas) fails such writes at once.
        echo "min-replicas-to-write 1"; echo "min-replicas-max-lag 10"
        [ "$i" -gt 0 ] && echo "replicaof 127.0.0.1 ${NODES[0]}"
      } >"$DIR/node-$p.conf"
      start "node-$p" redis-server "$DIR/node-$p.conf"
    done
    for p in "${SENTINELS[@]}"; do
      {
        echo "bind 127.0.0.1"; echo "port $p"; echo "daemonize yes"
        echo "pidfile $DIR/sentinel-$p.pid"; echo "logfile $DIR/sentinel-$p.log"; echo "dir $DIR"
        echo "sentinel monitor $NAME 127.0.0.1 ${NODES[0]} 2"
        echo "sentinel down-after-milliseconds $NAME $DOWN_AFTER_MS"
        echo "sentinel failover-timeout $NAME $FAILOVER_MS"
        echo "sentinel parallel-syncs $NAME 1"
      } >"$DIR/sentinel-$p.conf"
      start "sentinel-$p" redis-sentinel "$DIR/sentinel-$p.conf"
    done
  elif [ "$running" -lt 6 ]; then
    die "redis-ha: $running of 6 processes run in $DIR; run scripts/redis-ha.sh down first (or status to see which)"
  fi
  wait_ready
  log "redis-ha: ready (primary $(primary), sentinels ${SENTINELS[*]}, dir $DIR)"
}

# The primary's address as sentinels report it.
primary() { cli "${SENTINELS[0]}" sentinel get-master-addr-by-name "$NAME" | paste -sd: -; }

# Ready: every sentinel names the same primary, that primary has both replicas online, each sentinel sees the
# other two (else a failover could not reach quorum) and both replicas.
topology_ready() {
  local want p addr
  want="$(primary)"; [ -n "$want" ] || return 1
  [ "$(cli "${want#*:}" info replication | grep -c '^slave[0-9]*:.*state=online')" -eq 2 ] || return 1
  for p in "${SENTINELS[@]}"; do
    addr="$(cli "$p" sentinel get-master-addr-by-name "$NAME" | paste -sd: -)"
    [ "$addr" = "$want" ] || return 1
    cli "$p" sentinel master "$NAME" | paste - - | grep -qE '^num-other-sentinels\s+2$' || return 1
    cli "$p" sentinel master "$NAME" | paste - - | grep -qE '^num-slaves\s+2$' || return 1
  done
}

wait_ready() {
  local deadline=$((SECONDS + READY_S)) n
  until topology_ready; do
    for n in $(names); do pid_of "$n" >/dev/null || die "redis-ha: $n is not running (log: $DIR/$n.log)"; done
    [ "$SECONDS" -lt "$deadline" ] || die "redis-ha: sentinels did not agree on a primary with two replicas within ${READY_S}s (logs in $DIR)"
    sleep 0.2
  done
}

down() {
  local n pid pids=() deadline
  for n in $(names); do
    if pid="$(pid_of "$n")"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$DIR"/*.pid
  log "redis-ha: stopped (${#pids[@]} processes)"
}

status() {
  local bad=0 p role
  for p in "${NODES[@]}"; do
    if pid_of "node-$p" >/dev/null && role="$(cli "$p" role | head -n1)" && [ -n "$role" ]; then echo "node 127.0.0.1:$p: $role"
    else echo "node 127.0.0.1:$p: down"; bad=1; fi
  done
  for p in "${SENTINELS[@]}"; do
    if pid_of "sentinel-$p" >/dev/null && [ "$(cli "$p" ping)" = PONG ]; then echo "sentinel 127.0.0.1:$p: up"
    else echo "sentinel 127.0.0.1:$p: down"; bad=1; fi
  done
  role="$(primary || true)"
  echo "primary ($NAME): ${role:-unknown}"
  [ -n "$role" ] || bad=1
  return "$bad"
}

url() {
  local hosts
  hosts="$(printf '127.0.0.1:%s,' "${SENTINELS[@]}")"
  echo "redis+sentinel://${hosts%,}/$NAME"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export TOOLGATE_REDIS_URL='$(url)'" ;;
  url) url ;;
  *) die "usage: scripts/redis-ha.sh up|down|status|env|url" ;;
esac
