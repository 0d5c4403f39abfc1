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

# The set-up steps that need nothing of each other run side by side (the Python environment, the
# node's download and plugin build (Maven), pywb's own venv); each is quick when already done.
"$MFA_REPO/scripts/es.sh" install & es_install=$!
"$MFA_REPO/scripts/pywb.sh" >/dev/null & pywb=$!  # the web-archive tests' pywb, in its own venv
"$MFA_REPO/scripts/bootstrap.sh"
wait "$es_install" || mfa_die "scripts/es.sh install failed"
wait "$pywb" || mfa_die "scripts/pywb.sh failed"
started_es=0
if ! "$MFA_REPO/scripts/es.sh" status >/dev/null 2>&1; then
  "$MFA_REPO/scripts/es.sh" start
  started_es=1
fi
cleanup() { if [ "$started_es" = 1 ] && [ -z "${MFA_KEEP_ES:-}" ]; then "$MFA_REPO/scripts/es.sh" stop || true; fi; }
trap cleanup EXIT
"$MFA_REPO/scripts/airflow.sh" init

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
