"""Listing pages (current layout and old portal), RSS and the date range, against the replica."""

from __future__ import annotations

from datetime import date, datetime

from pipeline.context import RunContext
from pipeline.context import hosts_of
from pipeline.crawl.fetch import Fetcher
from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import MOSCOW, Page
from pipeline.settings import Settings
from pipeline.crawl.listings import (FeedError, ListingEntry, in_range, iter_feeds, iter_listing,
                                       listing_page_url, parse_feed, parse_listing_date)


def fetcher_for(settings, profile):
    return Fetcher(RunContext.build(settings), allowed_hosts=hosts_of([settings.crawl_base_url, settings.crawl_archive_url],
                                               profile.site.hosts))


def walk(settings, section_name, language, **kw):
    profile = get_profile()
    section = profile.crawl.section(section_name)
    with fetcher_for(settings, profile) as fetcher:
        return list(iter_listing(fetcher, RunContext.build(settings, profile), section, language, **kw))


def test_live_defaults_build_the_real_listing_urls():
    profile, settings = get_profile(), Settings()
    crawl = profile.crawl
    speeches, archive = crawl.section("minister_speeches"), crawl.section("archive_minister_speeches")
    assert listing_page_url("https://mid.ru", speeches, crawl.layouts["current"], "en", 1) == \
        "https://mid.ru/en/press_service/minister_speeches/"
    assert listing_page_url("https://mid.ru", speeches, crawl.layouts["current"], "ru", 3) == \
        "https://mid.ru/ru/press_service/minister_speeches/?PAGEN_1=3"
    assert listing_page_url("https://archive.mid.ru", archive, crawl.layouts["archive"], "en", 2) == (
        "https://archive.mid.ru/en/press_service/minister_speeches?p_p_id=101_INSTANCE_7OvQR5KJWVmR"
        "&_101_INSTANCE_7OvQR5KJWVmR_cur=2")
    assert settings.crawl_base_url is None and profile.site.base_url == "https://mid.ru"
    assert crawl.archive_base_url == "https://archive.mid.ru"


def test_current_listing_walks_every_page_with_hints(replica, replica_settings):
    replica.robots = "User-agent: *\nAllow: /\n"  # a robots.txt that allows listing paging
    replica.page_size = 2
    batches = walk(replica_settings, "minister_speeches", "en")
    assert [b.page for b in batches] == [1, 2]
    entries = [e for b in batches for e in b.entries]
    expected = replica.listing("current", "/en/press_service/minister_speeches/")
    assert [e.url for e in entries] == [replica.article_url(a) for a in expected]
    first = entries[0]
    assert first.title == expected[0].title
    assert first.published == expected[0].published.replace(tzinfo=MOSCOW)
    assert first.article_id == "1785001"
    assert first.hints().section == "minister_speeches" and first.hints().language == "en"
    assert first.hints().kind == "speech"
    assert replica.hits(contains="PAGEN_1=2")


def test_listing_entries_as_the_evidence_shows_them(replica, replica_settings):
    """``ul.announce.announce_articles > li.announce__item``, date and time in two spans, per language."""
    en = [e for b in walk(replica_settings, "news", "en") for e in b.entries]
    ru = [e for b in walk(replica_settings, "news", "ru") for e in b.entries]
    expected = {a.path: a for a in replica.live_articles() if a.section == "news"}
    for entry in en + ru:
        article = expected[entry.url.split(replica.base_url)[1]]
        assert entry.published == article.published.replace(tzinfo=MOSCOW)  # "1 December 2026 12:10" / "01.12.2026"
        assert entry.kind == "news"
    # The accreditation notice is listed by the site but is not a transcript.
    assert len(en) == len(ru) == 1 and all("1786499" not in e.url for e in en + ru)


