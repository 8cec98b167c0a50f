#!/bin/bash
# Healthy when PostgreSQL accepts connections on POSTGRES_HOST:POSTGRES_PORT for the database.
exec pg_isready --quiet -h "${POSTGRES_HOST:-127.0.0.1}" -p "${POSTGRES_PORT:-5432}" \
  -U "${POSTGRES_USER:-portico}" -d "${POSTGRES_DB:-portico}"
