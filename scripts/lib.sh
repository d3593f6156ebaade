# shellcheck shell=bash
# Shared helpers for the bootstrap scripts (sourced after env.sh). Messages go to stderr: stdout carries results.
log() { printf '[toolgate] %s\n' "$*" >&2; }
die() { printf '[toolgate] error: %s\n' "$*" >&2; exit 1; }

# alive PID: the process runs (a zombie, exited but not reaped yet, counts as gone).
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# version_ge A B: true when dotted version A >= B (leading "v" ignored).
version_ge() {
  [ "$(printf '%s\n%s\n' "${2#v}" "${1#v}" | sort -V | head -n1)" = "${2#v}" ]
}

# with_lock NAME CMD...: runs CMD holding an exclusive lock, so two makes (or a make and a test) never build the same
# thing into the same cache folder at once; the second waits, then finds the result.
with_lock() {
  local name="$1"; shift
  mkdir -p "$TOOLGATE_CACHE/locks"
  (
    flock -w 1800 9 || die "timed out waiting for the $name lock ($TOOLGATE_CACHE/locks/$name.lock)"
    "$@"
  ) 9>"$TOOLGATE_CACHE/locks/$name.lock"
}

# Go builds: a Go new enough for the modules we build, the module proxy, no VCS stamping (module zips have no .git).
require_go() {
  command -v go >/dev/null || die "go is not on PATH: install Go >= 1.24 (Debian: golang-1.24 or newer) to build $1"
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"
}
