"""check-site against the replica: exit 0 as it is, exit 1 naming the selector on a changed template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO


def _run(replica, tmp_path, *args):
    host = urlsplit(replica.base_url).netloc  # a private host is allowed on one port (pipeline/crawl/hosts.py)
    env = {**os.environ, "MFA_CRAWL_ALLOWED_PRIVATE_HOSTS": json.dumps([host]), "MFA_CRAWL_RATE_PER_HOST": "50",
           "MFA_STATE_DIR": str(tmp_path), "MFA_CRAWL_PROGRESS": "false"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "check-site", "--base-url", replica.base_url,
                           *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(autouse=True)
def _cli_module():
    # ``python -m pipeline.cli`` needs a __main__; the console script is the same app.
    if not (REPO / "pipeline" / "cli" / "__main__.py").exists():
        pytest.fail("pipeline/cli/__main__.py missing")


def test_check_site_passes_on_the_replica(replica, tmp_path):
    done = _run(replica, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["section", "lang", "items", "art"]
    assert any(line.startswith("briefings") and line.endswith("ok") for line in lines)
    assert "responses saved to" in lines[-1] and ".warc" in lines[-1]
    report = json.loads(_run(replica, tmp_path, "--json", "--section", "news").stdout)
    news = {c["language"]: c for c in report["sections"]}
    # the listing shows the transcript and an accreditation notice; only the transcript is checked
    assert news["en"]["items"] == 2 and news["en"]["found"]["time"] == news["en"]["articles"] == 1


def test_check_site_fails_naming_the_selector_on_a_changed_template(replica, tmp_path):
    replica.options.changed_template = True
    done = _run(replica, tmp_path, "--section", "minister_speeches", "--language", "en")
    assert done.returncode == 1
    assert "ul.announce.announce_articles > li.announce__item" in done.stdout
    assert "FAIL" in done.stdout


def test_check_site_says_blocked_when_robots_txt_is_the_challenge(replica, tmp_path):
    replica.serve_challenge("/robots.txt")
    done = _run(replica, tmp_path, "--section", "news")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "robots.txt" in done.stdout and "blocked" in done.stdout, done.stdout
    assert [h.path for h in replica.hits()] == ["/robots.txt"]


def test_a_healthy_check_prints_no_matched_nothing_noise(replica, tmp_path):
    """Selectors that matched nothing on a section that is ok (optional ones, the other template's)
    explain nothing: the table shows them only for a failing section; --json keeps them all."""
    done = _run(replica, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matched nothing" not in done.stdout, done.stdout
    report = json.loads(_run(replica, tmp_path, "--json", "--section", "minister_speeches").stdout)
    assert any(c["unmatched"] for c in report["sections"])


def test_check_site_fails_when_the_time_is_found_on_no_article(replica, tmp_path):
    """``replica --faults drift``: the time element is gone from every article. The time found on 0 of
    2 articles is a failed check naming the field and its selector, not ok."""
    replica.options.no_time = True
    done = _run(replica, tmp_path, "--section", "minister_speeches", "--language", "en")
    assert done.returncode == 1, done.stdout
    (line,) = [line for line in done.stdout.splitlines() if "problem:" in line]
    assert "time found on 0 of 2 articles" in line and "current.time" in line, line
