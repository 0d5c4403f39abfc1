"""Crawls of the replica built from the site evidence: every section, both languages, robots, blocked pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.crawl.robots import RobotsTxt
from pipeline.crawl.state import CrawlState
from pipeline.context import get_profile
from mfa_replica.content import today_msk
from mfa_replica.pages import ROBOTS_ARCHIVE, ROBOTS_CURRENT
from tests.integration.test_crawl import nights_later


def stored(es, alias) -> dict[str, dict]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["url", "kind", "published_at", "doc_version", "body",
                                                               "word_count", "doc_number", "language"])
    return {h["_source"]["url"]: h["_source"] for h in hits["hits"]["hits"]}


def assert_robots_honoured(replica) -> None:
    """No request the replica's robots.txt disallows (RFC 9309 wildcards, read with Protego)."""
    rules = {"current": RobotsTxt.parse(replica.robots), "archive": RobotsTxt.parse(replica.archive_robots)}
    bad = [h.path for h in replica.hits() if not rules[h.site].allows(h.path, "mfa-ingest")]
    assert not bad, f"disallowed URLs were requested: {bad}"


def test_the_robots_txt_served_uses_rfc9309_wildcards():
    current, archive = RobotsTxt.parse(ROBOTS_CURRENT), RobotsTxt.parse(ROBOTS_ARCHIVE)
    assert not current.allows("/en/foreign_policy/news/?PAGEN_1=2", "x")
    assert current.allows("/en/foreign_policy/news/?activeFrom=01.12.2026&activeTo=01.12.2026&PAGEN_1=2", "x")
    assert not archive.allows("/en/foreign_policy/news/-/asset_publisher/cKNonkJE02Bw/content/id/1?redirect=x", "x")
    assert archive.allows("/en/foreign_policy/news/-/asset_publisher/cKNonkJE02Bw/content/id/1", "x")


def test_nightly_crawl_indexes_every_section_in_both_languages_once(es, crawl_settings, replica):
    """The listing as the evidence shows it is read (the old profile listed 0 and reported success)."""
    report = run_crawl(RunContext.build(crawl_settings, get_profile()))
    docs = stored(es, crawl_settings.index_alias)
    expected = {replica.article_url(a): a for a in replica.live_articles() if a.site == "current"}
    assert set(docs) == set(expected) and len(expected) == 17
    assert report.new == 17 and report.failed == 0
    for url, article in expected.items():
        assert docs[url]["kind"] == article.kind, url
        assert docs[url]["published_at"].startswith(article.published.strftime("%Y-%m-%dT%H:%M")), url
        assert docs[url]["language"] == article.language
    assert {d["kind"] for d in docs.values()} == {"speech", "briefing", "answer", "comment", "statement", "news"}
    # The accreditation notice in the news listing is not a transcript and was never fetched.
    assert not replica.hits(contains="/1786499/")
    # The briefing: its table of contents and "Back to contents" links are not speech.
    briefing = docs[replica.base_url + "/en/press_service/spokesman/briefings/1787001/"]["body"]
    assert "Table of contents" not in briefing and "Back to contents" not in briefing
    assert "Maria Zakharova: We are open to dialogue" in briefing
    assert_robots_honoured(replica)
    assert not replica.hits(contains="PAGEN"), "nightly reads first pages and feeds only"
    assert replica.hits(contains="/en/rss.php") and replica.hits(contains="/ru/rss.php")


def test_backfill_walks_the_date_filtered_listing_by_windows(es, crawl_settings, replica):
    today = today_msk()
    extra = replica.fill_day(today - timedelta(days=3), 23)  # more than a listing page holds (20)
    since, until = today - timedelta(days=4), today - timedelta(days=2)
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), since=since, until=until, sections=["news", "minister_speeches", "answers"])
    docs = stored(es, crawl_settings.index_alias)
    expected = {replica.article_url(a) for a in replica.live_articles()
                if a.section in ("news", "minister_speeches", "answers") and since <= a.published.date() <= until}
    assert set(docs) == expected and report.new == len(expected) >= len(extra) + 3
    listing = [h.path for h in replica.hits() if "activeFrom" in h.path]
    # The range fits one window (the profile's window_days): every listing asks for it whole, once;
    # only the crowded one (its first page full) has a second page.
    window = f"activeFrom={since:%d.%m.%Y}&activeTo={until:%d.%m.%Y}"
    assert listing and all(window in hit for hit in listing)
    assert [h for h in listing if "PAGEN" in h] == [f"/en/foreign_policy/news/?{window}&PAGEN_1=2"]
    assert len(listing) == 3 * 2 + 1
    assert not [h.path for h in replica.hits() if "PAGEN" in h.path and "activeFrom" not in h.path]
    assert_robots_honoured(replica)
    assert not replica.hits(contains="rss.php"), "the feeds are for nightly runs"


