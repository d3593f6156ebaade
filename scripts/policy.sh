#!/usr/bin/env bash
# Policy author's commands for rego/ (see rego/README.md).
#
#   scripts/policy.sh [build]   compile rego/ to the WASM bundle in build/policy/ (skipped when nothing changed)
#   scripts/policy.sh test      opa test with coverage; fails under $POLICY_COVERAGE_MIN percent (default 90)
#   scripts/policy.sh check     fmt, strict check against the WASM capabilities, reason-code list, fixtures, test
#   scripts/policy.sh revision  print the revision the bundle gets
#
# Output of build: build/policy/bundle.tar.gz as `opa build` wrote it, and extracted beside it policy.wasm,
# data.json and .manifest (what src/policy loads). The revision is `<git short sha | local>-<12 hex>`, the hex
# being the SHA-256 over the bundle's inputs (every rego/**/*.rego except *_test.rego, and rego/**/data.json),
# so the same policy always gets the same revision and an unchanged policy is not rebuilt.
# Environment: TOOLGATE_OPA (opa binary; default: scripts/opa.sh), POLICY_OUT (default build/policy).
# Signing: with TOOLGATE_POLICY_SIGNING_KEY=<private key PEM> the bundle is built in bundle mode and signed
# (opa build --signing-key; algorithm TOOLGATE_POLICY_SIGNING_ALG, default RS256 — ES256 for an EC P-256 key,
# EdDSA for Ed25519); .signatures.json is extracted beside the other files. The gateway verifies it with the
# public key (TOOLGATE_POLICY_VERIFICATION_KEY).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/env.sh"
. "$here/lib.sh" # with_lock

log() { printf '[policy] %s\n' "$*" >&2; }
die() { printf '[policy] error: %s\n' "$*" >&2; exit 1; }

rego="$root/rego"
out="${POLICY_OUT:-$root/build/policy}"
caps="$root/node_modules/@open-policy-agent/opa-wasm/capabilities.json"
fixtures="$root/test/fixtures/policy"
# The decision every call gets, and which tools an MCP tools/list shows each agent (rego/toolgate/visible.rego).
entrypoints=(-e toolgate/decision -e toolgate/visible)
coverage_min="${POLICY_COVERAGE_MIN:-90}"
# Loaded by `opa eval -d rego/` and `opa test rego/`, but never part of the bundle.
ignore=(--ignore '*_test.rego' --ignore 'reason_codes.json' --ignore '*.md')

# The npm package's capabilities.json lists the builtins its WASM runtime implements but no language features,
# and OPA 1.x refuses to parse v1 Rego without the rego_v1 feature. Add exactly that feature: the builtin list
# stays the runtime's, and newer syntax (e.g. template strings) stays out of a policy the gateway must run.
wasm_caps() {
  [ -f "$caps" ] || die "$caps is missing: run npm ci first (the WASM capabilities come with @open-policy-agent/opa-wasm)"
  mkdir -p "$root/build"
  jq '. + {features: ((.features // []) + ["rego_v1"] | unique)}' "$caps" >"$root/build/.wasm-capabilities.json.$$"
  mv -f "$root/build/.wasm-capabilities.json.$$" "$root/build/wasm-capabilities.json"
  echo "$root/build/wasm-capabilities.json"
}

need_jq() { command -v jq >/dev/null || die "jq is not on PATH (Debian: apt-get install jq)"; }

opa_bin() {
  if [ -n "${TOOLGATE_OPA:-}" ]; then echo "$TOOLGATE_OPA"
  elif [ -f "$here/opa.sh" ]; then bash "$here/opa.sh"
  else echo "$TOOLGATE_CACHE/bin/opa-$OPA_VERSION/opa"
  fi
}

# The bundle's inputs, sorted bytewise so every machine lists them in the same order.
policy_files() {
  (cd "$root" && find rego -type f \( -name '*.rego' ! -name '*_test.rego' -o -name 'data.json' \) | LC_ALL=C sort)
}

