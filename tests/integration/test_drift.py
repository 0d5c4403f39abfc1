"""Template-drift shares against the real node: a share that moves past the profile's threshold is named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.crawl.drift import coverage_index, drift_alarms
from pipeline.profile import get_profile


def _store(es, settings, run_id, at, section, documents, time_share):
    es.index(index=coverage_index(settings), id=f"{run_id}-{section}", refresh=True,
             document={"run_id": run_id, "at": at.isoformat(), "section": section, "documents": documents,
                       "shares": {"time": time_share, "place": 1.0, "doc_number": 0.5, "languages": 1.0,
                                  "turns": 1.0}, "mean_paragraphs": 12.0})


def test_a_share_that_falls_past_the_threshold_is_an_alarm(es, settings):
    profile, now = get_profile(), datetime.now(timezone.utc)
    try:
        for day in range(1, 6):
            _store(es, settings, f"old{day}", now - timedelta(days=day), "minister_speeches", 5, 0.95)
        _store(es, settings, "old-out-of-window", now - timedelta(days=45), "minister_speeches", 50, 0.0)
        _store(es, settings, "steady", now, "minister_speeches", 5, 0.9)
        assert drift_alarms(es, settings, profile, "steady", now=now) == []
        _store(es, settings, "drifted", now, "minister_speeches", 5, 0.0)
        (alarm,) = drift_alarms(es, settings, profile, "drifted", now=now)
        assert "minister_speeches" in alarm and "time found on 0%" in alarm and "94%" in alarm  # five runs at 95% and the steady one at 90%
        assert "check-site" in alarm
        _store(es, settings, "tiny", now, "briefings", 1, 0.0)  # too few documents to judge
        assert drift_alarms(es, settings, profile, "tiny", now=now) == []
    finally:
        es.indices.delete(index=coverage_index(settings), ignore_unavailable=True)