def test_a_challenge_on_an_article_a_listing_page_and_the_feed_is_blocked_not_content(es, crawl_settings, replica):
    profile = get_profile()
    settings = crawl_settings.model_copy(update={"crawl_retry_schedule": [0.0]})  # retried by the next run
    run_crawl(RunContext.build(settings, profile), sections=["minister_speeches", "news"], languages=["en"])
    before = stored(es, settings.index_alias)
    edited = replica.edit_article()  # the edit is what the challenge hides
    replica.serve_challenge(edited.path)
    replica.serve_challenge("/en/foreign_policy/news/")  # the listing page (and the news articles under it)
    replica.serve_challenge("/en/rss.php")
    report = run_crawl(nights_later(settings, profile, 1), sections=["minister_speeches", "news"], languages=["en"])

    assert stored(es, settings.index_alias) == before, "a challenge never overwrites or adds"
    assert report.extra["blocked"] >= 3 and report.failed >= 3
    assert all("blocked" in line for line in report.failures)
    blocked_urls = " ".join(report.failures)
    assert edited.path in blocked_urls and "/en/foreign_policy/news/" in blocked_urls and "rss.php" in blocked_urls
    state = CrawlState(es, report.extra["ledger"], identity=get_profile().site.identity)  # keys fold like the crawl's
    (doc,) = state.get_docs([replica.article_url(edited)]).values()
    assert doc.status.value != "indexed" and doc.last_kind == "blocked", "a blocked page is not done"
    walk = state.get_walk("walk-crawl-news-en")
    assert walk is not None and not walk.complete, "a blocked listing is not an empty, finished one"

    # Unblocked, the next run takes the edit.
    replica.clear_faults()
    again = run_crawl(nights_later(settings, profile, 1), sections=["minister_speeches"], languages=["en"])
    assert again.updated == 1 and "blocked" not in again.extra
    assert stored(es, settings.index_alias)[replica.article_url(edited)]["doc_version"] == 2


def test_a_run_dominated_by_challenges_gets_a_verdict_with_a_hint(es, crawl_settings, replica):
    replica.serve_challenge("")
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"], languages=["en"])
    assert report.new == 0 and report.extra["blocked"] >= 1
    verdict = report.extra["verdict"]
    assert verdict.startswith("blocked:") and "User-Agent" in verdict and "try later" in verdict


def test_a_changed_template_is_a_loud_changed_layout_not_an_empty_listing_nor_blocked(es, crawl_settings, replica):
    """``replica --faults template``: the listing has no container and no challenge. The run names
    the class layout_changed and the selector, counts nothing blocked and backs no host off."""
    replica.options.changed_template = True
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"],
                       languages=["en", "ru"])
    assert report.new == 0 and report.failed >= 2
    assert set(report.failures_by_kind) == {"layout_changed"}, report.failures_by_kind
    assert any("listing container" in line and "crawl.layouts.current.container" in line for line in report.failures)
    assert "blocked" not in report.extra and "verdict" not in report.extra  # no "slow down"
    (problem,) = report.crawl_problems()
    assert problem.startswith("layout changed:") and "check-site" in problem, problem


def test_a_host_answering_only_challenges_is_given_up_after_a_few(es, crawl_settings, replica):
    """Every page the challenge: after the profile's ``give_up_after`` challenges in a row the run
    asks that host nothing more (each further page fails as blocked at once), so a blocked night
    is red in seconds, not after hours of doubling waits."""
    replica.serve_challenge("/en/")
    replica.serve_challenge("/ru/")
    profile = get_profile()
    report = run_crawl(RunContext.build(crawl_settings, profile))  # every section, both languages, the feeds
    asked = [h for h in replica.hits() if h.site == "current" and h.path != "/robots.txt"]
    assert len(asked) == profile.crawl.blocked.give_up_after, [h.path for h in asked]
    assert report.failures_by_kind.get("blocked", 0) > len(asked)  # the rest failed without a request
    assert any("not asked" in line for line in report.failures)


def test_a_challenge_in_place_of_robots_txt_blocks_the_host_and_the_run_says_so(es, crawl_settings, replica):
    """robots.txt answered with the F5/TSPD challenge is not "no rules": nothing else of the
    site is fetched, every page is counted blocked, and the report and the exit say blocked."""
    replica.serve_challenge("/robots.txt")
    settings = crawl_settings.model_copy(update={"crawl_backoff_max": 30.0})  # the challenge is not asked again
    report = run_crawl(RunContext.build(settings, get_profile()), sections=["minister_speeches"], languages=["en"])

    assert [h.path for h in replica.hits()] == ["/robots.txt"], "nothing but robots.txt was requested"
    assert report.new == 0 and stored(es, settings.index_alias) == {}
    assert report.extra["blocked"] >= 2 and report.failed >= 2  # the listing page and the feed
    assert all("blocked" in line and "robots.txt" in line for line in report.failures)
    assert report.extra["verdict"].startswith("blocked:")
    problems = report.crawl_problems()
    assert any(p.startswith("blocked:") for p in problems), problems
    assert not any(p.startswith("nothing listed") for p in problems)


