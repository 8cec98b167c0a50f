#!/usr/bin/env bash
# Offline checks of deploy/ (no cluster, no Docker):
#   run.sh [work dir]
# validates every manifest in deploy/kubernetes against the Kubernetes API schemas
# (kubernetes-models) plus our own rules, checks deploy/compose.yaml's shape (and runs
# `docker-compose config` on it when docker-compose is installed), and checks that the broken
# fixtures in tests/deploy/fixtures are refused for the right reasons.
# Installs the packages pinned in package-lock.json into the work directory (default
# PORTICO_DEPLOY_TEST_WORKDIR, else deploy-tests under the system temp dir), once, under a
# lock. Exits 77 (ctest: skipped) when node (>= 18) or npm is missing or the packages cannot be
# installed, so an offline machine reports a skip, not a pass.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-${PORTICO_DEPLOY_TEST_WORKDIR:-${TMPDIR:-/tmp}/portico-deploy-tests}}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not found: skipped"; exit 77; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || { echo "node $(node --version) is older than 18: skipped"; exit 77; }

mkdir -p "$work"
# Exclusive while installing and copying, shared while the test runs.
exec 9>"$work/.lock"
if command -v flock >/dev/null; then flock -x 9; fi
sync_file() {
  cmp -s "$1" "$2" 2>/dev/null || { cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"; }
}
sync_file "$here/package.json" "$work/package.json"
sync_file "$here/package-lock.json" "$work/package-lock.json"
for f in "$here"/*.mjs; do sync_file "$f" "$work/$(basename "$f")"; done

want=$(sha256sum "$work/package-lock.json" | cut -d' ' -f1)
stamp="$work/node_modules/.portico-lock-sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing the pinned validators (npm ci) into $work"
  if ! (cd "$work" && timeout 240 npm ci --no-audit --no-fund --loglevel=error); then
    rm -f "$stamp"
    echo "npm ci failed (registry unreachable?): skipped"
    exit 77
  fi
  echo "$want" >"$stamp"
fi
if command -v flock >/dev/null; then flock -s 9; fi

(cd "$work" && PORTICO_REPO="$repo" PORTICO_DEPLOY_FIXTURES="$here/fixtures" \
  node --test --test-reporter=spec manifests.test.mjs 9>&-)
