# Shared by docker/smoke-test.sh and deploy/compose-smoke.sh (sourced, not run): a Docker engine
# of our own on this machine with no registry and no bridge network.
#
#   portico_docker_start [extra Debian packages...]
#       needs root; installs docker.io, mmdebstrap, curl (and the extras) when missing; starts
#       dockerd with no bridge, no NAT and no iptables changes (so every container must use host
#       networking); imports debian:bookworm (and tags debian:bookworm-slim) from an mmdebstrap
#       minbase of the machine's own apt sources when the engine does not have it yet.
#       Sets W (this script's scratch directory), DOCKER (Debian's client, BuildKit built in)
#       and exports DOCKER_HOST.
#   portico_docker_stop
#       stops that dockerd by its PID (bounded wait), unmounts what it leaves behind and removes
#       W. Call it from the script's EXIT trap, after removing the script's containers.
#
# PORTICO_DOCKER_ROOT=DIR keeps the engine's data root (images, build cache) in DIR instead of
# in W, so scripts run one after the other share the base image and the cached Portico build
# (.ci/run sets it for both smoke tests and removes DIR at the end). One engine at a time may
# use DIR: a lock refuses a second one.

W=""                    # set by portico_docker_start, never taken from the environment
DOCKER=/usr/bin/docker  # Debian's client: BuildKit built in (a newer one first in PATH lacks it)

portico_docker_start() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$0 needs root (it starts its own dockerd)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local need=() p
  for p in docker.io mmdebstrap curl "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
  fi

  W=$(mktemp -d /tmp/portico-docker.XXXXXX)
  export DOCKER_HOST=unix://$W/docker.sock
  local data_root=$W/data
  if [ -n "${PORTICO_DOCKER_ROOT:-}" ]; then
    mkdir -p "$PORTICO_DOCKER_ROOT"
    exec 8>"$PORTICO_DOCKER_ROOT/.lock"
    flock -n 8 || { echo "another dockerd uses $PORTICO_DOCKER_ROOT" >&2; exit 1; }
    data_root=$PORTICO_DOCKER_ROOT/data
  fi

  dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --data-root "$data_root" --exec-root "$W/exec" --pidfile "$W/dockerd.pid" \
    -H "$DOCKER_HOST" > "$W/dockerd.log" 2>&1 8>&- &
  local _
  for _ in $(seq 100); do $DOCKER version >/dev/null 2>&1 && break; sleep 0.2; done
  $DOCKER version >/dev/null || { cat "$W/dockerd.log" >&2; exit 1; }

  if ! $DOCKER image inspect debian:bookworm >/dev/null 2>&1; then
    local src=/etc/apt/sources.list.d/debian.sources
    [ -f "$src" ] || src=/etc/apt/sources.list
    TMPDIR=$W mmdebstrap --quiet --format=tar --variant=minbase bookworm "$W/base.tar" "$src"
    $DOCKER import --change 'CMD ["/bin/bash"]' "$W/base.tar" debian:bookworm >/dev/null
    rm -f "$W/base.tar"
  fi
  $DOCKER image inspect debian:bookworm-slim >/dev/null 2>&1 ||
    $DOCKER tag debian:bookworm debian:bookworm-slim
}

portico_docker_stop() {
  [ -n "$W" ] && [ -d "$W" ] || return 0
  local pid="" _
  [ -f "$W/dockerd.pid" ] && pid=$(cat "$W/dockerd.pid")
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  local dir
  for dir in "$W" ${PORTICO_DOCKER_ROOT:+"$PORTICO_DOCKER_ROOT"}; do
    grep -o " $dir[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  done
  rm -rf "$W"
}
