#!/usr/bin/env bash
# The deploy files of this directory, run for real on loopback ports from Debian's packages:
# PostgreSQL (a cluster of its own), gunicorn (2 workers), two `oembed-server worker`s,
# nginx with deploy/nginx/media-bridge.conf, Prometheus with deploy/prometheus/media-bridge.yml,
# and the project's HubSpot emulator standing in for HubSpot.
#
#   deploy/local-stack.sh up      start everything (state in $MEDIA_BRIDGE_STACK_DIR,
#                                 default /tmp/media-bridge-stack), print the addresses
#   deploy/local-stack.sh smoke   prove it works (deploy/stack_smoke.py); exit 1 naming what failed
#   deploy/local-stack.sh down    stop everything and remove the state directory
#
# Needs: postgresql, nginx, prometheus (apt), the project installed (pip install .), and a
# checkout (the emulator lives in tests/). Run from anywhere; as root, PostgreSQL runs as
# the postgres user.
set -euo pipefail

DEPLOY_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$DEPLOY_DIR")
STACK_DIR=${MEDIA_BRIDGE_STACK_DIR:-/tmp/media-bridge-stack}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PYTHON=${PYTHON:-python3}

say() { echo "== $*"; }
die() { echo "!! $*" >&2; exit 1; }

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {  # wait_for WHAT SECONDS COMMAND...: retry COMMAND until it succeeds
  local what=$1 seconds=$2 i
  shift 2
  for ((i = 0; i < seconds * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not come up within ${seconds}s (logs in $STACK_DIR/logs)"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

start_bg() {  # start_bg NAME COMMAND...: run in the background, pid in run/NAME.pid
  local name=$1
  shift
  (cd "$ROOT" && exec "$@") >"$STACK_DIR/logs/$name.log" 2>&1 &
  echo $! >"$STACK_DIR/run/$name.pid"
}

http_ok() { "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }

up() {
  [ -e "$STACK_DIR/stack.env" ] && die "a stack is already up in $STACK_DIR (run: $0 down)"
  for tool in nginx prometheus "$PG_BIN/initdb" gunicorn oembed-server; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (apt-get install -y postgresql nginx prometheus; pip install .)"
  done
  mkdir -p "$STACK_DIR"/{logs,run,nginx/cache,nginx/temp,prometheus/data,metrics}
  chmod 755 "$STACK_DIR"
  trap 'status=$?; if [ "$status" != 0 ]; then echo "!! up failed; stopping what started" >&2; down; fi' EXIT

  local pg_port emulator_port app_port nginx_port prometheus_port password secret_key metrics_token
  pg_port=$(free_port); emulator_port=$(free_port); app_port=$(free_port)
  nginx_port=$(free_port); prometheus_port=$(free_port)
  password=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')
  secret_key=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
  metrics_token=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')

  say "PostgreSQL on 127.0.0.1:$pg_port"
  mkdir -p "$STACK_DIR/pg"
  [ "$(id -u)" = 0 ] && chown postgres: "$STACK_DIR/pg"
  as_postgres "'$PG_BIN/initdb' -D '$STACK_DIR/pg/data' -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8" \
    >"$STACK_DIR/logs/initdb.log"
  as_postgres "'$PG_BIN/pg_ctl' -D '$STACK_DIR/pg/data' -l '$STACK_DIR/pg/postgresql.log' -w \
    -o \"-p $pg_port -c listen_addresses=127.0.0.1 -k '$STACK_DIR/pg'\" start" >/dev/null
  as_postgres "'$PG_BIN/psql' -q -h '$STACK_DIR/pg' -p $pg_port -U postgres \
    -c \"CREATE ROLE media_bridge LOGIN PASSWORD '$password'\" -c 'CREATE DATABASE media_bridge OWNER media_bridge'"

  say "HubSpot emulator on 127.0.0.1:$emulator_port"
  start_bg emulator "$PYTHON" -u -m tests.hubspot_emulator --port "$emulator_port"
  wait_for "the HubSpot emulator" 20 http_ok "http://127.0.0.1:$emulator_port/_emulator/state"
  # Its first lines are the HUBSPOT_* variables that point a client at it.
  grep '^export HUBSPOT_' "$STACK_DIR/logs/emulator.log" | sed -e 's/^export //' -e 's/ /\n/g' >"$STACK_DIR/hubspot.env"

  say "environment file $STACK_DIR/environment"
  {
    echo "OEMBED_ENV=production"
    echo "OEMBED_PUBLIC_URL=http://127.0.0.1:$nginx_port"
    echo "OEMBED_SECRET_KEY=$secret_key"
    echo "OEMBED_DATABASE_URL=postgresql://media_bridge:$password@127.0.0.1:$pg_port/media_bridge"
    echo "OEMBED_TRUSTED_PROXIES=1"
    echo "OEMBED_LOG_FORMAT=json"
    echo "OEMBED_METRICS_TOKEN=$metrics_token"
    # A session ends after 2 idle seconds, so smoke sees its played event delivered at once.
    echo "OEMBED_EVENTS_IDLE_SECONDS=2"
    cat "$STACK_DIR/hubspot.env"
  } >"$STACK_DIR/environment"
  chmod 600 "$STACK_DIR/environment"
  set -a
  # shellcheck disable=SC1091
  . "$STACK_DIR/environment"
  set +a

  say "database schema and the sample catalog"
  (cd "$ROOT" && oembed-server db upgrade)
  "$PYTHON" -c 'import sys; from oembed_server.usecases.sample_media import sample_rows; import json; json.dump(sample_rows(sys.argv[1]), open(sys.argv[2], "w"))' \
    "$OEMBED_PUBLIC_URL" "$STACK_DIR/catalog.json"
  (cd "$ROOT" && oembed-server import-catalog "$STACK_DIR/catalog.json")

  say "gunicorn (2 workers) on 127.0.0.1:$app_port"
  # The unit's command line (deploy/systemd/media-bridge-web.service), on this stack's port.
  PROMETHEUS_MULTIPROC_DIR="$STACK_DIR/metrics" start_bg gunicorn gunicorn --workers 2 --bind "127.0.0.1:$app_port" \
    --graceful-timeout 20 --access-logfile - --pid "$STACK_DIR/run/gunicorn-master.pid" "oembed_server:create_app()"
  wait_for "gunicorn" 30 http_ok "http://127.0.0.1:$app_port/healthz"

  say "two workers"
  start_bg worker-1 oembed-server worker
  start_bg worker-2 oembed-server worker

  say "nginx on 127.0.0.1:$nginx_port"
  local static_dir
  static_dir=$("$PYTHON" -c 'import os, oembed_server.web as w; print(os.path.join(os.path.dirname(w.__file__), "static"))')
  # The site file as shipped; only the lines marked "local-stack:" change.
  sed -e "s|^proxy_cache_path [^ ]*\(.*\)# local-stack: cache|proxy_cache_path $STACK_DIR/nginx/cache\1|" \
      -e "s|server 127.0.0.1:8000;.*|server 127.0.0.1:$app_port;|" \
      -e "s|listen 80;.*|listen 127.0.0.1:$nginx_port;|" \
      -e "s|alias /opt/media-bridge/static/;.*|alias $static_dir/;|" \
      "$DEPLOY_DIR/nginx/media-bridge.conf" >"$STACK_DIR/nginx/media-bridge.conf"
  grep -q "local-stack: [a-z]" "$STACK_DIR/nginx/media-bridge.conf" && die "deploy/nginx/media-bridge.conf: a local-stack: line was not rewritten"
  cat >"$STACK_DIR/nginx/nginx.conf" <<NGINX
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 1;
pid $STACK_DIR/run/nginx.pid;
error_log $STACK_DIR/logs/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log $STACK_DIR/logs/nginx-access.log;
    client_body_temp_path $STACK_DIR/nginx/temp/body;
    proxy_temp_path $STACK_DIR/nginx/temp/proxy;
    fastcgi_temp_path $STACK_DIR/nginx/temp/fastcgi;
    uwsgi_temp_path $STACK_DIR/nginx/temp/uwsgi;
    scgi_temp_path $STACK_DIR/nginx/temp/scgi;
    include $STACK_DIR/nginx/media-bridge.conf;
}
NGINX
  nginx -t -q -c "$STACK_DIR/nginx/nginx.conf" -p "$STACK_DIR/nginx/" 2>>"$STACK_DIR/logs/nginx-error.log" \
    || die "nginx refused its configuration: $(cat "$STACK_DIR/logs/nginx-error.log")"
  nginx -c "$STACK_DIR/nginx/nginx.conf" -p "$STACK_DIR/nginx/"
  wait_for "nginx" 10 http_ok "http://127.0.0.1:$nginx_port/healthz"

  say "Prometheus on 127.0.0.1:$prometheus_port"
  printf '%s' "$metrics_token" >"$STACK_DIR/prometheus/token"
  chmod 600 "$STACK_DIR/prometheus/token"
  sed -e "s|scrape_interval: 15s.*|scrape_interval: 1s|" \
      -e "s|credentials_file: .*|credentials_file: $STACK_DIR/prometheus/token|" \
      -e "s|targets: \[\"127.0.0.1:8000\"\].*|targets: [\"127.0.0.1:$app_port\"]|" \
      "$DEPLOY_DIR/prometheus/media-bridge.yml" >"$STACK_DIR/prometheus/prometheus.yml"
  grep -q "local-stack: [a-z]" "$STACK_DIR/prometheus/prometheus.yml" && die "deploy/prometheus/media-bridge.yml: a local-stack: line was not rewritten"
  start_bg prometheus prometheus --config.file="$STACK_DIR/prometheus/prometheus.yml" \
    --storage.tsdb.path="$STACK_DIR/prometheus/data" --web.listen-address="127.0.0.1:$prometheus_port"
  wait_for "Prometheus" 30 http_ok "http://127.0.0.1:$prometheus_port/-/ready"

  cat >"$STACK_DIR/stack.env" <<ENV
NGINX_URL=http://127.0.0.1:$nginx_port
APP_URL=http://127.0.0.1:$app_port
EMULATOR_URL=http://127.0.0.1:$emulator_port
PROMETHEUS_URL=http://127.0.0.1:$prometheus_port
ENV
  trap - EXIT
  say "up: site $OEMBED_PUBLIC_URL, Prometheus http://127.0.0.1:$prometheus_port, state in $STACK_DIR"
}

smoke() {
  [ -e "$STACK_DIR/stack.env" ] || die "no stack is up in $STACK_DIR (run: $0 up)"
  "$PYTHON" "$DEPLOY_DIR/stack_smoke.py" "$STACK_DIR"
}

stop_pid() {  # stop_pid NAME: SIGTERM, then SIGKILL after 25 s
  local file="$STACK_DIR/run/$1.pid" pid i
  [ -e "$file" ] || return 0
  pid=$(cat "$file")
  if kill -TERM "$pid" 2>/dev/null; then
    for ((i = 0; i < 250; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  trap - EXIT
  [ -d "$STACK_DIR" ] || { say "nothing to stop in $STACK_DIR"; return 0; }
  say "stopping the stack in $STACK_DIR"
  stop_pid prometheus
  [ -e "$STACK_DIR/run/nginx.pid" ] && nginx -s quit -c "$STACK_DIR/nginx/nginx.conf" -p "$STACK_DIR/nginx/" 2>/dev/null || true
  stop_pid worker-1
  stop_pid worker-2
  stop_pid gunicorn
  stop_pid emulator
  if [ -e "$STACK_DIR/pg/data/postmaster.pid" ]; then
    as_postgres "'$PG_BIN/pg_ctl' -D '$STACK_DIR/pg/data' -m fast -w stop" >/dev/null || true
  fi
  rm -rf "$STACK_DIR"
  say "down"
}

case "${1:-}" in
  up) up ;;
  smoke) smoke ;;
  down) down ;;
  *) echo "usage: $0 up|smoke|down" >&2; exit 2 ;;
esac
