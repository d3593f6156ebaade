#!/usr/bin/env bash
# Prints the path of a Jaeger v2 binary (cmd/jaeger), built once from its Go module into
# $TOOLGATE_CACHE/bin/jaeger-$JAEGER_VERSION. Why module $JAEGER_MODULE_VERSION and a wrapper module: see env.sh and
# services/jaeger/go.mod. Built without the UI's JavaScript bundle (not in the module zip): the query API works,
# the UI page is a placeholder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

dir="$TOOLGATE_CACHE/bin/jaeger-$JAEGER_VERSION"
build() {
  [ -x "$dir/jaeger" ] && return 0
  require_go "Jaeger"
  local mod="$here/../services/jaeger"
  grep -Eq "github.com/jaegertracing/jaeger $JAEGER_MODULE_VERSION( |\$)" "$mod/go.mod" \
    || die "services/jaeger/go.mod does not require github.com/jaegertracing/jaeger $JAEGER_MODULE_VERSION (env.sh)"
  log "building Jaeger $JAEGER_VERSION (module $JAEGER_MODULE_VERSION) with go build (first time only, a few minutes)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  (cd "$mod" && go build -mod=readonly -trimpath \
      -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION" \
      -o "$dir.tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger) >&2 \
    || die "building Jaeger failed (see above)"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}
[ -x "$dir/jaeger" ] || with_lock "jaeger-$JAEGER_VERSION" build
echo "$dir/jaeger"
