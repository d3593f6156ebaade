#!/usr/bin/env bash
# Local services for integration tests and the demo: Kafka (KRaft, one node), Jaeger v2 and Redis, all on 127.0.0.1
# with the ports from scripts/env.sh.
#
#   scripts/services.sh up     [kafka|jaeger|redis ...]   start (a fast no-op for what already runs), wait until ready
#   scripts/services.sh down   [kafka|jaeger|redis ...]   stop (graceful, then kill); safe when nothing runs
#   scripts/services.sh status [kafka|jaeger|redis ...]   one line per service; exit 1 if any is not ready
#   scripts/services.sh env                               the export lines integration tests need
#   scripts/services.sh wipe                              down, then delete Kafka's data and the logs
#
# When a Docker engine answers (`docker info`), up/down use docker-compose.yml instead (kafka, jaeger, redis and the
# OpenTelemetry Collector, which then owns the OTLP ports); TOOLGATE_SERVICES_MODE=local|docker forces a mode.
# Without Docker each service is a plain process with a pidfile and a log in $TOOLGATE_RUN.
# TOOLGATE_REDIS_MODE=sentinel (local mode only): "redis" is scripts/redis-ha.sh's failover topology (a primary,
# two replicas, three sentinels) instead of one redis-server, and `env` prints its redis+sentinel:// URL.
# TOOLGATE_KAFKA_NODES=3 (local mode only): "kafka" is scripts/kafka-cluster.sh's three KRaft nodes (replicated
# audit topic) instead of one broker, and `env` prints the three-broker bootstrap list.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

ALL=(kafka jaeger redis)
KAFKA_READY_S="${TOOLGATE_KAFKA_READY_S:-90}"
JAEGER_READY_S="${TOOLGATE_JAEGER_READY_S:-60}"
REDIS_READY_S="${TOOLGATE_REDIS_READY_S:-20}"
STOP_S="${TOOLGATE_STOP_S:-30}"

# ---------------------------------------------------------------- helpers
# (alive, port_open: lib.sh)

pidfile() { echo "$TOOLGATE_RUN/$1.pid"; }
logfile() { echo "$TOOLGATE_RUN/$1.log"; }

# What a service's command line must contain, so a stale pidfile never makes us signal an unrelated process.
marker() {
  case "$1" in
    kafka) echo "kafka.Kafka" ;;
    jaeger) echo "jaeger-$JAEGER_VERSION/jaeger" ;;
    redis) echo "redis-server" ;;
  esac
}

# Prints the pid of our running instance of $1, or fails.
running_pid() {
  local f pid
  f="$(pidfile "$1")"
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(marker "$1")" || return 1
  echo "$pid"
}

ports_of() {
  case "$1" in
    kafka) echo "$TOOLGATE_KAFKA_PORT $TOOLGATE_KAFKA_CONTROLLER_PORT" ;;
    jaeger) echo "$TOOLGATE_JAEGER_OTLP_HTTP_PORT $TOOLGATE_JAEGER_OTLP_GRPC_PORT $TOOLGATE_JAEGER_QUERY_PORT \
$TOOLGATE_JAEGER_QUERY_GRPC_PORT $TOOLGATE_JAEGER_HEALTH_PORT $TOOLGATE_JAEGER_METRICS_PORT" ;;
    redis) echo "$TOOLGATE_REDIS_PORT" ;;
  esac
}

# Before starting: every port the service will bind must be free, or we would wait for a stranger.
check_ports_free() {
  local p
  for p in $(ports_of "$1"); do
    if port_open "$p"; then
      die "$1: port 127.0.0.1:$p is already in use by another process (not ours: no live $(pidfile "$1")). \
Stop it, or pick other ports via the TOOLGATE_*_PORT variables in scripts/env.sh. Listener: \
$(ss -ltnpH "sport = :$p" 2>/dev/null | head -n1 | tr -s ' ')"
    fi
  done
}

fail_with_log() {
  local svc="$1" msg="$2" f
  f="$(logfile "$svc")"
  {
    echo "[toolgate] error: $svc: $msg"
    if [ -f "$f" ]; then echo "[toolgate] last 40 lines of $f:"; tail -n 40 "$f" | sed 's/^/  | /'; fi
  } >&2
  exit 1
}

