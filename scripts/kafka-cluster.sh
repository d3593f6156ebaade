#!/usr/bin/env bash
# A replicated Kafka on one host: three KRaft nodes on 127.0.0.1, each one small JVM that is both broker and
# controller (node ids 1..3, a static controller quorum of all three). What the production topology looks like in
# miniature, for `TOOLGATE_KAFKA_NODES=3 make services` and for tests that kill and restart single nodes.
#
#   scripts/kafka-cluster.sh up              format (first time), start every node, wait until all serve clients
#   scripts/kafka-cluster.sh down            stop every node (SIGTERM, SIGKILL after $TOOLGATE_STOP_S s)
#   scripts/kafka-cluster.sh status          one line per node; exit 1 unless all are up and registered
#   scripts/kafka-cluster.sh env             export TOOLGATE_KAFKA_BROKERS=<the three listeners>
#   scripts/kafka-cluster.sh brokers         the bootstrap list alone (host:port,host:port,host:port)
#   scripts/kafka-cluster.sh kill N          SIGKILL node N (a crash: no clean shutdown, no leadership handover)
#   scripts/kafka-cluster.sh start N         start node N again and wait until it serves clients
#   scripts/kafka-cluster.sh pid N           the pid of node N (exit 1 when it is not running)
#
# Environment (defaults in scripts/env.sh):
#   TOOLGATE_KAFKA_CLUSTER_PORTS             client ports, comma-separated, one per node (19192,19194,19196)
#   TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS  controller ports, same count (19193,19195,19197)
#   TOOLGATE_KAFKA_CLUSTER_DIR               data, logs and pidfiles ($TOOLGATE_RUN/kafka-cluster-$KAFKA_VERSION)
#   TOOLGATE_KAFKA_CLUSTER_JVM               JVM flags of each node (small heap, serial GC, C1 only: fast start)
# A test runs its own cluster by pointing these at free ports and a temp dir.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

IFS=, read -r -a PORTS <<<"$TOOLGATE_KAFKA_CLUSTER_PORTS"
IFS=, read -r -a CPORTS <<<"$TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS"
DIR="$TOOLGATE_KAFKA_CLUSTER_DIR"
READY_S="${TOOLGATE_KAFKA_READY_S:-90}"
STOP_S="${TOOLGATE_STOP_S:-30}"
N="${#PORTS[@]}"
[ "$N" -ge 1 ] && [ "${#CPORTS[@]}" -eq "$N" ] \
  || die "TOOLGATE_KAFKA_CLUSTER_PORTS ($TOOLGATE_KAFKA_CLUSTER_PORTS) and TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS \
($TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS) must list the same number of ports"

node_dir() { echo "$DIR/node-$1"; }
brokers() { local i out=(); for i in "${!PORTS[@]}"; do out+=("127.0.0.1:${PORTS[$i]}"); done; (IFS=,; echo "${out[*]}"); }

# The pid of node $1 when it runs (the pidfile's process, and its command line names this node's config).
node_pid() {
  local f pid
  f="$(node_dir "$1")/pid"
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(node_dir "$1")/server.properties" || return 1
  echo "$pid"
}

check_node() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$N" ] || die "no node '$1' (nodes are 1..$N)"; }

write_config() {
  local n="$1" d voters="" i
  d="$(node_dir "$n")"
  for i in "${!CPORTS[@]}"; do voters+="${voters:+,}$((i + 1))@127.0.0.1:${CPORTS[$i]}"; done
  mkdir -p "$d/data"
  # Regenerated on every start so port changes apply (the static quorum's addresses live here, not in the log).
  # Replicated defaults: internal topics and auto-created ones get 3 replicas and min.insync.replicas=2.
  # Failure detection is tightened from Kafka's defaults (heartbeat 2 s, session 9 s, replica lag 30 s) so a
  # killed broker is fenced, and its partitions get a new leader, in about 2 s rather than 9.
  cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${PORTS[$((n - 1))]},CONTROLLER://127.0.0.1:${CPORTS[$((n - 1))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORTS[$((n - 1))]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
num.partitions=1
default.replication.factor=$((N < 3 ? N : 3))
min.insync.replicas=$((N < 3 ? 1 : 2))
unclean.leader.election.enable=false
offsets.topic.replication.factor=$((N < 3 ? N : 3))
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$((N < 3 ? N : 3))
transaction.state.log.min.isr=$((N < 3 ? 1 : 2))
share.coordinator.state.topic.replication.factor=$((N < 3 ? N : 3))
share.coordinator.state.topic.min.isr=$((N < 3 ? 1 : 2))
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2000
replica.lag.time.max.ms=10000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
background.threads=2
EOF
}

format() {
  local n="$1" d
  d="$(node_dir "$n")"
  [ -f "$d/data/meta.properties" ] && return 0
  log "kafka-cluster: formatting node $n in $d/data (cluster id $(cat "$DIR/cluster.id"))"
  "$HOME_KAFKA/bin/kafka-storage" format --cluster-id="$(cat "$DIR/cluster.id")" --config="$d/server.properties" \
    >>"$d/log" 2>&1 || { tail -n 30 "$d/log" >&2; die "kafka-cluster: storage format of node $n failed"; }
}

