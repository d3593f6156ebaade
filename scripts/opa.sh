#!/usr/bin/env bash
# Prints the path of an `opa` >= $OPA_MIN_VERSION: the one on PATH when new enough, else the pinned $OPA_VERSION
# built once with `go install` into $TOOLGATE_CACHE/bin/opa-$OPA_VERSION (about 80 s cold on 2 cores).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/lib.sh"

opa_version() { "$1" version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1; }

if found="$(command -v opa 2>/dev/null)"; then
  v="$(opa_version "$found")"
  if [ -n "$v" ] && version_ge "$v" "$OPA_MIN_VERSION"; then echo "$found"; exit 0; fi
  log "ignoring $found (version ${v:-unknown} < $OPA_MIN_VERSION)"
fi

dir="$TOOLGATE_CACHE/bin/opa-$OPA_VERSION"
build() {
  [ -x "$dir/opa" ] && return 0
  require_go "OPA"
  log "building OPA $OPA_VERSION with go install (first time only, ~80 s)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2 \
    || die "go install github.com/open-policy-agent/opa@$OPA_VERSION failed (see above)"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}
[ -x "$dir/opa" ] || with_lock "opa-$OPA_VERSION" build
v="$(opa_version "$dir/opa")"
version_ge "${v:-0}" "$OPA_MIN_VERSION" || die "$dir/opa reports version '${v}', need >= $OPA_MIN_VERSION"
echo "$dir/opa"