# wait_until SVC SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s until it succeeds; fails with the log's tail when
# the deadline passes or (local mode) the process dies.
wait_until() {
  local svc="$1" secs="$2" what="$3"; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$MODE" = local ] && ! running_pid "$svc" >/dev/null; then
      fail_with_log "$svc" "the process exited while waiting for: $what"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail_with_log "$svc" "not ready after ${secs}s: $what"
    sleep 0.2
  done
}

# ---------------------------------------------------------------- readiness probes (both modes)

kafka_metadata() {
  if command -v kcat >/dev/null; then
    kcat -b "127.0.0.1:$TOOLGATE_KAFKA_PORT" -L -m 5 -J 2>/dev/null | grep -q '"brokers":\[{'
  else # kafkajs admin: any answer to a metadata request means the broker serves clients
    (cd "$root" && timeout 20 node -e '
      const { Kafka, logLevel } = require("kafkajs");
      const admin = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.NOTHING }).admin();
      admin.connect().then(() => admin.fetchTopicMetadata({ topics: [] })).then(
        () => admin.disconnect().then(() => process.exit(0)), () => process.exit(1));
    ' "127.0.0.1:$TOOLGATE_KAFKA_PORT")
  fi
}
kafka_warmup() {
  local node
  if [ ! -d "$root/node_modules/kafkajs" ]; then
    log "kafka: skipping the coordinator warm-up (no node_modules/kafkajs yet: run npm ci)"; return 0
  fi
  node="$("$here/node.sh")/node"
  "$node" --no-warnings "$here/kafka-warmup.mjs" "127.0.0.1:$TOOLGATE_KAFKA_PORT" "$((KAFKA_READY_S * 1000))" >>"$(logfile kafka)" 2>&1 \
    || fail_with_log kafka "group/transaction coordinators not ready after ${KAFKA_READY_S}s (scripts/kafka-warmup.mjs)"
}
jaeger_query_api() { curl -fsS -m 2 "http://127.0.0.1:$TOOLGATE_JAEGER_QUERY_PORT/api/services" | grep -q '"data"'; }
redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$TOOLGATE_REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

ready() {
  case "$1" in
    kafka) port_open "$TOOLGATE_KAFKA_PORT" && kafka_metadata ;;
    jaeger) port_open "$TOOLGATE_JAEGER_OTLP_HTTP_PORT" && jaeger_query_api ;;
    redis) redis_ping ;;
  esac
}

wait_ready() {
  case "$1" in
    kafka)
      wait_until kafka "$KAFKA_READY_S" "port 127.0.0.1:$TOOLGATE_KAFKA_PORT accepts connections" \
        port_open "$TOOLGATE_KAFKA_PORT"
      wait_until kafka "$KAFKA_READY_S" "broker answers a metadata request" kafka_metadata
      kafka_warmup ;;
    jaeger)
      wait_until jaeger "$JAEGER_READY_S" "query API http://127.0.0.1:$TOOLGATE_JAEGER_QUERY_PORT/api/services" \
        jaeger_query_api
      wait_until jaeger "$JAEGER_READY_S" "OTLP/HTTP port 127.0.0.1:$TOOLGATE_JAEGER_OTLP_HTTP_PORT" \
        port_open "$TOOLGATE_JAEGER_OTLP_HTTP_PORT" ;;
    redis)
      wait_until redis "$REDIS_READY_S" "redis-cli -p $TOOLGATE_REDIS_PORT ping answers PONG" redis_ping ;;
  esac
}

# ---------------------------------------------------------------- local processes

# spawn SVC CMD...: starts CMD in its own session (so `down` can signal its whole group), output to the log.
spawn() {
  local svc="$1"; shift
  echo "==== $(date -u +%FT%TZ) starting: $*" >>"$(logfile "$svc")"
  setsid "$@" </dev/null >>"$(logfile "$svc")" 2>&1 &
  echo $! >"$(pidfile "$svc")"
}

