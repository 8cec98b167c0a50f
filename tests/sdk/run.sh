#!/usr/bin/env bash
# Runs client SDKs (OpenAI, Portkey, Vercel AI SDK, LangChain JS, OpenAI Agents, Anthropic) against
# the portico binary:
#   run.sh <portico binary> [file.test.mjs ...]     (no file: every *.test.mjs here)
# Installs the packages pinned in package-lock.json from the npm registry into a work directory
# in the build tree (PORTICO_SDK_WORKDIR, default <binary dir>/sdk-tests), once, under a lock, so
# several of these may run in parallel (ctest -j). Exits 77 (ctest: skipped) when node (>= 20) or
# npm is missing or the packages cannot be installed, so an offline machine reports a skip, not a
# pass. PORTICO_SDK_VERBOSE=1 shows the gateway's log.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 <portico binary> [file.test.mjs ...]" >&2; exit 2; }
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
work=${PORTICO_SDK_WORKDIR:-$(dirname "$binary")/sdk-tests}
[ -x "$binary" ] || { echo "no portico binary at $binary" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not found: skipped"; exit 77; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "node $(node --version) is older than 20: skipped"; exit 77; }

if [ $# -eq 0 ]; then
  files=()
  for f in "$here"/*.test.mjs; do files+=("$(basename "$f")"); done
else
  files=("$@")
fi
for f in "${files[@]}"; do
  [ -f "$here/$f" ] || { echo "no such test file: $here/$f" >&2; exit 2; }
done

# shellcheck source=../support/npm_workdir.sh
source "$here/../support/npm_workdir.sh"
prepare_npm_workdir "$here" "$work" SDKs

# The shared lock stays with this shell (not node, not portico) until the tests end.
(cd "$work" && env -u PORTKEY_API_KEY -u PORTKEY_BASE_URL -u OPENAI_API_KEY -u OPENAI_BASE_URL \
  PORTICO_BINARY="$binary" PORTICO_CA_FILE="$here/../data/certs/ca.pem" \
  node --test --test-reporter=spec "${files[@]}" 9>&-)
