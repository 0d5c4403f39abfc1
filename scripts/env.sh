# Shared environment for the project's scripts. Source it; it sets no options.
# Everything generated lives under $MFA_STATE_DIR (default: .state/ in the repo).
MFA_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MFA_REPO
export MFA_STATE_DIR="${MFA_STATE_DIR:-$MFA_REPO/.state}"
export MFA_VENV="${MFA_VENV:-$MFA_REPO/.venv}"
export MFA_ES_URL="${MFA_ES_URL:-http://127.0.0.1:9200}"
export MFA_ES_VERSION="${MFA_ES_VERSION:-9.2.0}"
export PATH="$MFA_VENV/bin:$PATH"

# Airflow: SQLite metadata and logs under .state/airflow, our dags/ folder, no examples.
export AIRFLOW_HOME="${AIRFLOW_HOME:-$MFA_STATE_DIR/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$MFA_REPO/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="${AIRFLOW__LOGGING__BASE_LOG_FOLDER:-$AIRFLOW_HOME/logs}"
# Inside Airflow the node's address comes from this connection; outside, from MFA_ES_URL.
export AIRFLOW_CONN_ELASTICSEARCH_DEFAULT="${AIRFLOW_CONN_ELASTICSEARCH_DEFAULT:-$MFA_ES_URL}"

mfa_say() { printf '\033[1m[mfa-ingest]\033[0m %s\n' "$*" >&2; }
mfa_die() { printf '[mfa-ingest] error: %s\n' "$*" >&2; exit 1; }