start_kafka() {
  local home dir props
  home="$("$here/kafka.sh")"
  command -v java >/dev/null || die "kafka: java is not on PATH (scripts/system-deps.sh installs Java 17)"
  # Per version: a data dir formatted by a newer Kafka is not guaranteed to load in an older one.
  dir="$TOOLGATE_RUN/kafka-$KAFKA_VERSION"
  props="$dir/server.properties"
  mkdir -p "$dir/data"
  # Regenerated on every start so port changes apply. Static quorum (controller.quorum.voters): its address lives
  # in this file, not in the formatted log, so changing the controller port later needs no reformat.
  cat >"$props" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TOOLGATE_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TOOLGATE_KAFKA_PORT,CONTROLLER://127.0.0.1:$TOOLGATE_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TOOLGATE_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    # A cluster id is 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). It may
    # start with "-", hence --cluster-id=ID in one argument.
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    log "kafka: formatting storage in $dir/data (cluster id $id)"
    "$home/bin/kafka-storage" format --cluster-id="$id" --config="$props" >>"$(logfile kafka)" 2>&1 \
      || fail_with_log kafka "storage format failed"
  fi
  # KAFKA_HEAP_OPTS-style flags plus Kafka's own start script defaults that matter on a small machine.
  # shellcheck disable=SC2086
  spawn kafka java $TOOLGATE_KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$home/config/log4j2.properties" -cp "$home/libs/*" kafka.Kafka "$props"
}

start_jaeger() {
  local bin
  bin="$("$here/jaeger.sh")"
  spawn jaeger "$bin" --config "$root/services/jaeger.yaml"
}

start_redis() {
  command -v redis-server >/dev/null || die "redis: redis-server is not on PATH (scripts/system-deps.sh installs it)"
  mkdir -p "$TOOLGATE_RUN/redis"
  : >>"$(logfile redis)"
  # No persistence: state is per test run. Daemonized by redis itself, which writes the pidfile.
  redis-server --bind 127.0.0.1 --port "$TOOLGATE_REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$(pidfile redis)" --logfile "$(logfile redis)" --dir "$TOOLGATE_RUN/redis" \
    --save '' --appendonly no >/dev/null \
    || fail_with_log redis "redis-server failed to start"
  # redis-server returns once forked; the daemon writes its pidfile a moment later.
  local deadline=$((SECONDS + 10))
  until running_pid redis >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail_with_log redis "no live redis-server behind $(pidfile redis) after 10s"
    sleep 0.1
  done
}

# The failover topology is its own script's business (ports, readiness, stop).
redis_ha() { [ "$1" = redis ] && [ "${TOOLGATE_REDIS_MODE:-single}" = sentinel ]; }
case "$TOOLGATE_KAFKA_NODES" in
  1 | 3) ;;
  *) die "TOOLGATE_KAFKA_NODES must be 1 (one broker) or 3 (scripts/kafka-cluster.sh), not '$TOOLGATE_KAFKA_NODES'" ;;
esac
kafka_cluster() { [ "$1" = kafka ] && [ "$TOOLGATE_KAFKA_NODES" = 3 ]; }

local_up() {
  local svc pid
  for svc in "$@"; do
    if redis_ha "$svc"; then "$here/redis-ha.sh" up; continue; fi
    if kafka_cluster "$svc"; then "$here/kafka-cluster.sh" up; continue; fi
    if pid="$(running_pid "$svc")"; then
      ready "$svc" && { log "$svc: already running (pid $pid)"; continue; }
      log "$svc: running (pid $pid) but not ready yet; waiting"
    else
      rm -f "$(pidfile "$svc")"
      check_ports_free "$svc"
      "start_$svc"
    fi
    wait_ready "$svc"
    log "$svc: ready (pid $(running_pid "$svc"), log $(logfile "$svc"))"
  done
}

# SIGTERM to all first (Kafka's clean shutdown takes seconds; the others need not wait for it), then wait for each,
# SIGKILL after $STOP_S seconds.
local_down() {
  local svc pid deadline pids=() names=() i
  for svc in "$@"; do
    if redis_ha "$svc"; then "$here/redis-ha.sh" down; continue; fi
    if kafka_cluster "$svc"; then "$here/kafka-cluster.sh" down; continue; fi
    if pid="$(running_pid "$svc")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$svc")
    else
      rm -f "$(pidfile "$svc")"
    fi
  done
  deadline=$((SECONDS + STOP_S))
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"; svc="${names[$i]}"
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if alive "$pid"; then
      log "$svc: still running ${STOP_S}s after SIGTERM; sending SIGKILL to pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      local until_s=$((SECONDS + 10))
      while alive "$pid" && [ "$SECONDS" -lt "$until_s" ]; do sleep 0.1; done
      alive "$pid" && die "$svc: pid $pid survived SIGKILL"
    fi
    rm -f "$(pidfile "$svc")"
    log "$svc: stopped"
  done
}

# ---------------------------------------------------------------- docker-compose

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose -f "$root/docker-compose.yml" "$@"
  else docker-compose -f "$root/docker-compose.yml" "$@"; fi
}

docker_up() {
  local svcs=("$@") svc
  if [[ " $* " == *" kafka "* ]] && kafka_cluster kafka; then
    die "TOOLGATE_KAFKA_NODES=3 runs local processes; with Docker use docker-compose.yml's ha profile (README, Production topology)"
  fi
  # The collector receives OTLP for the host in this mode and forwards traces to Jaeger.
  [[ " $* " == *" jaeger "* ]] && svcs+=(otel-collector)
  compose up -d "${svcs[@]}" >&2 || die "docker compose up failed"
  for svc in "$@"; do wait_ready "$svc"; log "$svc: ready (docker)"; done
}
docker_down() {
  if [ "$#" -eq "${#ALL[@]}" ]; then compose down >&2; return; fi
  local svc
  for svc in "$@"; do compose stop "$svc" >&2; done
}

# ---------------------------------------------------------------- commands

status() {
  local svc pid bad=0 how
  for svc in "$@"; do
    if redis_ha "$svc"; then "$here/redis-ha.sh" status || bad=1; continue; fi
    if kafka_cluster "$svc"; then "$here/kafka-cluster.sh" status || bad=1; continue; fi
    if [ "$MODE" = local ]; then
      if pid="$(running_pid "$svc")"; then how="pid $pid"; else how="no process"; fi
    else
      how="docker"
    fi
    if ready "$svc"; then echo "$svc: ready ($how)"; else echo "$svc: not ready ($how)"; bad=1; fi
  done
  return "$bad"
}

print_env() {
  local opa
  opa="$("$here/opa.sh")"
  printf 'export %s=%q\n' \
    TOOLGATE_INTEGRATION 1 \
    TOOLGATE_KAFKA_BROKERS "$(if kafka_cluster kafka; then "$here/kafka-cluster.sh" brokers; else echo "127.0.0.1:$TOOLGATE_KAFKA_PORT"; fi)" \
    TOOLGATE_REDIS_URL "$(if redis_ha redis; then "$here/redis-ha.sh" url; else echo "redis://127.0.0.1:$TOOLGATE_REDIS_PORT"; fi)" \
    OTEL_EXPORTER_OTLP_ENDPOINT "http://127.0.0.1:$TOOLGATE_JAEGER_OTLP_HTTP_PORT" \
    TOOLGATE_JAEGER_QUERY_URL "http://127.0.0.1:$TOOLGATE_JAEGER_QUERY_PORT" \
    TOOLGATE_OPA "$opa" \
    TOOLGATE_KAFKA_HOME "$TOOLGATE_KAFKA_HOME" \
    TOOLGATE_SERVICES "$here/services.sh"
}

mode() {
  case "${TOOLGATE_SERVICES_MODE:-auto}" in
    local | docker) echo "$TOOLGATE_SERVICES_MODE" ;;
    auto) if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then echo docker; else echo local; fi ;;
    *) die "TOOLGATE_SERVICES_MODE must be local, docker or auto, not '$TOOLGATE_SERVICES_MODE'" ;;
  esac
}

cmd="${1:-}"
[ "$#" -gt 0 ] && shift
svcs=("$@")
[ "${#svcs[@]}" -gt 0 ] || svcs=("${ALL[@]}")
for s in "${svcs[@]}"; do
  [[ " ${ALL[*]} " == *" $s "* ]] || die "unknown service '$s' (known: ${ALL[*]})"
done

case "$cmd" in
  env) print_env; exit 0 ;;
  up | down | status | wipe) ;;
  *) die "usage: scripts/services.sh up|down|status|env|wipe [${ALL[*]// /|} ...]" ;;
esac

MODE="$(mode)"
[ "${TOOLGATE_REDIS_MODE:-single}" = single ] || { [ "$TOOLGATE_REDIS_MODE" = sentinel ] && [ "$MODE" = local ]; } \
  || die "TOOLGATE_REDIS_MODE must be single or sentinel (sentinel: local processes only, TOOLGATE_SERVICES_MODE=local)"
case "$cmd" in
  up) "${MODE}_up" "${svcs[@]}" ;;
  down) "${MODE}_down" "${svcs[@]}" ;;
  status) status "${svcs[@]}" ;;
  wipe)
    "${MODE}_down" "${ALL[@]}"
    rm -rf "$TOOLGATE_RUN"/kafka-* "$TOOLGATE_RUN/redis" "$TOOLGATE_RUN"/*.log
    log "wiped Kafka data and service logs in $TOOLGATE_RUN" ;;
esac
