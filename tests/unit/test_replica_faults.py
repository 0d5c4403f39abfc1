"""The replica's named fault sets (``mfa-ingest replica --faults``), against a running replica."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from mfa_replica.server import FAULTS, Replica, apply_faults


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_blocked_and_drift_and_template_switch_what_the_pages_are(replica):
    page = replica.base_url + "/en/press_service/minister_speeches/1785001/"
    assert b"photo-content__title" in get(page)[1]
    apply_faults(replica, ["drift"])
    assert b"<span>09:30</span>" not in get(page)[1]
    apply_faults(replica, ["template"])
    assert b"photo-content__title" not in get(page)[1]
    apply_faults(replica, ["blocked"])
    status, body = get(page)
    assert status == 200 and b"/TSPD/" in body and b"Please enable JavaScript" in body


def test_a_500_burst_ends():
    replica = Replica().start()
    try:
        apply_faults(replica, ["500"])
        codes = [get(replica.base_url + "/robots.txt")[0] for _ in range(6)]
        assert codes == [500] * 5 + [200]
    finally:
        replica.stop()


def test_unknown_fault_names_the_valid_ones():
    with pytest.raises(ValueError, match="choose from 500, 429"):
        apply_faults(Replica(), ["nope"])
    result = CliRunner().invoke(app, ["replica", "--faults", "nope"])
    assert result.exit_code != 0 and "choose from" in result.output
    assert set(FAULTS) == {"500", "429", "slow", "down", "blocked", "drift", "template", "edits"}


def test_the_edits_fault_edits_one_transcript_after_another_newest_first():
    replica = Replica(edit_every_s=0.05).start()
    try:
        newest = replica.base_url + "/en/press_service/minister_speeches/1785001/"
        before = get(newest)[1]
        apply_faults(replica, ["edits"])
        deadline = time.monotonic() + 5
        while replica._edits < 2:
            assert time.monotonic() < deadline, "no edit came"
            time.sleep(0.02)
        after = get(newest)[1]
        assert after != before and b"follow-up meeting" in after
    finally:
        replica.stop()
    edited = replica._edits
    time.sleep(0.2)
    assert replica._edits == edited, "a stopped replica edits nothing more"
