#!/usr/bin/env bash
# A throw-away PostgreSQL server for the targeting service's tests: Debian's postgresql package,
# installed if missing (needs root and apt-get), initialised in a temporary folder as a non-root
# user, listening only on 127.0.0.1 on a free port.
#
#   source scripts/ensure-postgres.sh start   # exports CALLAO_TEST_POSTGRES_URL and CALLAO_TEST_POSTGRES_DIR
#   scripts/ensure-postgres.sh stop DIR       # stops the server and removes DIR
#
# Without root or apt-get, or if the server cannot start, `start` prints why and exports nothing
# (the PostgreSQL tests are then skipped, and say so).
set -uo pipefail

_pg_bindir() {
  local d
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0; }
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  done
  return 1
}

_pg_install() {
  _pg_bindir >/dev/null && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: installing Debian's postgresql for the service tests..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq postgresql >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq postgresql >/dev/null 2>&1; }
  fi
  _pg_bindir >/dev/null
}

_pg_start() {
  local bin dir port owner run
  _pg_install || { echo "ensure-postgres: no PostgreSQL (and cannot install it)" >&2; return 1; }
  bin="$(_pg_bindir)"
  dir="$(mktemp -d /tmp/callao-pg.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  owner="$(id -un)"
  run=()
  if [[ $(id -u) -eq 0 ]]; then  # the server refuses to run as root: use an unprivileged account
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    chown "$owner" "$dir"
    run=(runuser -u "$owner" --)
  fi
  chmod 700 "$dir"
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U callao --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { echo "ensure-postgres: initdb failed:" >&2; cat "$dir/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on -c max_connections=200" \
    start >/dev/null || { echo "ensure-postgres: the server did not start:" >&2; cat "$dir/server.log" >&2; return 1; }
  export CALLAO_TEST_POSTGRES_URL="postgresql://callao@127.0.0.1:$port/postgres"
  export CALLAO_TEST_POSTGRES_DIR="$dir"
  echo "ensure-postgres: PostgreSQL on 127.0.0.1:$port ($CALLAO_TEST_POSTGRES_URL)" >&2
}

_pg_stop() {
  local dir="$1" bin run=()
  [[ -d "$dir/data" ]] || return 0
  bin="$(_pg_bindir)" || return 0
  [[ $(id -u) -eq 0 ]] && run=(runuser -u "$(stat -c %U "$dir/data")" --)
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-start}" in
  start) _pg_start ;;
  stop) _pg_stop "${2:?usage: ensure-postgres.sh stop DIR}" ;;
  *) echo "usage: ensure-postgres.sh start|stop DIR" >&2; false ;;
esac
