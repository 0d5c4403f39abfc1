"""Backfill discovery by adaptive date windows (issue 25) against the replica and the real node.

The bench scenario (tests/replica/plugin.py ``fill_busy_days``): three days of 45 extra
items in one listing, a 10-day backfill of every section in both languages. Day-by-day
listing sent 2.14 requests per indexed transcript there; windows must stay at or under 1.25
and index exactly the transcripts the range holds.
"""

from __future__ import annotations

from datetime import timedelta

from pipeline.context import RunContext, get_profile
from pipeline.crawl.crawler import run_crawl
from pipeline.crawl.state import CrawlState, state_index_for
from mfa_replica.server import ARCHIVE_LISTINGS, LISTING_PATHS
from tests.integration.test_crawl import nights_later, stored
from tests.replica.plugin import BUSY_DAYS, fill_busy_days


def listing_hits(replica):
    return [h for h in replica.hits() if h.path.split("?")[0] in LISTING_PATHS | ARCHIVE_LISTINGS.keys()]


def in_range(replica, since, until):
    return {replica.article_url(a) for a in replica.live_articles() if since <= a.published.date() <= until}


def test_backfill_by_windows_indexes_the_range_at_most_125_requests_per_transcript(es, crawl_settings, replica):
    since, until = fill_busy_days(replica)
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until)
    docs = stored(es, crawl_settings.index_alias)
    expected = in_range(replica, since, until)
    assert set(docs) == expected and report.new == len(expected) and report.failed == 0
    requests = len(replica.hits())
    assert requests / report.new <= 1.25, f"{requests} requests for {report.new} transcripts"
    # One window per listing, paged only where its pages are full: 7 pages for news/en's 137 items.
    news_en = [h.path for h in listing_hits(replica) if h.path.startswith("/en/foreign_policy/news/")]
    assert len(news_en) == 7 and all("activeFrom=" in p for p in news_en)
    assert report.extra["listing_windows"] == 14


def test_window_split_where_robots_forbids_paging(es, crawl_settings, replica):
    """No paging allowed at all: a full page splits its window at the oldest day it reached; a
    single day that fills a page loses its later items (counted, never silently)."""
    replica.robots = "User-agent: *\nDisallow: /*PAGEN\n"
    since, until = fill_busy_days(replica)
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until,
                       sections=["news"], languages=["en"])
    assert not replica.hits(contains="PAGEN")
    # [since, today] split at the first busy day its full page reached; that day alone fills a
    # page (truncated), the window before it splits at the next busy day, and so on: 7 windows.
    assert len(listing_hits(replica)) == 7
    assert report.extra["listing_truncated"] == 3
    busy = [until - timedelta(days=ago) for ago in BUSY_DAYS]
    beyond = {replica.article_url(a) for day in busy  # what a busy day's first page does not show
              for a in replica.listing("current", "/en/foreign_policy/news/", day, day)[20:]}
    expected = {u for u in in_range(replica, since, until) if "/en/foreign_policy/news/" in u}
    docs = stored(es, crawl_settings.index_alias)
    assert beyond and set(docs) == expected - beyond and report.new == len(docs)


def test_resumed_backfill_does_not_list_finished_windows_again(es, crawl_settings, replica):
    """A run killed after its listing: the windows' cursor is in the ledger, so the run carried on
    lists nothing it listed already, and fetches what it had not."""
    since, until = fill_busy_days(replica)
    crawl_settings = crawl_settings.model_copy(update={"crawl_retry_schedule": [0.0]})  # failed: due at once
    ctx = RunContext.build(crawl_settings, get_profile())
    replica.add_fault("status", match="/1800", count=10_000, arg=404)  # the busy days' articles fail
    first = run_crawl(ctx, since=since, until=until, sections=["news"], languages=["en"])
    assert first.failed == 3 * 45
    state = CrawlState(ctx.es, state_index_for(crawl_settings, crawl_settings.index_alias))
    key = f"run-backfill-{since}-{until}"
    state.put_run(key, state.get_run(key).model_copy(update={"finished": False}))  # as if killed
    replica.clear_faults()
    replica.clear_log()
    second = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until,
                       sections=["news"], languages=["en"])
    assert second.extra.get("resumed") == 1 and second.new == 3 * 45
    assert not listing_hits(replica)
    expected = {u for u in in_range(replica, since, until) if "/en/foreign_policy/news/" in u}
    assert set(stored(es, crawl_settings.index_alias)) == expected


def test_estimate_is_within_ten_percent_of_the_following_runs_requests(es, crawl_settings, replica):
    """``crawl --estimate`` lists (windows, feeds) but fetches no article and writes nothing; the
    backfill and the nightly after it send within 10% of what it said."""
    from pipeline.crawl.estimate import estimate_crawl

    since, until = fill_busy_days(replica)
    # A backfill, then nightlies over its ledger: right after it, and two nights later, when the
    # revisit policy schedules conditional GETs (the estimate counts the same ones).
    for dates, n in (({"since": since, "until": until}, 0), ({}, 0), ({}, 2)):
        replica.clear_log()
        estimate = estimate_crawl(nights_later(crawl_settings, get_profile(), n), **dates)
        assert not [h for h in replica.hits() if h.path.split("?")[0] not in
                    LISTING_PATHS | ARCHIVE_LISTINGS.keys() and h.path != "/robots.txt" and "rss.php" not in h.path]
        replica.clear_log()
        report = run_crawl(nights_later(crawl_settings, get_profile(), n), **dates)
        actual = len(replica.hits())
        print(f"\n{'backfill' if dates else f'nightly +{n}'}: {estimate.line()}; the run sent {actual}")
        assert abs(estimate.requests - actual) <= 0.1 * actual, (estimate, actual)
        assert estimate.revalidations == report.revalidations_scheduled
        assert estimate.seconds >= estimate.requests / crawl_settings.crawl_rate_per_host / 2  # two hosts
    assert report.revalidations_scheduled > 0


def test_a_backfill_run_again_fetches_no_indexed_page_and_counts_each_as_settled(es, crawl_settings, replica):
    """A date-range backfill run again over the same range (the DAG run twice, a retry after
    success) fetches no article it indexed, and counts each listed one as settled by an earlier
    run (``not_modified``, as the web-archive backfill does), so the run is done, not "nothing"."""
    since, until = fill_busy_days(replica)
    first = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until,
                      sections=["news"], languages=["en"])
    assert first.new > 0 and first.failed == 0
    replica.clear_log()
    again = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until,
                      sections=["news"], languages=["en"])
    articles = [h for h in replica.hits() if h.path.split("?")[0] not in LISTING_PATHS | ARCHIVE_LISTINGS.keys()
                and h.path != "/robots.txt" and "rss.php" not in h.path]
    assert not articles, f"{len(articles)} indexed pages fetched again"
    assert again.read == 0 and again.listed == first.listed
    assert again.not_modified == first.new, "every listed indexed page is counted once"