@pytest.mark.parametrize("language, topic, said", [
    ("en", "On the situation in the Middle East", "We call on all the parties to show restraint"),
    ("ru", "О ситуации на Ближнем Востоке", "Мы призываем все стороны к сдержанности"),
])
def test_a_briefings_topics_title_its_turns_in_the_index(es, crawl_settings, replica, language, topic, said):
    """The briefing crawled in one language: the nested turns carry their topic heading, which
    a nested query finds with the turn's speech; the heading itself is not in the body."""
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["briefings"], languages=[language])
    assert report.new == 1 and report.failed == 0
    es.indices.refresh(index=crawl_settings.index_alias)
    hits = es.search(index=crawl_settings.index_alias, source_includes=["url", "body"], query={"nested": {
        "path": "turns", "query": {"term": {"turns.topic.keyword": topic}}, "inner_hits": {}}})["hits"]["hits"]
    assert [h["_source"]["url"] for h in hits] == [
        replica.base_url + f"/{language}/press_service/spokesman/briefings/1787001/"]
    (turn,) = [t["_source"] for t in hits[0]["inner_hits"]["turns"]["hits"]["hits"]]
    assert turn["text"].startswith(said) and turn["topic"] == topic and turn["speaker_id"] == "zakharova-m"
    assert topic not in hits[0]["_source"]["body"] and said in hits[0]["_source"]["body"]


def _version_hits(replica, ident: int, language: str) -> list[str]:
    """Requests that asked for one language version of an item: its own path or ``?lang=``."""
    return [h.path for h in replica.hits() if f"/{ident}/" in h.path
            and ((f"lang={language}" in h.path) or (h.path.startswith(f"/{language}/") and "lang=" not in h.path))]


def test_a_version_only_the_articles_language_links_reach_is_discovered_and_fetched_once(es, crawl_settings, replica):
    """The Russian version of 1785002 is served but in no listing; the English page lists it
    (``?lang=ru``). A nightly crawl of the section finds it there and indexes it once; 1785003,
    listed in both languages and linked both ways, is still fetched once per language."""
    replica.unlist("/ru/press_service/minister_speeches/1785002/")
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"])
    docs = stored(es, crawl_settings.index_alias)
    base = replica.base_url + "/{}/press_service/minister_speeches/{}/"
    assert set(docs) == {base.format("en", 1785001), base.format("en", 1785002), base.format("en", 1785003),
                         base.format("en", 1785002) + "?lang=ru", base.format("ru", 1785003)}
    found = docs[base.format("en", 1785002) + "?lang=ru"]
    assert found["language"] == "ru" and "Вчера и сегодня мы провели подробные переговоры" in found["body"]
    assert report.new == 5 and report.failed == 0
    for ident, language in ((1785002, "ru"), (1785002, "en"), (1785003, "ru"), (1785003, "en")):
        assert len(_version_hits(replica, ident, language)) == 1, (ident, language, replica.hits(contains=str(ident)))
    assert not _version_hits(replica, 1785001, "ru"), "a language the page does not list is not asked for"
    assert_robots_honoured(replica)


def _ledger(es, report):
    return list(CrawlState(es, report.extra["ledger"], identity=get_profile().site.identity).iter_docs())


def test_language_links_keep_to_the_runs_languages(es, crawl_settings, replica):
    replica.unlist("/ru/press_service/minister_speeches/1785002/")
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"], languages=["en"])
    assert not [h.path for h in replica.hits() if "lang=ru" in h.path or h.path.startswith("/ru/")]
    assert {d["language"] for d in stored(es, crawl_settings.index_alias).values()} == {"en"}
    assert {d.language for d in _ledger(es, report)} == {"en"}, "nothing queued in a language the run leaves out"


def test_language_links_keep_to_robots_txt(es, crawl_settings, replica):
    replica.unlist("/ru/press_service/minister_speeches/1785002/")
    replica.robots = ROBOTS_CURRENT + "Disallow: /*?lang=\n"
    report = run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"])
    assert not replica.hits(contains="lang="), "robots.txt forbids ?lang= links: none is asked"
    assert report.failed == 0, "a link robots.txt forbids is not queued, so it is no failure either"
    assert not [u for d in _ledger(es, report) for u in d.urls if "lang=" in u]
    assert len(stored(es, crawl_settings.index_alias)) == 4  # 1785002 in Russian is out of reach