def test_date_filtered_listing_urls_and_windows():
    from pipeline.crawl.listings import window_before

    crawl = get_profile().crawl
    news = crawl.section("news")
    day = (date(2011, 9, 22), date(2011, 9, 22))
    assert listing_page_url("https://mid.ru", news, crawl.layouts["current"], "en", 1, day) == \
        "https://mid.ru/en/foreign_policy/news/?activeFrom=22.09.2011&activeTo=22.09.2011"
    assert listing_page_url("https://mid.ru", news, crawl.layouts["current"], "en", 2, day).endswith(
        "?activeFrom=22.09.2011&activeTo=22.09.2011&PAGEN_1=2")
    assert window_before(date(2024, 3, 3), date(2024, 3, 1), 1) == (date(2024, 3, 3), date(2024, 3, 3))
    assert window_before(date(2024, 3, 10), date(2024, 3, 1), 7) == (date(2024, 3, 4), date(2024, 3, 10))
    assert window_before(date(2024, 3, 3), date(2024, 3, 1), 31) == (date(2024, 3, 1), date(2024, 3, 3))


def test_old_portal_listing_uses_its_page_parameter(replica, replica_settings):
    replica.page_size = 1
    batches = walk(replica_settings, "archive_minister_speeches", "en")
    assert [len(b.entries) for b in batches] == [1, 1]
    assert [h.path for h in replica.hits(site="archive", contains="_cur=2")] == [
        "/en/press_service/minister_speeches?p_p_id=101_INSTANCE_7OvQR5KJWVmR&_101_INSTANCE_7OvQR5KJWVmR_cur=2"]
    assert batches[0].entries[0].article_id == "4141810"
    ru = walk(replica_settings, "archive_minister_speeches", "ru")
    assert ru[0].entries[0].title.startswith("Выступление")


def test_date_range_filters_and_stops_early(replica, replica_settings):
    from datetime import timedelta

    from mfa_replica.content import today_msk

    replica.robots = "User-agent: *\nAllow: /\n"  # a robots.txt that allows listing paging
    today = today_msk()
    batches = walk(replica_settings, "minister_speeches", "en", since=today - timedelta(days=1))
    kept = [e for b in batches for e in b.entries]
    assert [e.published.date() for e in kept] == [today]
    assert sum(b.skipped_out_of_range for b in batches) == 2
    replica.page_size = 1
    replica.clear_log()
    batches = walk(replica_settings, "minister_speeches", "en", since=today - timedelta(days=1), until=today)
    # page 2 holds only an older entry: the walk stops there and never asks for page 3
    assert [b.page for b in batches] == [1, 2]
    assert not replica.hits(contains="PAGEN_1=3")
    replica.page_size = 20
    until = walk(replica_settings, "minister_speeches", "en", until=today - timedelta(days=1))
    assert [e.article_id for b in until for e in b.entries] == ["1785002", "1785003"]


def test_listing_failure_ends_the_walk_with_a_reason(replica, replica_settings):
    replica.robots = "User-agent: *\nAllow: /\n"  # a robots.txt that allows listing paging
    replica.page_size = 2
    replica.add_fault("status", "PAGEN_1=2", count=50, arg=500)
    batches = walk(replica_settings, "minister_speeches", "en")
    assert batches[-1].failure is not None and "500" in batches[-1].failure.reason
    assert len(batches[0].entries) == 2


def test_paging_that_robots_txt_forbids_is_never_requested(replica, replica_settings):
    """The claimed robots.txt (Disallow: /*?PAGEN) the replica serves: the walk ends at page 1."""
    replica.page_size = 2
    batches = walk(replica_settings, "minister_speeches", "en")
    assert [b.page for b in batches] == [1]
    assert not replica.hits(contains="PAGEN_1=")


def test_rss_feed_gives_article_entries(replica, replica_settings):
    profile = get_profile()
    sections = [profile.crawl.section("minister_speeches")]
    with fetcher_for(replica_settings, profile) as fetcher:
        (batch,) = list(iter_feeds(fetcher, RunContext.build(replica_settings, profile), sections, ["en"]))
    assert [e.article_id for e in batch.entries] == ["1785001", "1785002", "1785003"]
    assert batch.entries[0].published == replica.live_articles()[0].published.replace(tzinfo=MOSCOW)
    assert batch.url.endswith("/en/rss.php")


