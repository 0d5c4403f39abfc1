"""Both plausible forms of each template the evidence leaves open extract to the same record."""

from __future__ import annotations

import pytest

from pipeline.crawl.blocked import check
from pipeline.extract.document import Document, parse_document
from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page
from mfa_replica.content import archive_articles, base_articles
from mfa_replica.pages import CHALLENGE, PageOptions, render_archive_article, render_article


def record(html: str, url: str, encoding: str = "utf-8"):
    return extract_record(Page(source=url, url=url, content=html.encode(encoding),
                               content_type=f"text/html; charset={encoding}"), get_profile())


@pytest.mark.parametrize("article", [a for a in base_articles() if a.section in
                                     ("minister_speeches", "answers", "briefings")], ids=lambda a: a.path)
@pytest.mark.parametrize("date_form", ["text", "element"])
def test_date_and_time_as_a_text_line_or_as_elements(article, date_form):
    """likely: "14.03.2024 13:20" / "14 March 2024 13:20" as text; claimed: .photo-content__date."""
    got = record(render_article(article, PageOptions(date_form=date_form)), "https://mid.ru" + article.path)
    assert got.published_at.strftime("%Y-%m-%d %H:%M") == article.published.strftime("%Y-%m-%d %H:%M")
    assert got.title == article.title and got.doc_number == article.doc_number
    assert got.kind == article.kind and got.languages == article.languages
    assert "Unofficial translation" not in got.body and "Table of contents" not in got.body


def test_without_the_time_element_the_time_is_missing_not_invented():
    article = base_articles()[0]
    got = record(render_article(article, PageOptions(no_time=True)), "https://mid.ru" + article.path)
    assert (got.published_at.hour, got.published_at.minute) == (0, 0)
    assert got.published_at.date() == article.published.date()


@pytest.mark.parametrize("article", archive_articles(), ids=lambda a: a.path.rsplit("/", 1)[-1])
def test_old_portal_pages_including_two_digit_years(article):
    got = record(render_archive_article(article, PageOptions()), "https://archive.mid.ru" + article.path,
                 article.encoding)
    assert got.published_at.strftime("%Y-%m-%d %H:%M") == article.published.strftime("%Y-%m-%d %H:%M")
    assert got.title == article.title and got.doc_number == article.doc_number
    assert set(got.languages) == {"de", "en", "es", "ru", "fr"}


def test_challenge_and_changed_template_are_not_real_pages_but_real_ones_are():
    profile, article = get_profile(), base_articles()[0]

    def blocked(body: str | bytes, kind: str) -> str | None:
        return check(parse_document(body.encode() if isinstance(body, str) else body, None, profile), kind)

    assert blocked(render_article(article, PageOptions()), "article") is None
    assert "TSPD" in blocked(CHALLENGE, "article")
    assert "article container missing" in blocked(render_article(article, PageOptions(changed_template=True)), "article")
    assert blocked(CHALLENGE, "feed") and blocked(b"<?xml version='1.0'?><rss/>", "feed") is None


def test_a_changed_template_is_a_changed_layout_naming_its_selector_and_a_challenge_is_blocked():
    from pipeline.crawl.blocked import problem
    from mfa_replica.pages import render_listing

    profile, article = get_profile(), base_articles()[0]

    def doc(body: str) -> Document:
        return parse_document(body.encode(), None, profile)

    changed = problem(doc(render_article(article, PageOptions(changed_template=True))), "article")
    assert changed.kind == "layout_changed" and "detect" in changed.reason, changed.reason
    layout = profile.crawl.layouts["current"]
    listing = render_listing([article], "en", None, PageOptions(changed_template=True))
    changed = problem(doc(listing), "listing", listing=layout)
    assert changed.kind == "layout_changed"
    assert "crawl.layouts.current.container" in changed.reason and layout.container in changed.reason
    assert problem(doc(CHALLENGE), "listing", listing=layout).kind == "blocked"
    assert problem(doc(render_listing([article], "en", None, PageOptions())), "listing", listing=layout) is None
