#!/usr/bin/env bash
# pywb (the web archive replay and CDX server the archive backfill tests run against) in its
# own virtualenv, $MFA_STATE_DIR/pywb-venv, from requirements/pywb.lock.txt: pywb pins many
# packages of its own that must not meet the project's. Idempotent: a stamp of the lock
# skips the work when nothing changed. Prints the venv's bin folder.
set -euo pipefail
source "$(dirname "$0")/env.sh"

venv="${MFA_PYWB_VENV:-$MFA_STATE_DIR/pywb-venv}"
lock="$MFA_REPO/requirements/pywb.lock.txt"
stamp_want="$(sha256sum < "$lock" | cut -c1-16)"
if [ ! -x "$venv/bin/wayback" ] || [ "$(cat "$venv/.mfa-stamp" 2>/dev/null)" != "$stamp_want" ]; then
  py="${MFA_PYTHON:-}"
  if [ -z "$py" ]; then
    for cand in python3.11 python3.12 python3; do
      if command -v "$cand" >/dev/null; then py="$cand"; break; fi
    done
  fi
  [ -n "$py" ] || mfa_die "no python3 to build the pywb environment with"
  mfa_say "installing pywb into $venv"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
  echo "$stamp_want" > "$venv/.mfa-stamp"
fi
echo "$venv/bin"
