#!/usr/bin/env bash
# Create .venv and install the pinned dependencies (requirements/lock.txt) and the
# project itself. Idempotent: a stamp of the lock and pyproject skips the work
# when nothing changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"

py="${MFA_PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      py="$cand"; break
    fi
  done
fi
[ -n "$py" ] || mfa_die "Python >= 3.11 is needed (set MFA_PYTHON to its path)"

stamp_want="$(cat "$MFA_REPO/requirements/lock.txt" "$MFA_REPO/pyproject.toml" | sha256sum | cut -c1-16)"
stamp_file="$MFA_VENV/.mfa-stamp"
# One install at a time (scripts run side by side may each ask): a second caller waits, then finds the stamp.
mkdir -p "$MFA_STATE_DIR"
exec 9>"$MFA_STATE_DIR/.bootstrap.lock"
flock 9
if [ -x "$MFA_VENV/bin/python" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp_want" ]; then
  exit 0
fi

mfa_say "installing pinned dependencies into $MFA_VENV"
[ -x "$MFA_VENV/bin/python" ] || "$py" -m venv "$MFA_VENV"
# uv (pinned in the lock) installs the ~200 pins in seconds where pip takes most of a minute; the
# same wheels, the same versions. pip is the fallback where no uv wheel exists for the platform.
# --compile-bytecode as pip does: without the .pyc files every process of the suite (Airflow's
# among them) compiled what it imports again (the fresh-clone suite ran 2.5 min longer).
uv_pin="$(grep -m1 '^uv==' "$MFA_REPO/requirements/lock.txt" || true)"
if [ -n "$uv_pin" ] && "$MFA_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$uv_pin" 2>/dev/null; then
  "$MFA_VENV/bin/uv" pip install --quiet --compile-bytecode --python "$MFA_VENV/bin/python" -r "$MFA_REPO/requirements/lock.txt"
else
  "$MFA_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$MFA_REPO/requirements/lock.txt"
fi
"$MFA_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$MFA_REPO"
echo "$stamp_want" > "$stamp_file"
mfa_say "python environment ready"