def test_listing_dates_in_russian_and_numeric():
    layout = get_profile().crawl.layouts["current"]
    assert parse_listing_date("01.12.2020 19:32", layout, "en") == datetime(2020, 12, 1, 19, 32, tzinfo=MOSCOW)
    assert parse_listing_date("1 декабря 2020", layout, "ru") == date(2020, 12, 1)
    assert parse_listing_date("1 декабря 2020 19:32", layout, "ru") == datetime(2020, 12, 1, 19, 32, tzinfo=MOSCOW)
    assert parse_listing_date("  ", layout, "en") is None


def test_a_day_only_listing_date_stays_a_day_so_the_page_time_counts():
    layout = get_profile().crawl.layouts["archive"]
    day = parse_listing_date("09.12.2021", layout, "en")
    assert day == date(2021, 12, 9) and not isinstance(day, datetime)
    entry = ListingEntry(url="https://mid.ru/en/foreign_policy/news/1785001/", section="minister_speeches",
                         language="en", layout="archive", published=day)
    assert entry.hints().published == day and not isinstance(entry.hints().published, datetime)
    assert in_range(day, date(2021, 12, 9), date(2021, 12, 9)) and not in_range(day, date(2021, 12, 10), None)
    # The page has no date of its own, only a time line: the day comes from the hint, the time from the page.
    text = ("Foreign Minister Sergey Lavrov's remarks at a news conference\n23:28\n"
            "Sergey Lavrov: Ladies and gentlemen, good afternoon. We have held talks today and discussed many "
            "questions of bilateral relations and the international agenda in great detail.\n\n"
            "Question: What about the situation in the region? Could you comment on the latest developments?\n\n"
            "Sergey Lavrov: We are ready for talks with everyone who is ready for them on an equal basis.\n")
    record = extract_record(Page(source="t", content=text.encode(), url=entry.url, content_type="text/plain",
                                 hints=entry.hints()), get_profile())
    assert record.published_at == datetime(2021, 12, 9, 23, 28, tzinfo=MOSCOW)


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>news</title>
<item><title>Remarks</title><link>https://mid.ru/en/press_service/minister_speeches/1785001/</link>
<pubDate>Thu, 09 Dec 2021 22:30:00 GMT</pubDate></item></channel></rss>"""


def test_rss_dates_are_converted_to_moscow_time_not_stripped():
    sections = [get_profile().crawl.section("minister_speeches")]
    (entry,) = parse_feed(RSS, "https://mid.ru/en/foreign_policy/news/rss/", "en", sections)
    # 22:30 GMT is 01:30 the next day in Moscow: the day counts for the date range too.
    assert entry.published == datetime(2021, 12, 10, 1, 30, tzinfo=MOSCOW)
    assert entry.hints().published == datetime(2021, 12, 10, 1, 30, tzinfo=MOSCOW)
    layout = get_profile().crawl.layouts["current"]
    assert parse_listing_date("Thu, 09 Dec 2021 07:00:00 GMT", layout, "en") == \
        datetime(2021, 12, 9, 10, 0, tzinfo=MOSCOW)


def test_an_empty_or_broken_feed_is_a_failure_not_a_crash():
    sections = [get_profile().crawl.section("minister_speeches")]
    for body in (b"", b"   ", b"\x00\x01 not xml"):
        try:
            parse_feed(body, "https://mid.ru/rss", "en", sections)
        except FeedError as exc:
            assert "not an RSS document" in str(exc)
        else:
            raise AssertionError(f"no FeedError for {body!r}")


def test_iter_feeds_yields_a_source_failure_for_an_empty_feed_body(tmp_path):
    """A real local server answers the feed with 200 and an empty body; the walk goes on with a Failure."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Empty(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        settings = Settings(state_dir=tmp_path, crawl_base_url=base, crawl_archive_url=base,
                            crawl_allowed_private_hosts=[f"127.0.0.1:{server.server_address[1]}"], crawl_rate_per_host=20.0, crawl_progress=False)
        profile = get_profile()
        with fetcher_for(settings, profile) as fetcher:
            batches = list(iter_feeds(fetcher, RunContext.build(settings, profile), [profile.crawl.section("minister_speeches")], ["en"]))
    finally:
        server.shutdown()
        server.server_close()
    assert len(batches) == 1 and batches[0].entries == []
    failure = batches[0].failure
    assert failure is not None and failure.stage == "source" and "not an RSS document" in failure.reason
