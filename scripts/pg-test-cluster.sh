#!/usr/bin/env bash
# A throw-away PostgreSQL for the broker's tests and the local replicated set-up: initdb into a fresh directory,
# trust auth on 127.0.0.1 and a free port, no fsync (nothing here must survive a power cut). Never the machine's own
# cluster (`pg_lsclusters`), which stays as it was.
#
#   scripts/pg-test-cluster.sh start    starts it (or finds it running); prints the URL, also written to .tmp/pg.url
#   scripts/pg-test-cluster.sh stop     stops it and deletes its files
#   scripts/pg-test-cluster.sh restart [SECONDS]  stops the same cluster, waits SECONDS (default 0), starts it again
#                                       on the same port (the fault tests use it)
#   scripts/pg-test-cluster.sh url      prints the URL of the running cluster, or fails
#
# initdb refuses to run as root: as root, the cluster runs as the `postgres` user, in a directory under /tmp it owns.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
# PG_TEST_CLUSTER=name: another cluster of its own (a test that restarts its database must not restart the others').
suffix=${PG_TEST_CLUSTER:+-$PG_TEST_CLUSTER}
url_file=.tmp/pg$suffix.url
dir_file=.tmp/pg$suffix.dir
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] && command -v pg_ctl >/dev/null; then bin=$(dirname "$(command -v pg_ctl)"); fi
[ -n "$bin" ] || { echo "pg-test-cluster: no PostgreSQL server binaries (Debian: apt-get install postgresql)" >&2; exit 2; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {
  [ -s "$dir_file" ] && [ -s "$url_file" ] && as_owner "$bin/pg_ctl" -D "$(cat "$dir_file")" status >/dev/null 2>&1
}

start_at() { # dir port
  as_owner "$bin/pg_ctl" -D "$1" -l "$1/server.log" -w -t 30 -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
}

case "${1:-start}" in
  start)
    if running; then cat "$url_file"; exit 0; fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/d1-pg.XXXXXX")
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
    # A free port: the kernel's choice for a socket bound to 0, given back at once.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    start_at "$dir/data" "$port"
    echo "$dir/data" > "$dir_file"
    echo "postgres://postgres@127.0.0.1:$port/postgres" > "$url_file"
    cat "$url_file"
    ;;
  stop)
    if [ -s "$dir_file" ]; then
      data=$(cat "$dir_file")
      as_owner "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$(dirname "$data")"
    fi
    rm -f "$dir_file" "$url_file"
    ;;
  restart)
    [ -s "$dir_file" ] || { echo "pg-test-cluster: not started" >&2; exit 1; }
    data=$(cat "$dir_file")
    port=$(sed -E 's/.*:([0-9]+)\/.*/\1/' "$url_file")
    as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    sleep "${2:-0}"
    start_at "$data" "$port"
    ;;
  url)
    running || { echo "pg-test-cluster: not running (scripts/pg-test-cluster.sh start)" >&2; exit 1; }
    cat "$url_file"
    ;;
  *) echo "usage: $0 start|stop|restart|url" >&2; exit 2 ;;
esac
