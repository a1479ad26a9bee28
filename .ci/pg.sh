#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for vane's tests: installs Debian's `postgresql` when it is
# missing (apt-get, as root), initdb + pg_ctl into a temp folder as the unprivileged `postgres`
# user, listening on 127.0.0.1:${VANE_PG_PORT:-55432} only, and prints the line
#   export DATABASE_URL=postgres://vane@127.0.0.1:PORT/vane
# for the caller to eval. `bash .ci/pg.sh stop` stops the cluster this script started.
#
#   eval "$(bash .ci/pg.sh)"      # start (idempotent: reuses a running cluster on the port)
#   bash .ci/pg.sh stop
set -euo pipefail

PORT="${VANE_PG_PORT:-55432}"
ROOT="${VANE_PG_DIR:-/tmp/vane-pg-$PORT}"
RUNAS=postgres

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$d" ] && echo "$d"
}

as_pg() {
  if [ "$(id -un)" = "$RUNAS" ]; then "$@"; else runuser -u "$RUNAS" -- "$@"; fi
}

if [ "${1:-start}" = "stop" ]; then
  BIN=$(bindir) || exit 0
  [ -d "$ROOT/data" ] && as_pg "$BIN/pg_ctl" -D "$ROOT/data" -m fast -w stop >/dev/null 2>&1 || true
  exit 0
fi

if [ -z "$(bindir)" ]; then
  echo "installing postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
fi
BIN=$(bindir)
id "$RUNAS" >/dev/null 2>&1 || useradd --system --no-create-home "$RUNAS"

if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  chown "$RUNAS" "$ROOT"
  as_pg "$BIN/initdb" -D "$ROOT/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
fi
# The role and database the tests use (idempotent).
psql_pg() { as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname = 'vane'" | grep -q 1 \
  || psql_pg -c "CREATE ROLE vane LOGIN SUPERUSER"
psql_pg -c "SELECT 1 FROM pg_database WHERE datname = 'vane'" | grep -q 1 \
  || psql_pg -c "CREATE DATABASE vane OWNER vane"
echo "export DATABASE_URL=postgres://vane@127.0.0.1:$PORT/vane"
