#!/bin/bash
# Renders the mounted template into a config under /var/lib/nginx/run, checks it and runs
# nginx in the foreground (error log on stderr, access log on stdout: `docker logs`).
set -euo pipefail
template=${NGINX_TEMPLATE:-/etc/nginx/portico.conf.template}
conf=/var/lib/nginx/run/nginx.conf
[ -r "$template" ] || { echo "nginx: no configuration template at $template" >&2; exit 1; }
envsubst '${LB_HOST} ${LB_PORT} ${PORTICO_A} ${PORTICO_B}' < "$template" > "$conf"
nginx -e stderr -t -q -c "$conf"
exec nginx -e stderr -c "$conf" -g 'daemon off;' "$@"
