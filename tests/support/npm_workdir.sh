# Sourced by the npm-based tests (tests/sdk/run.sh, tests/deploy/run.sh):
#   prepare_npm_workdir SOURCE_DIR WORK_DIR WHAT
# copies SOURCE_DIR's package.json, package-lock.json and *.mjs into WORK_DIR (only what
# changed, through a rename, so a reader never sees a file half-written), runs `npm ci` there
# when node_modules does not match the lock file, and leaves the calling shell holding a shared
# lock on WORK_DIR (fd 9) until it exits, so no other run reinstalls under it. Exits 77
# (ctest: skipped) when npm ci fails (no registry).
prepare_npm_workdir() {
  local source=$1 work=$2 what=$3
  mkdir -p "$work"
  exec 9>"$work/.lock"
  if command -v flock >/dev/null; then flock -x 9; fi
  _sync_file() {
    cmp -s "$1" "$2" 2>/dev/null || { cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"; }
  }
  _sync_file "$source/package.json" "$work/package.json"
  _sync_file "$source/package-lock.json" "$work/package-lock.json"
  local f
  for f in "$source"/*.mjs; do _sync_file "$f" "$work/$(basename "$f")"; done
  # node_modules matches the lock file when the stamp holds the lock file's hash.
  local want stamp
  want=$(sha256sum "$work/package-lock.json" | cut -d' ' -f1)
  stamp="$work/node_modules/.portico-lock-sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing the pinned $what (npm ci) into $work"
    if ! (cd "$work" && timeout 240 npm ci --no-audit --no-fund --loglevel=error); then
      rm -f "$stamp"
      echo "npm ci failed (registry unreachable?): skipped"
      exit 77
    fi
    echo "$want" >"$stamp"
  fi
  if command -v flock >/dev/null; then flock -s 9; fi
}
