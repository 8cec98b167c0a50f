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

# shellcheck source=../support/npm_workdir.sh
source "$here/../support/npm_workdir.sh"
prepare_npm_workdir "$here" "$work" validators

(cd "$work" && PORTICO_REPO="$repo" PORTICO_DEPLOY_FIXTURES="$here/fixtures" \
  node --test --test-reporter=spec manifests.test.mjs 9>&-)
