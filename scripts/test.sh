#!/usr/bin/env bash
# The whole test suite on a fresh or warm machine: Python env, Elasticsearch and
# Airflow set up as needed, then pytest (extra arguments go to pytest).
# A node this script had to start is stopped again at the end; one that was
# already running is left alone.
# Tests run in MFA_TEST_WORKERS pytest-xdist workers (default 4: most of the suite
# waits on servers, not on the CPU); tests that share a process or port stay in one
# worker (tests/conftest.py, SHARED_MODULES). MFA_TEST_WORKERS=0: one process.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$MFA_REPO"
# The nodes the suite starts (this script's, the secured and private nodes of the tests) compile with the
# JVM's first tier only (C1): a test node's work is short and varied, and the optimizing compiler's own CPU
# did not pay for itself (measured: start 9 -> 5 s of CPU, three integration modules 27 -> 16 s, the same
# tests passing). MFA_ES_JAVA_OPTS set, even empty, is kept. A node already running is used as it is.
export MFA_ES_JAVA_OPTS="${MFA_ES_JAVA_OPTS--XX:TieredStopAtLevel=1}"

# The set-up steps that need nothing of each other run side by side: the node (download, plugin
# build with Maven, and its start when none answers: a JVM, then seconds of waiting for yellow), pywb's
# own venv, and the Python environment followed by Airflow's database; each is quick when already done.
started_es=0 es_job=""
cleanup() {
  [ -z "$es_job" ] || wait "$es_job" 2>/dev/null || true  # a start under way ends first, so that it is stopped
  if [ "$started_es" = 1 ] && [ -z "${MFA_KEEP_ES:-}" ]; then "$MFA_REPO/scripts/es.sh" stop || true; fi
}
trap cleanup EXIT
es_step=install
if ! "$MFA_REPO/scripts/es.sh" status >/dev/null 2>&1; then
  started_es=1 es_step=start  # start installs what is missing first
fi
"$MFA_REPO/scripts/es.sh" "$es_step" & es_job=$!
"$MFA_REPO/scripts/pywb.sh" >/dev/null & pywb=$!  # the web-archive tests' pywb, in its own venv
"$MFA_REPO/scripts/bootstrap.sh"
"$MFA_REPO/scripts/airflow.sh" init
wait "$es_job" || mfa_die "scripts/es.sh $es_step failed"
es_job=""
wait "$pywb" || mfa_die "scripts/pywb.sh failed"

workers="${MFA_TEST_WORKERS:-4}"
parallel=()
if [ "$workers" != 0 ]; then parallel=(-n "$workers" --dist loadgroup); fi

set +e
python -m pytest "${parallel[@]}" "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  mfa_die "pytest collected no tests: that is a failure, not a pass"
fi
exit "$rc"
