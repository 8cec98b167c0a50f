#!/bin/bash
# Starts PostgreSQL on POSTGRES_HOST:POSTGRES_PORT (127.0.0.1:5432) with its data in PGDATA.
# On the first start (an empty PGDATA) it creates the cluster and the role POSTGRES_USER
# (portico) with the password POSTGRES_PASSWORD (or the file named by POSTGRES_PASSWORD_FILE),
# owning the database POSTGRES_DB (portico). TCP logins need that password (scram-sha-256);
# local socket logins only as the postgres OS user. initdb allows TCP from loopback only; to
# serve Portico on other hosts set POSTGRES_HOST (e.g. 0.0.0.0) and POSTGRES_ALLOW_CIDR (e.g.
# 10.0.0.0/8) before the first start. Extra arguments go to postgres (e.g. -c max_connections=200).
set -euo pipefail
password=${POSTGRES_PASSWORD:-}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password=$(cat "$POSTGRES_PASSWORD_FILE"); fi
user=${POSTGRES_USER:-portico}
db=${POSTGRES_DB:-portico}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$password" ]; then
    echo "postgres: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE for the first start" >&2
    exit 1
  fi
  initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --no-locale \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  if [ -n "${POSTGRES_ALLOW_CIDR:-}" ]; then
    echo "host all all ${POSTGRES_ALLOW_CIDR} scram-sha-256" >> "$PGDATA/pg_hba.conf"
  fi
  # Set up over the socket only, then stop: TCP opens once the role exists.
  pg_ctl --pgdata="$PGDATA" --silent --wait \
    -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start
  psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres -d postgres \
    -v user="$user" -v password="$password" -v db="$db" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
  pg_ctl --pgdata="$PGDATA" --silent --wait --mode=fast stop
  echo "postgres: initialised $PGDATA with role $user and database $db"
fi

exec postgres -D "$PGDATA" -c listen_addresses="${POSTGRES_HOST:-127.0.0.1}" \
  -p "${POSTGRES_PORT:-5432}" -c unix_socket_directories=/var/run/postgresql "$@"
