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

init() {
  # `db migrate` is idempotent but takes seconds; a stamp of the Airflow version skips it.
  local want; want="$(python -c 'import importlib.metadata as m; print(m.version("apache-airflow"))')"
  local stamp="$AIRFLOW_HOME/.mfa-migrated"
  if [ -f "$AIRFLOW_HOME/airflow.db" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  mfa_say "migrating the Airflow metadata database in $AIRFLOW_HOME"
  airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log" >&2; mfa_die "airflow db migrate failed"; }
  echo "$want" > "$stamp"
}

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
