"""Template-drift shares against the real node: a share that moves past the profile's threshold is named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.store.quality import coverage_index, drift_alarms, record_coverage
from pipeline.context import get_profile
from tests.replica.plugin import replica_overrides


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


def test_a_template_change_that_forces_the_generic_fallback_raises_a_drift_alarm(es, settings, replica):
    """Crawled twice into two indices: the second time the replica's text block has another class
    (the wrapper and title stay, so the pages are not blocked): every document of the section is
    then read by the generic fallback, the coverage says so and the comparison raises the alarm."""
    crawl_settings = settings.model_copy(update=replica_overrides(replica))
    profile = get_profile()
    try:
        coverage = {}
        for run_id, renamed in (("before", False), ("after", True)):
            replica.options.renamed_text_block = renamed
            since = datetime.now(timezone.utc)
            index = f"{settings.index_alias}-{run_id}"
            report = run_crawl(RunContext.build(crawl_settings, profile), sections=["minister_speeches"], index=index)
            assert report.new == 5 and report.failed == 0, report.failures
            coverage[run_id] = record_coverage(es, crawl_settings, profile, index, since, run_id)
            if run_id == "before":
                assert drift_alarms(es, crawl_settings, profile, run_id) == []  # nothing to compare with yet
        before, after = coverage["before"]["minister_speeches"], coverage["after"]["minister_speeches"]
        assert before["documents"] == after["documents"] == 5
        assert before["shares"]["generic"] == 0.0 and after["shares"]["generic"] == 1.0
        alarms = drift_alarms(es, crawl_settings, profile, "after")
        assert any("minister_speeches: read by the generic fallback on 100% of 5 documents" in a for a in alarms), alarms
    finally:
        es.indices.delete(index=coverage_index(crawl_settings), ignore_unavailable=True)
