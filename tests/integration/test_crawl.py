"""The crawler end to end: replica -> fetch -> extract -> the real Elasticsearch node."""

from __future__ import annotations

import re

from datetime import timedelta

from pipeline.context import RunContext, shifted_clock
from pipeline.crawl.crawler import run_crawl
from pipeline.crawl.state import CrawlState, Status
from pipeline.context import get_profile
from tests.rates import assert_rate

ARTICLE_PATH = re.compile(r"/\d+/$|/content/id/\d+$")


def stored(es, alias) -> dict[str, dict]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["url", "content_hash", "doc_version", "body"])
    return {h["_source"]["url"]: {**h["_source"], "_id": h["_id"]} for h in hits["hits"]["hits"]}


def article_hits(replica):
    return [h for h in replica.hits() if ARTICLE_PATH.search(h.path.split("?")[0])]


def nights_later(settings, profile, n: int) -> RunContext:
    """The context of a run ``n`` nights from now (the revisit policy schedules by the run's clock)."""
    return RunContext.build(settings, profile, clock=shifted_clock(timedelta(days=n)))


def nightly_articles(replica):
    """What a nightly run indexes: the current site's transcripts (the archive portal is backfill-only)."""
    return [a for a in replica.live_articles() if a.site == "current"]


def test_first_crawl_indexes_every_document_and_second_only_revalidates(es, crawl_settings, replica):
    profile = get_profile()
    first = run_crawl(RunContext.build(crawl_settings, profile))
    live = nightly_articles(replica)
    docs = stored(es, crawl_settings.index_alias)
    assert set(docs) == {replica.article_url(a) for a in live}
    assert first.new == len(live) == 17 and first.failed == 0
    assert first.listed == len(live)
    assert {d["doc_version"] for d in docs.values()} == {1}
    assert first.extra["warc_files"] >= 1

    replica.clear_log()
    # Three nights later every item's first interval has passed (crawl.revisit: the oldest, 9 days, waits 2.25).
    second = run_crawl(nights_later(crawl_settings, profile, 3))
    assert (second.new, second.updated, second.failed, second.read) == (0, 0, 0, 0)
    # Articles: conditional requests only, all answered 304; archive (frozen) pages are not asked at all.
    hits = article_hits(replica)
    assert hits and {h.status for h in hits} == {304}
    assert all("if-none-match" in h.headers for h in hits)
    assert {h.site for h in hits} == {"current"}
    assert second.not_modified == len(hits) == second.revalidations_sent == 17
    # Everything else fetched is a first listing page, a feed or robots.txt.
    others = [h for h in replica.hits() if h not in hits]
    assert all(h.status == 200 for h in others)
    assert all(h.path.endswith(("/", "rss.php", "robots.txt")) and "?" not in h.path for h in others)
    assert stored(es, crawl_settings.index_alias) == docs


def test_added_and_edited_articles_are_exactly_what_the_next_crawl_picks_up(es, crawl_settings, replica):
    profile = get_profile()
    run_crawl(RunContext.build(crawl_settings, profile))
    added = replica.add_article()
    edited = replica.edit_article()  # today's transcript: checked the next night
    replica.clear_log()
    report = run_crawl(nights_later(crawl_settings, profile, 1))
    assert (report.new, report.updated, report.failed) == (1, 1, 0)
    assert report.revalidation_edits == 1
    fetched = {h.path for h in article_hits(replica) if h.status == 200}
    assert fetched == {added.path, edited.path}
    docs = stored(es, crawl_settings.index_alias)
    edited_doc = docs[replica.article_url(edited)]
    assert edited_doc["doc_version"] == 2
    assert "follow-up meeting" in edited_doc["body"]
    assert docs[replica.article_url(added)]["doc_version"] == 1
    assert len(docs) == 18


def test_nightly_crawl_reads_first_listing_pages_only(es, crawl_settings, replica):
    """robots.txt is claimed to forbid ?PAGEN paging: nightly takes page 1 and the feeds, never page 2."""
    replica.page_size = 2
    profile = get_profile()
    run_crawl(RunContext.build(crawl_settings, profile), sections=["minister_speeches"], languages=["en"])
    replica.add_article()
    replica.clear_log()
    report = run_crawl(RunContext.build(crawl_settings, profile), sections=["minister_speeches"], languages=["en"])
    assert report.new == 1
    listing_pages = [h.path for h in replica.hits() if "minister_speeches/?" in h.path or h.path.endswith("speeches/")]
    assert listing_pages == ["/en/press_service/minister_speeches/"]


def test_backfill_range_takes_only_documents_in_range(es, crawl_settings, replica):
    from datetime import timedelta

    from mfa_replica.content import today_msk

    since, until = today_msk() - timedelta(days=5), today_msk() - timedelta(days=1)
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until)
    docs = stored(es, crawl_settings.index_alias)
    expected = {replica.article_url(a) for a in replica.live_articles() if since <= a.published.date() <= until}
    assert set(docs) == expected and report.new == len(expected) == 14
    assert not replica.hits(contains="rss.php"), "the feed is for nightly runs"


