#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs all of it.
# Usage: bash tests/run_all.sh [extra pytest args]
# In CI (CI=true) a test that would skip for want of Chromium, PostgreSQL or Node fails
# instead (tests/conftest.py), so a green CI has run every test. A PostgreSQL cluster this
# script starts is stopped again when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)  # makes the HLS stream of the streaming browser test
# ImageMagick 6 by its own name: a `convert` of something else may be on PATH.
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)  # the deploy stack test (deploy/local-stack.sh)
command -v convert-im6.q16 >/dev/null 2>&1 || need_apt+=(imagemagick)  # scripts/make_sample_media.py draws with it
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)  # promtool checks the /metrics output
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${need_apt[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "!! ${need_apt[*]} missing and cannot be installed (need root + apt); CI must run every test" >&2
    exit 1
  else
    echo "!! ${need_apt[*]} missing and cannot be installed (need root + apt): those tests will skip"
  fi
fi

echo "== installing the project and its test dependencies"
pip_log=$(mktemp)
if ! python3 -m pip install -q --disable-pip-version-check -e '.[test]' >"$pip_log" 2>&1; then
  cat "$pip_log" >&2
  echo "!! pip could not install the project and its test dependencies" >&2
  exit 1
fi
grep -v -e "^WARNING: Location" -e "Running pip as the 'root' user" "$pip_log" || true
rm -f "$pip_log"

if [ -f package-lock.json ]; then
  echo "== installing the HubL parser (npm)"
  npm ci --no-audit --no-fund --loglevel=error
fi

started_cluster=""
stop_started_cluster() {
  if [ -n "$started_cluster" ]; then
    echo "== stopping the PostgreSQL cluster this script started ($started_cluster)"
    # shellcheck disable=SC2086  # "version cluster" is two arguments
    pg_ctlcluster $started_cluster stop || true
  fi
}
trap stop_started_cluster EXIT
trap 'exit 130' INT TERM

if [ -z "${OEMBED_TEST_POSTGRES_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if [ -z "$(pg_lsclusters --no-header)" ]; then
    # A postgresql install may leave no cluster (e.g. a container without its post-install step).
    pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main >/dev/null
  fi
  read -r pg_version pg_cluster _ pg_status _ < <(pg_lsclusters --no-header | head -n 1)
  if [ "$pg_status" != online ]; then
    echo "== starting PostgreSQL $pg_version/$pg_cluster"
    pg_ctlcluster "$pg_version" "$pg_cluster" start
    started_cluster="$pg_version $pg_cluster"
  fi
  pg_port=$(pg_lsclusters --no-header | awk -v v="$pg_version" -v c="$pg_cluster" '$1==v && $2==c {print $3}')
  su postgres -c "psql -q -p $pg_port" <<'SQL'
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'oembed_test') THEN
    CREATE ROLE oembed_test LOGIN PASSWORD 'oembed_test';
  END IF;
END$$;
SQL
  su postgres -c "psql -p $pg_port -tAc \"SELECT 1 FROM pg_database WHERE datname = 'oembed_test'\"" | grep -q 1 \
    || su postgres -c "createdb -p $pg_port -O oembed_test oembed_test"
  # A database left by an earlier setup may belong to another role; tests create schemas in it.
  su postgres -c "psql -q -p $pg_port -c 'ALTER DATABASE oembed_test OWNER TO oembed_test'"
  export OEMBED_TEST_POSTGRES_URL="postgresql://oembed_test:oembed_test@127.0.0.1:${pg_port}/oembed_test"
fi

echo "== checking the layers, lint and types"
# All three run, so one CI run names every problem; any failure fails the script.
# importlinter.cli is what the lint-imports command runs, called through python3 like pytest.
checks_failed=()
run_check() {
  local name=$1 output
  shift
  if output=$("$@" 2>&1); then
    echo "$name: ${output##*$'\n'}"
  else
    printf '%s\n' "$output" >&2
    checks_failed+=("$name")
  fi
}
run_check lint-imports python3 -c 'from importlinter.cli import lint_imports_command; lint_imports_command()'
run_check "ruff check" python3 -m ruff check .
run_check mypy python3 -m mypy
if ((${#checks_failed[@]})); then
  echo "!! failed: ${checks_failed[*]} (output above)" >&2
  exit 1
fi

echo "== running the test suite"
# Not exec: the EXIT trap must still stop the cluster started above.
status=0
python3 -m pytest -n 2 "$@" || status=$?
exit "$status"
