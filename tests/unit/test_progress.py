"""pipeline.progress: without a terminal, log lines every N inputs and a last one at the end."""

import io
import logging
import sys

from pipeline.progress import Progress


def test_log_lines_every_n_inputs_and_at_the_end(caplog):
    caplog.set_level(logging.INFO, logger="pipeline.progress")
    with Progress("log", every_items=2, every_seconds=1e9) as progress:
        assert list(progress.track(range(5), "pages", total=5)) == [0, 1, 2, 3, 4]
    lines = [r.getMessage() for r in caplog.records if r.name == "pipeline.progress"]
    assert [line.split(",")[0] for line in lines] == ["pages: 2/5", "pages: 4/5", "pages: 5/5"]
    assert "/s" in lines[0] and "ETA" in lines[0] and lines[-1].endswith("(done)")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wanted_follows_the_flag(monkeypatch):
    assert Progress.wanted(True).mode == "bar"
    assert Progress.wanted(False).mode == "log"
    # unset: a bar only when stderr is a terminal
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert Progress.wanted(None).mode == "bar"
    assert Progress.wanted(False).mode == "log"  # the flag still wins on a terminal
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert Progress.wanted(None).mode == "log"
    assert Progress.wanted(True).mode == "bar"
