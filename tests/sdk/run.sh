#!/usr/bin/env bash
# Runs the official OpenAI Node SDK against the portico binary ($1). Installs the pinned SDK from
# the npm registry into the build tree; exits 77 (ctest: skipped) when node or npm is missing
# or the registry cannot be reached, so an offline machine reports a skip, not a pass.
set -uo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
work=${PORTICO_SDK_WORKDIR:-$(dirname "$binary")/sdk-tests}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not found: skipped"; exit 77; }
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here"/*.test.mjs "$work/"
if [ ! -d "$work/node_modules/openai" ]; then
  (cd "$work" && timeout 180 npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "npm ci failed: skipped"; exit 77; }
fi
cd "$work" && PORTICO_BINARY="$binary" PORTICO_CA_FILE="$here/../data/certs/ca.pem" \
  node --test --test-reporter=spec openai_sdk.test.mjs