def test_faults_every_document_indexed_once_retries_counted(es, crawl_settings, replica):
    from mfa_replica.content import CURRENT_EN, CURRENT_RU

    replica.add_fault("status", CURRENT_EN + "1785002/", count=2, arg=503)
    replica.add_fault("status", "/ru/foreign_policy/news/", count=2, arg=500)  # the listing page
    replica.add_fault("retry_after", CURRENT_RU + "1785002/", count=1, arg=1)
    replica.add_fault("slow", CURRENT_EN + "1785003/", count=1, arg=2.5)
    replica.add_fault("truncate", "/en/press_service/spokesman/briefings/1787001/", count=1)
    offsite = replica.add_offsite_redirect()
    gone = replica.remove_article(CURRENT_RU + "1785003/")
    report = run_crawl(RunContext.build(crawl_settings, get_profile()))

    live = nightly_articles(replica)
    docs = stored(es, crawl_settings.index_alias)
    assert set(docs) == {replica.article_url(a) for a in live} and len(live) == 16
    assert report.new == 16 and report.updated == 0
    assert {d["doc_version"] for d in docs.values()} == {1}
    assert report.retries == 2 + 2 + 1 + 1 + 1
    assert report.failed == 2
    assert any(offsite in line and "offsite.invalid" in line and "refused" in line for line in report.failures)
    assert any(replica.article_url(gone) in line and "404" in line for line in report.failures)


def test_request_rate_never_exceeds_the_limit(es, crawl_settings, replica):
    # 20 a second, which assert_rate's tolerance is sized for (the replica's default is faster)
    crawl_settings = crawl_settings.model_copy(update={"crawl_rate_per_host": 20.0})
    replica.add_fault("status", "1785002", count=2, arg=503)  # retries count against the limit too
    run_crawl(RunContext.build(crawl_settings, get_profile()))
    assert_rate([h.at for h in replica.hits()], crawl_settings.crawl_rate_per_host)

    replica.clear_log()
    slow = crawl_settings.model_copy(update={"crawl_rate_per_host": 2.0, "crawl_concurrency": 3})
    run_crawl(RunContext.build(slow, get_profile()), sections=["archive_minister_speeches"], languages=["en"], index=None)
    hits = replica.hits()
    assert len(hits) >= 4  # robots.txt, listing pages
    assert_rate([h.at for h in hits], 2.0)


def test_state_lives_in_elasticsearch(es, crawl_settings, replica):
    run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"], languages=["ru"])
    state = CrawlState(es, crawl_settings.state_index)
    docs = list(state.iter_docs())
    assert {d.status for d in docs} == {Status.INDEXED} and len(docs) == 2
    assert all(d.etag and d.last_modified and d.content_sha for d in docs)


def test_nightly_dag_style_run_with_a_lookback_since(es, crawl_settings, replica):
    """The nightly DAG passes since=<look-back day>: the walk ends at older pages, the feed is read."""
    from datetime import timedelta

    from mfa_replica.content import today_msk

    profile = get_profile()
    run_crawl(RunContext.build(crawl_settings, profile))
    added = replica.add_article()
    replica.clear_log()
    since = today_msk() - timedelta(days=1)
    report = run_crawl(nights_later(crawl_settings, profile, 1), since=since)
    assert report.new == 1 and report.updated == 0
    assert replica.hits(contains="rss.php")
    assert not [h for h in replica.hits() if "PAGEN" in h.path and "activeFrom" not in h.path]
    rechecked = {h.path for h in article_hits(replica) if h.status == 304}
    # The revisit policy's due items, listed in the look-back or not: the fresh ones in range among them.
    known_in_range = {a.path for a in nightly_articles(replica) if a.published.date() >= since} - {added.path}
    assert known_in_range <= rechecked and len(known_in_range) == 5
    assert len(rechecked) == report.revalidations_sent


def test_a_page_that_disappears_is_reported_once_and_left_alone(es, crawl_settings, replica):
    profile = get_profile()
    run_crawl(RunContext.build(crawl_settings, profile))
    gone = replica.remove_article()  # 3 days old: checked the next night
    report = run_crawl(nights_later(crawl_settings, profile, 1))
    assert report.failed == 1 and "404" in report.failures[0] and replica.article_url(gone) in report.failures[0]
    assert replica.article_url(gone) in stored(es, crawl_settings.index_alias), "the indexed copy is kept"
    replica.clear_log()
    again = run_crawl(nights_later(crawl_settings, profile, 1))  # the same night: its retry is not due
    assert again.failed == 0
    assert not replica.hits(contains=gone.path)


def test_each_fetched_page_is_parsed_once(es, crawl_settings, replica, monkeypatch):
    """The blocked check, the language links and extraction share one parse of a page: every
    body reaches libxml2's HTML parser once (issue 21: it was three times for an article)."""
    from lxml import etree

    parsed: list[str] = []  # list.append is atomic: the fetch threads call it concurrently
    real = etree.fromstring

    def counting(text, *args, **kwargs):
        parsed.append(text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(etree, "fromstring", counting)
    report = run_crawl(RunContext.build(crawl_settings, get_profile()))
    assert report.new == len(nightly_articles(replica)) and report.failed == 0
    articles = {h.path for h in article_hits(replica) if h.status == 200}
    assert len(articles) == report.new  # each article fetched once, so each body is distinct
    assert len(set(parsed)) >= len(articles)  # the parser was reached: the count below means something
    twice = {text[:120] for text in parsed if parsed.count(text) > 1}
    assert not twice, f"{len(parsed)} parses of {len(set(parsed))} bodies; parsed again: {sorted(twice)[:3]}"