spawn_node() {
  local n="$1" d p
  d="$(node_dir "$n")"
  for p in "${PORTS[$((n - 1))]}" "${CPORTS[$((n - 1))]}"; do
    port_open "$p" && die "kafka-cluster: node $n: port 127.0.0.1:$p is already in use by another process; pick \
other ports via TOOLGATE_KAFKA_CLUSTER_PORTS / TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS"
  done
  echo "==== $(date -u +%FT%TZ) starting node $n" >>"$d/log"
  # shellcheck disable=SC2086
  setsid java $TOOLGATE_KAFKA_CLUSTER_JVM -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HOME_KAFKA/config/log4j2.properties" -cp "$HOME_KAFKA/libs/*" \
    kafka.Kafka "$d/server.properties" </dev/null >>"$d/log" 2>&1 &
  echo $! >"$d/pid"
}

# Serves clients: the node's own listener answers a metadata request that lists every live broker. With `all`,
# every node must be registered (a fresh cluster), otherwise the node itself must be.
serves() {
  local n="$1" want="$2"
  (cd "$root" && timeout 15 node -e '
    const { Kafka, logLevel } = require("kafkajs");
    const [broker, id, want, n] = process.argv.slice(1);
    const admin = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000 }).admin();
    admin.connect().then(() => admin.describeCluster()).then((c) => {
      const ids = c.brokers.map((b) => b.nodeId);
      const ok = want === "all" ? ids.length >= Number(n) : ids.includes(Number(id));
      return admin.disconnect().then(() => process.exit(ok ? 0 : 1));
    }, () => process.exit(1));
  ' "127.0.0.1:${PORTS[$((n - 1))]}" "$n" "$want" "$N") >/dev/null 2>&1
}

wait_serves() {
  local n="$1" want="$2" deadline=$((SECONDS + READY_S))
  until port_open "${PORTS[$((n - 1))]}" && serves "$n" "$want"; do
    node_pid "$n" >/dev/null || { tail -n 40 "$(node_dir "$n")/log" >&2; die "kafka-cluster: node $n exited while starting (log above: $(node_dir "$n")/log)"; }
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$(node_dir "$n")/log" >&2; die "kafka-cluster: node $n not serving after ${READY_S}s"; }
    sleep 0.2
  done
}

prepare() {
  HOME_KAFKA="$("$here/kafka.sh")"
  command -v java >/dev/null || die "kafka-cluster: java is not on PATH (scripts/system-deps.sh installs Java 17)"
  export PATH="$("$here/node.sh"):$PATH"
  mkdir -p "$DIR"
  # One cluster id for every node: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints).
  [ -f "$DIR/cluster.id" ] || head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$DIR/cluster.id"
}

up() {
  prepare
  local n todo=()
  for n in $(seq 1 "$N"); do
    write_config "$n"
    node_pid "$n" >/dev/null || todo+=("$n")
  done
  # Formats run in parallel: each is a JVM start, and they are independent.
  local pids=()
  for n in "${todo[@]}"; do format "$n" & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || die "kafka-cluster: formatting failed (above)"; done
  for n in "${todo[@]}"; do spawn_node "$n"; done
  for n in $(seq 1 "$N"); do wait_serves "$n" all; done
  log "kafka-cluster: $N nodes ready ($(brokers)); data and logs in $DIR"
}

start_one() {
  prepare
  local n="$1"
  if ! node_pid "$n" >/dev/null; then write_config "$n"; format "$n"; spawn_node "$n"; fi
  wait_serves "$n" self
  log "kafka-cluster: node $n serving (pid $(node_pid "$n"))"
}

kill_one() {
  local pid
  pid="$(node_pid "$1")" || die "kafka-cluster: node $1 is not running"
  kill -KILL "$pid"
  while alive "$pid"; do sleep 0.05; done
  log "kafka-cluster: node $1 killed (pid $pid)"
}

down() {
  local n pid pids=() deadline
  for n in $(seq 1 "$N"); do
    if pid="$(node_pid "$n")"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  deadline=$((SECONDS + STOP_S))
  for pid in "${pids[@]}"; do
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.05; done
  done
  log "kafka-cluster: stopped"
}

status() {
  local n pid bad=0
  export PATH="$("$here/node.sh"):$PATH"
  for n in $(seq 1 "$N"); do
    if pid="$(node_pid "$n")"; then
      if serves "$n" self; then echo "kafka node $n: ready (pid $pid, 127.0.0.1:${PORTS[$((n - 1))]})"
      else echo "kafka node $n: not ready (pid $pid, 127.0.0.1:${PORTS[$((n - 1))]})"; bad=1; fi
    else
      echo "kafka node $n: no process (127.0.0.1:${PORTS[$((n - 1))]})"; bad=1
    fi
  done
  return "$bad"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export TOOLGATE_KAFKA_BROKERS=$(brokers)" ;;
  brokers) brokers ;;
  kill) check_node "${2:-}"; kill_one "$2" ;;
  start) check_node "${2:-}"; start_one "$2" ;;
  pid) check_node "${2:-}"; node_pid "$2" ;;
  *) die "usage: scripts/kafka-cluster.sh up|down|status|env|brokers|kill N|start N|pid N" ;;
esac
