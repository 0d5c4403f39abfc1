#!/usr/bin/env bash
# Airflow for local runs and tests: AIRFLOW_HOME in .state/airflow, SQLite metadata,
# dags/ as the DAG folder, no example DAGs (see scripts/env.sh).
#
#   scripts/airflow.sh init          migrate the metadata DB (quick when already done)
#   scripts/airflow.sh test DAG_ID [JSON_CONF]
#                                    run one DAG end to end in-process (`airflow dags test`)
#   scripts/airflow.sh ARGS...       any other airflow command with this environment
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$MFA_REPO/scripts/bootstrap.sh"
mkdir -p "$AIRFLOW_HOME"

init() (
  # `db migrate` and `pools set` are idempotent but take seconds each; a stamp of the
  # Airflow version and the pool skips them when nothing changed. A lock: test workers
  # (pytest-xdist) may ask at once.
  flock 9
  local pool; pool="$(python -c 'import mfa_airflow as m; print(m.INDEX_WRITES_POOL, m.INDEX_WRITES_SLOTS)')"
  local want; want="$(python -c 'import importlib.metadata as m; print(m.version("apache-airflow"))') $pool"
  local stamp="$AIRFLOW_HOME/.mfa-migrated"
  if [ -f "$AIRFLOW_HOME/airflow.db" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  mfa_say "migrating the Airflow metadata database in $AIRFLOW_HOME"
  airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log" >&2; mfa_die "airflow db migrate failed"; }
  # The pool every index-writing task runs in (see mfa_airflow.INDEX_WRITES_POOL).
  # shellcheck disable=SC2086
  airflow pools set $pool "writes to the transcripts index" >>"$AIRFLOW_HOME/db-migrate.log" 2>&1 \
    || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log" >&2; mfa_die "airflow pools set failed"; }
  echo "$want" > "$stamp"
) 9>"$AIRFLOW_HOME/.init.lock"

case "${1:-}" in
  init) init ;;
  test)
    init
    dag_id="${2:?usage: $0 test DAG_ID [JSON_CONF]}"
    conf="${3:-{\}}"
    airflow dags test "$dag_id" --conf "$conf"
    ;;
  *) init; airflow "$@" ;;
esac
