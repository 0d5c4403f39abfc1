#!/usr/bin/env bash
# The main job on the bundled sample: set everything up, run the mfa_archive_ingest
# DAG end to end through Airflow into the local Elasticsearch, then show what is
# in the index and one example query. Safe to run again (same documents, same ids).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$MFA_REPO"

"$MFA_REPO/scripts/bootstrap.sh"
"$MFA_REPO/scripts/es.sh" start
"$MFA_REPO/scripts/airflow.sh" init

log="$MFA_STATE_DIR/logs/demo-airflow.log"
mkdir -p "$(dirname "$log")"
mfa_say "running DAG mfa_archive_ingest on sample/dumps through Airflow (log: $log)"
if ! airflow dags test mfa_archive_ingest --conf "{\"paths\": [\"$MFA_REPO/sample/dumps\"]}" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  mfa_die "the DAG run failed (full log: $log)"
fi
grep -E "state=|DagRun Finished|Marking run" "$log" | tail -n 2 || true

mfa_say "what is in the index: mfa-ingest stats"
mfa-ingest stats
mfa_say "latest transcripts: mfa-ingest search --size 5"
mfa-ingest search --size 5
mfa_say "example query, answers by Sergey Lavrov that mention NATO:"
mfa_say "  mfa-ingest search NATO --speaker 'Sergey Lavrov' --role answer"
mfa-ingest search NATO --speaker "Sergey Lavrov" --role answer --size 3
