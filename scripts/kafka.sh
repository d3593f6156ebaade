#!/usr/bin/env bash
# Prints $TOOLGATE_KAFKA_HOME: an Apache Kafka $KAFKA_VERSION broker assembled from Maven Central (services/kafka/
# pom.xml, `mvn dependency:copy-dependencies`) into libs/, with config/log4j2.properties and small bin/ wrappers
# (kafka-run-class, kafka-storage, kafka-topics). Fetched once; refetched when the pom or the version changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

home="$TOOLGATE_KAFKA_HOME"
src="$here/../services/kafka"
stamp="$KAFKA_VERSION $(cat "$src/pom.xml" "$src/log4j2.properties" | sha256sum | cut -c1-16)"

fetch() {
  [ -f "$home/.complete" ] && [ "$(cat "$home/.complete")" = "$stamp" ] && return 0
  command -v mvn >/dev/null || die "mvn is not on PATH (scripts/system-deps.sh installs Debian's maven)"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (first time only)"
  rm -rf "$home.tmp" && mkdir -p "$home.tmp/bin" "$home.tmp/config"
  mvn -q -B -f "$src/pom.xml" -Dmaven.repo.local="$TOOLGATE_CACHE/m2" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home.tmp/libs" >"$home.tmp/mvn.log" 2>&1 \
    || { cat "$home.tmp/mvn.log" >&2; die "mvn dependency:copy-dependencies for Kafka $KAFKA_VERSION failed (above)"; }
  ls "$home.tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  cp "$src/log4j2.properties" "$home.tmp/config/"
  cat >"$home.tmp/bin/kafka-run-class" <<'SH'
#!/usr/bin/env bash
# kafka-run-class MAIN_CLASS ARGS...: runs a Kafka class on this folder's classpath (as Kafka's own script does).
home="$(cd "$(dirname "$0")/.." && pwd)"
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -Dlog4j2.configurationFile="$home/config/log4j2.properties" \
  -cp "$home/libs/*" "$@"
SH
  printf '#!/usr/bin/env bash\nexec "$(dirname "$0")/kafka-run-class" kafka.tools.StorageTool "$@"\n' \
    >"$home.tmp/bin/kafka-storage"
  printf '#!/usr/bin/env bash\nexec "$(dirname "$0")/kafka-run-class" org.apache.kafka.tools.TopicCommand "$@"\n' \
    >"$home.tmp/bin/kafka-topics"
  chmod +x "$home.tmp/bin/"*
  echo "$stamp" >"$home.tmp/.complete"
  rm -rf "$home" && mv "$home.tmp" "$home"
}
with_lock "kafka-$KAFKA_VERSION" fetch
echo "$home"
