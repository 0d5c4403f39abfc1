"""The crawl ledger never drops or freezes a page: a page is done only once Elasticsearch
acknowledged its document; any other outcome leaves it pending with a retry time."""

from __future__ import annotations

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.crawl.state import CrawlState, Status, state_index_for
from pipeline.context import get_profile
from pipeline.store import design
from tests.conftest import assert_accounted


def crawl_settings_for(crawl_settings, **over):
    # retries due at once, so "the next due run" is the next run of the test
    return crawl_settings.model_copy(update={"crawl_retry_schedule": [0.0], **over})


def indexed_urls(es, alias) -> set[str]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["url"])["hits"]["hits"]
    return {h["_source"]["url"] for h in hits}


def ledger(es, settings, target=None) -> dict[str, object]:
    state = CrawlState(es, state_index_for(settings, target or settings.index_alias))
    state.refresh()
    return {doc.url: doc for doc in state.iter_docs()}


def assert_balanced(report):
    assert_accounted(report)


def test_a_crawl_whose_writes_are_blocked_indexes_everything_on_the_next_run(es, settings, replica, crawl_settings):
    """Before: 8 index failures, 8 pages marked done, the next crawl indexed 0 of 8."""
    cs = crawl_settings_for(crawl_settings)
    alias = design.ensure_index(es, cs)
    concrete = design.write_index(es, alias)
    es.indices.put_settings(index=concrete, settings={"index.blocks.write": True})
    try:
        blocked = run_crawl(RunContext.build(cs, get_profile()), index=alias)
    finally:
        es.indices.put_settings(index=concrete, settings={"index.blocks.write": None})
    assert blocked.listed > 0 and blocked.failures_by_stage.get("index") == blocked.listed
    assert_balanced(blocked)
    docs = ledger(es, cs)
    assert {d.status for d in docs.values()} == {Status.FAILED}
    assert all(d.last_kind == "index_failure" and d.attempts == 1 and d.content_sha is None for d in docs.values())

    again = run_crawl(RunContext.build(cs, get_profile()), index=alias)
    assert again.new == blocked.listed and again.failed == 0, again.summary_lines()
    assert_balanced(again)
    assert indexed_urls(es, alias) == {d.url for d in docs.values()}
    assert {d.status for d in ledger(es, cs).values()} == {Status.INDEXED}


def test_a_page_failing_three_times_is_retried_and_indexed_when_it_recovers(es, settings, replica, crawl_settings):
    """Before: after three failures a page was dropped for good."""
    cs = crawl_settings_for(crawl_settings, crawl_max_retries=0)
    victim = replica.live_articles()[0]
    url = replica.article_url(victim)
    path = url.split(replica.base_url, 1)[-1] if url.startswith(replica.base_url) else url.split(replica.archive_url, 1)[-1]
    replica.add_fault("status", match=path, count=3, arg=500)
    for attempt in (1, 2, 3):
        report = run_crawl(RunContext.build(cs, get_profile()))
        assert_balanced(report)
        doc = ledger(es, cs)[url]
        assert doc.status is Status.FAILED and doc.attempts == attempt and "500" in doc.last_reason
        assert url not in indexed_urls(es, cs.index_alias)
    recovered = run_crawl(RunContext.build(cs, get_profile()))
    assert_balanced(recovered)
    assert ledger(es, cs)[url].status is Status.INDEXED
    assert url in indexed_urls(es, cs.index_alias)


def test_a_failed_page_waits_for_its_retry_time(es, settings, replica, crawl_settings):
    cs = crawl_settings_for(crawl_settings, crawl_max_retries=0, crawl_retry_schedule=[3600.0])
    victim = replica.live_articles()[0]
    url = replica.article_url(victim)
    replica.add_fault("status", match=url.rsplit("/", 2)[-2], count=1, arg=500)
    run_crawl(RunContext.build(cs, get_profile()))
    doc = ledger(es, cs)[url]
    assert doc.status is Status.FAILED and doc.next_retry_at > doc.first_seen
    replica.clear_log()
    run_crawl(RunContext.build(cs, get_profile()))
    assert not replica.hits(contains=url.rsplit("/", 2)[-2]), "not due for an hour: not fetched again"
    assert ledger(es, cs)[url].status is Status.FAILED


def test_crawling_into_a_new_index_starts_its_own_ledger(es, settings, replica, crawl_settings):
    """Before: crawl --index fresh indexed nothing, every page was 'done' for another index."""
    cs = crawl_settings_for(crawl_settings)
    first = run_crawl(RunContext.build(cs, get_profile()))
    assert first.new > 0
    fresh = f"{cs.index_alias}-fresh"  # named after the test's alias: its clean-up removes it
    second = run_crawl(RunContext.build(cs, get_profile()), index=fresh)
    assert second.new == first.new, second.summary_lines()
    assert indexed_urls(es, fresh) == indexed_urls(es, cs.index_alias)
    assert es.indices.exists(index=f"{fresh}-v1"), "the new target got the design, not an auto-created index"
    assert es.indices.get_mapping(index=f"{fresh}-v1")[f"{fresh}-v1"]["mappings"]["dynamic"] == "strict"
