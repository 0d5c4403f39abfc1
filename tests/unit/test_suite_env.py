"""The suite itself: its outcome must not depend on the caller's MFA_* environment.

An operator who exported MFA_CRAWL_BASE_URL (as the replica's banner suggests) or
MFA_INDEX_ALIAS in the shell that runs the tests must get the same results as CI.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

# Tests that read the default settings: the profile's site, the default alias.
READS_DEFAULTS = [
    "tests/unit/test_kibana_objects.py::test_export_has_the_data_view_search_and_dashboard",
    "tests/unit/test_listings.py::test_live_defaults_build_the_real_listing_urls",
]


def callers_env(**extra: str) -> dict[str, str]:
    """This environment as a shell would pass it on: without PYTEST_XDIST_WORKER, the child
    is no worker of this run (it would copy over this worker's Airflow DB)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, **extra}


def test_the_callers_mfa_settings_do_not_reach_the_tests():
    env = callers_env(MFA_CRAWL_BASE_URL="http://127.0.0.1:5999", MFA_INDEX_ALIAS="callers-alias",
                      MFA_CRAWL_RESPECT_ROBOTS="false")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *READS_DEFAULTS], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"{len(READS_DEFAULTS)} passed" in done.stdout


def test_the_node_is_still_the_callers():
    """MFA_ES_URL chooses the node the tests use: it is the one caller variable that stays."""
    env = callers_env(MFA_ES_URL="http://127.0.0.1:5998")
    code = "import tests.conftest, os; print(os.environ['MFA_ES_URL'])"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "http://127.0.0.1:5998"
