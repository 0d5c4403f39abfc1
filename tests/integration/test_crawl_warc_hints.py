"""Listing hints travel beside the fetch: the crawler pairs them with the exchanges of each
article fetch (redirect hops included) and the WARC keeps them in the MFA-Hints header."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.context import get_profile
from pipeline.model.records import MOSCOW, ListingHints
from mfa_replica.content import CURRENT_EN
from pipeline.sources.warc import HINTS_HEADER


@pytest.fixture
def crawl_settings(crawl_settings):
    # One fetch at a time, so the hops of one redirect chain are neighbours in the WARC.
    return crawl_settings.model_copy(update={"crawl_concurrency": 1, "crawl_rss": False})


def responses(warc_dir) -> list[tuple[str, str, dict | None]]:
    out = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response":
                    raw = rec.rec_headers.get_header(HINTS_HEADER)
                    out.append((rec.rec_headers.get_header("WARC-Target-URI"), rec.http_headers.get_statuscode(),
                                json.loads(raw) if raw else None))
    return out


def test_article_exchanges_carry_their_listing_hints_in_the_warc(es, crawl_settings, replica):
    moved = replica.add_offsite_redirect(replica.base_url + CURRENT_EN + "1785001/")  # a listed URL that moved
    run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"], languages=["en"])
    records = responses(crawl_settings.warc_dir)
    listed = {replica.article_url(a): a for a in replica.listing("current", CURRENT_EN)}
    titles = {url: a.title for url, a in listed.items()}

    for url, status, hints in records:
        if url.endswith(("/robots.txt", "minister_speeches/")) or "PAGEN" in url:
            assert hints is None, url  # listing pages and robots.txt have no hints
    hop = next(i for i, (url, status, _) in enumerate(records) if url == moved)
    direct = [(url, hints) for i, (url, status, hints) in enumerate(records)
              if url in titles and i not in (hop, hop + 1)]
    assert len(direct) == 3 and all(hints and hints["title"] == titles[url] for url, hints in direct)
    for url, hints in direct:  # the header is ListingHints' JSON: the listing's stamp comes back typed
        published = ListingHints.model_validate(hints).published
        assert isinstance(published, datetime) and published == listed[url].published.replace(tzinfo=MOSCOW), (url, hints)

    (_, first_status, first_hints), (target, second_status, second_hints) = records[hop], records[hop + 1]
    assert first_status == "302" and first_hints["title"].startswith("Redirected article")
    assert target.endswith("/1785001/") and second_status == "200"
    assert second_hints == first_hints, "the redirect target's record carries the hints of the URL asked for"