revision() {
  local sha content
  sha="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo local)"
  content="$(cd "$root" && policy_files | while IFS= read -r f; do sha256sum "$f"; done | sha256sum | cut -c1-12)"
  echo "$sha-$content"
}

build() {
  local opa rev stamp wcaps
  tmp="" # global: the EXIT trap below reads it after build returns
  wcaps="$(wasm_caps)"
  opa="$(opa_bin)"
  [ -x "$opa" ] || die "no opa at $opa: set TOOLGATE_OPA or run scripts/opa.sh"
  rev="$(revision)"
  # Everything that changes the output: the policy, its entrypoints, the compiler and the capabilities it was
  # checked against.
  local signing=() signed="unsigned"
  if [ -n "${TOOLGATE_POLICY_SIGNING_KEY:-}" ]; then
    [ -r "$TOOLGATE_POLICY_SIGNING_KEY" ] || die "TOOLGATE_POLICY_SIGNING_KEY=$TOOLGATE_POLICY_SIGNING_KEY is not a readable PEM private key"
    # Bundle mode: opa signs only bundles; it compiles the same policy.wasm and data.json as the plain build.
    signing=(-b --signing-key "$TOOLGATE_POLICY_SIGNING_KEY" --signing-alg "${TOOLGATE_POLICY_SIGNING_ALG:-RS256}")
    signed="signed:${TOOLGATE_POLICY_SIGNING_ALG:-RS256}:$(sha256sum "$TOOLGATE_POLICY_SIGNING_KEY" | cut -c1-12)"
  fi
  stamp="$rev ${entrypoints[*]} $("$opa" version | sed -n 's/^Version: *//p') $(sha256sum "$wcaps" | cut -c1-12) $signed"
  if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] \
    && [ -s "$out/policy.wasm" ] && [ -s "$out/data.json" ] && [ -s "$out/.manifest" ]; then
    log "up to date: $out (revision $rev)"
    return 0
  fi
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/toolgate-policy.XXXXXX")"
  trap 'rm -rf "${tmp:-}"' EXIT # build runs in with_lock's subshell
  (cd "$root" && "$opa" build -t wasm "${entrypoints[@]}" -r "$rev" --capabilities "$wcaps" "${ignore[@]}" \
    ${signing[@]+"${signing[@]}"} -o "$tmp/bundle.tar.gz" rego/) || die "opa build failed (see above)"
  local files=(policy.wasm data.json .manifest)
  [ "$signed" = unsigned ] || files+=(.signatures.json)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp/bundle.tar.gz" -C "$tmp/x" "${files[@]/#//}" 2>/dev/null \
    || tar -xzf "$tmp/bundle.tar.gz" -C "$tmp/x" "${files[@]}" \
    || die "bundle $tmp/bundle.tar.gz lacks one of ${files[*]}"
  mkdir -p "$out"
  # Replace the outputs one by one with renames in the same folder; the stamp goes first and comes back
  # last, so an interrupted build is never taken as up to date.
  rm -f "$out/.stamp"
  [ "$signed" != unsigned ] || rm -f "$out/.signatures.json" # a stale signature would not match the new files
  for f in "${files[@]}"; do
    cp "$tmp/x/$f" "$out/.$f.new" && chmod 644 "$out/.$f.new" && mv -f "$out/.$f.new" "$out/$f"
  done
  cp "$tmp/bundle.tar.gz" "$out/.bundle.new" && mv -f "$out/.bundle.new" "$out/bundle.tar.gz"
  printf '%s\n' "$stamp" >"$out/.stamp"
  log "built $out (revision $rev, $signed)"
}

run_tests() {
  local opa report pct
  opa="$(opa_bin)"
  report="$(cd "$root" && "$opa" test --coverage --format=json rego/)" || {
    (cd "$root" && "$opa" test rego/) >&2 || true
    die "opa test failed"
  }
  pct="$(jq -r '.coverage' <<<"$report")"
  (cd "$root" && "$opa" test rego/) >&2
  log "coverage ${pct}% (minimum ${coverage_min}%)"
  jq -r '.files | to_entries[] | select(.value.coverage < 100) | "  \(.key): \(.value.coverage)%"' <<<"$report" >&2
  awk -v p="$pct" -v m="$coverage_min" 'BEGIN { exit !(p >= m) }' || die "coverage ${pct}% is under ${coverage_min}%"
}

