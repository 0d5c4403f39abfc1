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


def test_a_run_with_nothing_new_says_so_and_judges_the_last_documents_instead(es, settings, replica):
    """Crawled once with times; then the replica drops its time element and the run brings nothing
    new (the pages answer 304 / the same bytes). The check says it had nothing of this run to
    judge, judges the newest documents of the index instead, and stores no coverage of its own
    that a later comparison would take for a run."""
    from pipeline.store.quality import judge_run

    crawl_settings = settings.model_copy(update=replica_overrides(replica))
    profile = get_profile()
    try:
        since = datetime.now(timezone.utc)
        run_crawl(RunContext.build(crawl_settings, profile), sections=["minister_speeches"])
        first = judge_run(es, crawl_settings, profile, crawl_settings.index_alias, since, "first")
        assert first["judged"].startswith("this run's") and first["sections"]["minister_speeches"]["documents"] == 5
        since = datetime.now(timezone.utc)
        report = run_crawl(RunContext.build(crawl_settings, profile), sections=["minister_speeches"])
        assert report.new + report.updated == 0
        quiet = judge_run(es, crawl_settings, profile, crawl_settings.index_alias, since, "quiet")
        assert quiet["judged"].startswith("nothing new this run"), quiet
        assert f"last {profile.crawl.drift.judge_last}" in quiet["judged"]
        assert quiet["sections"]["minister_speeches"]["documents"] == 5
        assert quiet["alarms"] == []
        es.indices.refresh(index=coverage_index(crawl_settings))
        runs = {h["_source"]["run_id"]: h["_source"] for h in
                es.search(index=coverage_index(crawl_settings), size=100)["hits"]["hits"]}
        assert runs["quiet"].get("fallback") is True and not runs["first"].get("fallback")
    finally:
        es.indices.delete(index=coverage_index(crawl_settings), ignore_unavailable=True)


def test_a_run_with_nothing_new_on_a_fresh_state_is_no_error(es, settings):
    """No coverage index yet and nothing in the window: said, not a 404 from the node."""
    from pipeline.store.quality import judge_run
    from pipeline.store.design import ensure_index

    alias = ensure_index(es, settings)
    try:
        result = judge_run(es, settings, get_profile(), alias, datetime.now(timezone.utc), "empty")
        assert result["judged"].startswith("nothing new this run") and result["sections"] == {}
        assert result["alarms"] == []
    finally:
        es.indices.delete(index=coverage_index(settings), ignore_unavailable=True)