# Every code a policy file emits (lib.reason("code", ...)) is documented in rego/reason_codes.json and in
# rego/README.md, and nothing in reason_codes.json is stale.
check_codes() {
  local used listed
  used="$(grep -rhozP 'reason\(\s*"\K[a-z0-9_]+' --include='*.rego' --exclude='*_test.rego' "$rego" | tr '\0' '\n' | LC_ALL=C sort -u)"
  listed="$(jq -r 'keys[]' "$rego/reason_codes.json" | LC_ALL=C sort -u)"
  if [ "$used" != "$listed" ]; then
    diff <(echo "$used") <(echo "$listed") | sed -n 's/^< /  emitted but not in rego\/reason_codes.json: /p; s/^> /  in rego\/reason_codes.json but never emitted: /p' >&2
    die "rego/reason_codes.json is out of date"
  fi
  local missing
  missing="$(while IFS= read -r code; do grep -q "\`$code\`" "$rego/README.md" || echo "$code"; done <<<"$used")"
  [ -z "$missing" ] || die "rego/README.md's reason code table lacks: $(echo $missing)"
  log "reason codes: $(echo "$used" | wc -l) emitted, all documented"
}

# Every fixture input gets a defined decision with the outcome and reason codes test/fixtures/policy/cases.json
# expects (one opa eval for all of them).
check_fixtures() {
  local opa inputs got
  opa="$(opa_bin)"
  inputs="$(cd "$fixtures" && jq -c '[.cases[].input]' cases.json | jq -r '.[]' | while IFS= read -r f; do cat "$f"; done | jq -s '{cases: .}')"
  got="$(cd "$root" && "$opa" eval -d rego/ -I -f json \
    '[{"outcome": d.outcome, "codes": sort([r.code | some r in d.reasons])} | some c in input.cases; d := data.toolgate.decision with input as c]' \
    <<<"$inputs" | jq -c '.result[0].expressions[0].value')"
  jq -n --argjson got "$got" --slurpfile want "$fixtures/cases.json" '
    [$want[0].cases, $got] | transpose | map(select(.[0].outcome != .[1].outcome or .[0].codes != .[1].codes)
      | "  \(.[0].name): got \(.[1].outcome) \(.[1].codes), want \(.[0].outcome) \(.[0].codes)") | .[]' -r >&2
  jq -e -n --argjson got "$got" --slurpfile want "$fixtures/cases.json" '
    ($want[0].cases | length) == ($got | length) and
    ([$want[0].cases, $got] | transpose | all(.[0].outcome == .[1].outcome and .[0].codes == .[1].codes))' >/dev/null \
    || die "fixture decisions differ from test/fixtures/policy/cases.json"
  log "fixtures: $(jq length <<<"$got") inputs decided as expected"
}

check() {
  local opa unformatted
  opa="$(opa_bin)"
  unformatted="$(cd "$root" && "$opa" fmt --list rego/)"
  [ -z "$unformatted" ] || die "not formatted (run: opa fmt -w rego/): $unformatted"
  (cd "$root" && "$opa" check --strict rego/) || die "opa check --strict failed"
  # Builtins the WASM runtime lacks fail here, not at load time in the gateway.
  (cd "$root" && "$opa" check --strict --capabilities "$(wasm_caps)" "${ignore[@]}" rego/) \
    || die "the policy uses builtins the WASM runtime does not support"
  check_codes
  check_fixtures
  run_tests
}

need_jq
case "${1:-build}" in
  build) with_lock policy-build build ;;
  test) run_tests ;;
  check) check ;;
  revision) revision ;;
  *) die "unknown command '$1' (use build, test, check or revision)" ;;
esac
